package model

import "github.com/olc-toolkit/olc/internal/sgemm"

// simdLevel names the vector kernels olc's own Go code runs with.
type simdLevel string

const (
	simdNone   simdLevel = ""
	simdAVX512 simdLevel = "AVX-512"
)

// simd is the level this process runs at, detected at start-up: AVX-512
// on amd64 processors that have it (internal/sgemm's assembly kernel),
// none elsewhere and with the purego build tag.
var simd = func() simdLevel {
	if sgemm.Available() {
		return simdAVX512
	}
	return simdNone
}()

// useVec lets the float32 element-wise kernels (GELU, its derivative, the
// softmax's exponential) hand their vectors to internal/vecmath's AVX-512
// code; tests turn it off to check the scalar code.
var useVec = true

// SIMD names the vector kernels of olc's own code, which run the float32
// matrix products of the build without OpenBLAS: "AVX-512 (assembly)",
// "none (scalar Go)" where the processor lacks AVX-512 or the binary was
// built with -tags purego, and a note that OpenBLAS runs the products
// instead in the openblas build.
func SIMD() string {
	switch {
	case simd == simdNone:
		return "none (scalar Go)"
	case cBLAS:
		return string(simd) + " (assembly; float32 products run in OpenBLAS)"
	}
	return string(simd) + " (assembly, float32 products)"
}
