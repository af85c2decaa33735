package model

// simdLevel names the vector kernels olc's own Go code runs with.
type simdLevel string

const (
	simdNone   simdLevel = ""
	simdAVX512 simdLevel = "AVX-512"
)

// simd is the level this process runs at, detected at start-up: AVX-512
// on amd64 processors that have it (the kernels in *_amd64.s), none
// elsewhere and with the purego build tag.
var simd = simdNone

// SIMD names the vector kernels of olc's own code (the float32 matrix
// products of the build without OpenBLAS): "AVX-512 (assembly)", or
// "none (scalar Go)" where the processor lacks AVX-512 or the binary was
// built with -tags purego.
func SIMD() string {
	if simd == simdNone {
		return "none (scalar Go)"
	}
	return string(simd) + " (assembly)"
}
