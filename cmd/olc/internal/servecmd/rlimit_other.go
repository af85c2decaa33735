//go:build !unix

package servecmd

// limitMemory does nothing where there are no resource limits; the child
// process still has its timeout.
func limitMemory(uint64) {}
