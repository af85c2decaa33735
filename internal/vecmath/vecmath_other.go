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
