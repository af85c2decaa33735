package model

import (
	"fmt"
	"unsafe"

	"github.com/olc-toolkit/olc/internal/amx"
)

// Precision is the arithmetic of a model's matrix products.
type Precision string

// The precisions: the model's own element type, or bfloat16 products
// summed in float32 on Intel's AMX tile unit (internal/amx) for the
// matrix products (projections, attention scores and outputs,
// feed-forward block, heads, and their gradients) of at least 2 MFLOP
// (bf16MinFLOPs: smaller ones stay float32), with the element-wise work
// (softmax, GELU, LayerNorm), the weights, the gradients and the
// optimizer's state in float32, as PyTorch's autocast to bfloat16 does.
const (
	Float32 Precision = "float32"
	BF16    Precision = "bf16"
)

// ParsePrecision reads a precision's name ("" is float32) and checks that
// this machine runs it: bf16 needs the AMX-BF16 tile unit and a kernel
// that grants it (Linux 5.16 or later).
func ParsePrecision(s string) (Precision, error) {
	switch Precision(s) {
	case "", Float32:
		return Float32, nil
	case BF16:
		if !amx.Available() {
			return "", fmt.Errorf("precision bf16 is not available here: %s (olc's bf16 runs on Intel's AMX tile unit, Sapphire Rapids and later); use float32", amx.Unavailable())
		}
		return BF16, nil
	}
	return "", fmt.Errorf("precision %q: allowed are float32 and bf16", s)
}

// SetPrecision sets the precision of m's matrix products, refusing bf16
// where it cannot run and for a float64 model.
func (m *Model[T]) SetPrecision(p Precision) error {
	p, err := ParsePrecision(string(p))
	if err != nil {
		return err
	}
	var zero T
	if p == BF16 && unsafe.Sizeof(zero) != 4 {
		return fmt.Errorf("precision bf16 applies to float32 models, not float64")
	}
	m.Precision = p
	return nil
}

// BF16Route names the bfloat16 route of this machine: "AMX-BF16 tile
// unit", or why there is none.
func BF16Route() string {
	if amx.Available() {
		return "AMX-BF16 tile unit"
	}
	return "none (" + amx.Unavailable() + ")"
}
