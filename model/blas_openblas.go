//go:build openblas

package model

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// With the openblas build tag, gonum's blas32 and blas64 route to OpenBLAS
// through cgo (Debian's libopenblas-dev).
func init() {
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	Backend = "OpenBLAS (cgo)"
}
