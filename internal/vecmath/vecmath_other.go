//go:build !amd64 || purego

package vecmath

const available = false

func geluKernel(dst, src *float32, n int)                          {}
func geluGradKernel(u, dy *float32, n int)                         {}
func expShiftKernel(x *float32, n int, mx float32, s *[16]float32) {}

func maxAVX512(x *float32, n int) float32           { panic("vecmath: no AVX-512") }
func scaleAVX512(x *float32, n int, a float32)      { panic("vecmath: no AVX-512") }
func dotAVX512(a, b *float32, n int) float32        { panic("vecmath: no AVX-512") }
func mulSubAVX512(p, dp *float32, n int, s float32) { panic("vecmath: no AVX-512") }

func axpyAVX512(x, y *float32, n int, a float32)                  { panic("vecmath: no AVX-512") }
func mulAVX512(dst, a, b *float32, n int)                         { panic("vecmath: no AVX-512") }
func mulAddAVX512(h, m, rs *float32, n int)                       { panic("vecmath: no AVX-512") }
func sumAVX512(x *float32, n int) float32                         { panic("vecmath: no AVX-512") }
func sumSqDevAVX512(x *float32, n int, mu float32) float32        { panic("vecmath: no AVX-512") }
func normAVX512(out, x, gamma, b *float32, n int, mu, rs float32) { panic("vecmath: no AVX-512") }
func normGradSumsAVX512(x, dy, gamma, pg, pb *float32, n int, mu, rs float32) (s1, s2 float32) {
	panic("vecmath: no AVX-512")
}
func normGradOutAVX512(out, x, dy, gamma *float32, n int, mu, rs, c1, c2 float32) {
	panic("vecmath: no AVX-512")
}
