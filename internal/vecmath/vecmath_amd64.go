//go:build amd64 && !purego

package vecmath

import "golang.org/x/sys/cpu"

var available = cpu.X86.HasAVX512F

//go:noescape
func geluAVX512(dst, src *float32, n int)

//go:noescape
func geluGradAVX512(u, dy *float32, n int)

//go:noescape
func expShiftAVX512(x *float32, n int, mx float32, sums *[16]float32)

func geluKernel(dst, src *float32, n int)                          { geluAVX512(dst, src, n) }
func geluGradKernel(u, dy *float32, n int)                         { geluGradAVX512(u, dy, n) }
func expShiftKernel(x *float32, n int, mx float32, s *[16]float32) { expShiftAVX512(x, n, mx, s) }

//go:noescape
func maxAVX512(x *float32, n int) float32

//go:noescape
func scaleAVX512(x *float32, n int, a float32)

//go:noescape
func dotAVX512(a, b *float32, n int) float32

//go:noescape
func mulSubAVX512(p, dp *float32, n int, s float32)
