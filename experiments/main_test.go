package experiments_test

import (
	"os"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/internal/supervise"
)

// TestMain lets the test binary serve as the supervisor of the commands
// its tests run, as olc's own executable does.
func TestMain(m *testing.M) {
	supervise.Init()
	// The supervisors are this test binary: built with -race, each would
	// sleep a second at exit (the race detector's atexit_sleep_ms).
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	os.Exit(m.Run())
}
