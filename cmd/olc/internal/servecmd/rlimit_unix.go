//go:build unix

package servecmd

import "syscall"

// limitMemory caps the process's address space at n bytes: an allocation
// beyond it fails and ends the process.
func limitMemory(n uint64) {
	syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: n, Max: n})
}
