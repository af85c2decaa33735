//go:build amd64 && !purego

package sgemm

import "golang.org/x/sys/cpu"

func init() {
	if cpu.X86.HasAVX512F {
		available = true
		sgemmKernel = sgemmKernelAsm
		sgemmKernelC = sgemmKernelAsmC
	}
}

//go:noescape
func sgemmKernelAVX512(kc int, ap, bp, out *float32)

// sgemmKernelAsm is the micro-kernel in AVX-512 assembly.
func sgemmKernelAsm(kc int, ap, bp []float32, out *[sgMR * sgNR]float32) {
	_, _ = ap[kc*sgMR-1], bp[kc*sgNR-1] // the kernel reads this far
	sgemmKernelAVX512(kc, &ap[0], &bp[0], &out[0])
}

//go:noescape
func sgemmKernelAVX512C(kc int, ap, bp, c *float32, ldc int, alpha float32)

// sgemmKernelAsmC adds alpha times the tile into c (sgMR rows of sgNR
// values, ldc apart), which must hold them.
func sgemmKernelAsmC(kc int, ap, bp, c []float32, ldc int, alpha float32) {
	_, _, _ = ap[kc*sgMR-1], bp[kc*sgNR-1], c[(sgMR-1)*ldc+sgNR-1]
	sgemmKernelAVX512C(kc, &ap[0], &bp[0], &c[0], ldc, alpha)
}
