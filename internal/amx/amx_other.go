//go:build !amd64 || purego

package amx

const available = false

var unavailable = "AMX needs an amd64 build without the purego tag"

func tileKernel(cfg *[64]byte, chunks int, a, b *uint16, c *float32, ldcBytes, blocks int, zero bool) {
	panic("amx: no tile unit")
}
