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

//go:noescape
func axpyAVX512(x, y *float32, n int, a float32)

//go:noescape
func mulAVX512(dst, a, b *float32, n int)

//go:noescape
func mulAddAVX512(h, m, rs *float32, n int)

//go:noescape
func sumAVX512(x *float32, n int) float32

//go:noescape
func sumSqDevAVX512(x *float32, n int, mu float32) float32

//go:noescape
func normAVX512(out, x, gamma, b *float32, n int, mu, rs float32)

//go:noescape
func normGradSumsAVX512(x, dy, gamma, pg, pb *float32, n int, mu, rs float32) (s1, s2 float32)

//go:noescape
func normGradOutAVX512(out, x, dy, gamma *float32, n int, mu, rs, c1, c2 float32)
