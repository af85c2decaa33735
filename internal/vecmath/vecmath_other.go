//go:build !amd64 || purego

package vecmath

const available = false

func geluKernel(dst, src *float32, n int)                          {}
func geluGradKernel(u, dy *float32, n int)                         {}
func expShiftKernel(x *float32, n int, mx float32, s *[16]float32) {}
