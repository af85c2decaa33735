package sgemm

import (
	"testing"

	"github.com/olc-toolkit/olc/internal/gemmtest"
)

// TestSgemmSIMD checks the packed matrix product against a float64 triple
// loop for every transposition, alpha and beta, and shapes that are not
// multiples of the micro-kernel's tile or of the packing blocks: with the
// plain-Go micro-kernel everywhere, and with the assembly one where the
// processor has AVX-512 (a visible skip elsewhere).
func TestSgemmSIMD(t *testing.T) {
	asm, asmC := sgemmKernel, sgemmKernelC
	defer func() { sgemmKernel, sgemmKernelC = asm, asmC }()
	t.Run("go", func(t *testing.T) {
		sgemmKernel, sgemmKernelC = sgemmKernelGo, nil
		testSgemm(t)
	})
	t.Run("asm", func(t *testing.T) {
		if !available {
			t.Skip("no AVX-512 here (or -tags purego): the assembly kernel is not run")
		}
		sgemmKernel, sgemmKernelC = asm, asmC
		testSgemm(t)
	})
}

func testSgemm(t *testing.T) {
	gemmtest.Check(t, 7, [][4]int{
		{1, 1, 1, 1}, {5, 31, 3, 1}, {7, 33, 17, 2}, {64, 320, 64, 1}, {97, 2100, 20, 2}, {200, 70, 513, 2}, {13, 64, 1, 2}, {130, 200, 40, 2},
	}, Gemm, nil, 1e-5)
}
