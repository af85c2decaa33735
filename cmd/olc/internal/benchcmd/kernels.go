package benchcmd

import (
	"fmt"

	"github.com/olc-toolkit/olc/model"
)

// Kernels names the routes a binary's numerical work takes, as olc
// version does: gonum's BLAS (OpenBLAS through cgo, or pure Go), olc's own
// vector kernels, and the bf16 products' route. Every olc bench reports
// them.
type Kernels struct {
	BLAS string `json:"blas"`
	SIMD string `json:"simd"`
	BF16 string `json:"bf16"`
}

func kernels() Kernels {
	return Kernels{BLAS: model.Backend, SIMD: model.SIMD(), BF16: model.BF16Route()}
}

func (k Kernels) String() string {
	return fmt.Sprintf("kernels: BLAS %s; SIMD %s; bf16 %s", k.BLAS, k.SIMD, k.BF16)
}
