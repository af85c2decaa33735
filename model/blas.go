package model

// Backend names the BLAS behind the matrix products: gonum's pure-Go
// implementation by default, OpenBLAS when built with -tags openblas.
var Backend = "gonum (pure Go)"
