//go:build !amd64 || purego

package amx

const available = false

var unavailable = "AMX needs an amd64 build without the purego tag"

func tileKernel(cfg *[64]byte, chunks int, a, b *uint16, c *float32, ldcBytes, blocks int, zero bool, bias *float32, bStrideBytes int) {
	panic("amx: no tile unit")
}

func cvtRuns(dst *uint16, dstStep int, src *float32, srcStep, runs int, scatter bool, alpha float32) {
	panic("amx: no vector packing")
}

func pairRuns(dst *uint16, dstStep int, lo, hi *float32, srcStep, runs int, scatter bool, alpha float32) {
	panic("amx: no vector packing")
}

func transRuns(dst *uint16, src *float32, lda, chunks int, alpha float32) {
	panic("amx: no vector packing")
}

func transRunsB(dst *uint16, src *float32, ldb, chunks int) {
	panic("amx: no vector packing")
}
