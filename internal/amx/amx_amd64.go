//go:build amd64 && !purego

package amx

import (
	"syscall"

	"golang.org/x/sys/cpu"
)

// Linux's arch_prctl requests: a process must ask for the AMX tile data
// state before it touches the tiles (Linux 5.16 and later).
const (
	archReqXcompPerm = 0x1023
	xfeatureTileData = 18
)

var available, unavailable = detect()

func detect() (bool, string) {
	if !cpu.X86.HasAMXTile || !cpu.X86.HasAMXBF16 {
		return false, "this processor has no AMX-BF16 tile unit"
	}
	if !cpu.X86.HasAVX512BF16 {
		return false, "this processor has AMX but not AVX512-BF16, which olc's packing uses"
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureTileData, 0); errno != 0 {
		return false, "the kernel refused the AMX tile state (arch_prctl ARCH_REQ_XCOMP_PERM: " + errno.Error() + "; Linux 5.16 or later is needed)"
	}
	return true, ""
}

//go:noescape
func tileKernel(cfg *[64]byte, chunks int, a, b *uint16, c *float32, ldcBytes, blocks int, zero bool, bias *float32, bStrideBytes int)

//go:noescape
func cvtRuns(dst *uint16, dstStep int, src *float32, srcStep, runs int, scatter bool, alpha float32)

//go:noescape
func pairRuns(dst *uint16, dstStep int, lo, hi *float32, srcStep, runs int, scatter bool, alpha float32)

//go:noescape
func transRuns(dst *uint16, src *float32, lda, chunks int, alpha float32)

//go:noescape
func transRunsB(dst *uint16, src *float32, ldb, chunks int)
