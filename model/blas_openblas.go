//go:build openblas

package model

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// With the openblas build tag, gonum's blas32 and blas64 route to OpenBLAS
// through cgo (Debian's libopenblas-dev). OpenBLAS runs single-threaded and
// olc splits large products by rows over its own goroutines: OpenBLAS's
// idle threads spin, and would take the cores from the goroutines of the
// attention kernel and the element-wise work between products.
func init() {
	C.openblas_set_num_threads(1)
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	Backend = "OpenBLAS (cgo)"
	cBLAS = true
}
