package sqlitestore

import "time"

// SetBusyTimeout shortens SQLite's busy timeout for a test.
func SetBusyTimeout(d time.Duration) (restore func()) {
	old := busyTimeout
	busyTimeout = d
	return func() { busyTimeout = old }
}
