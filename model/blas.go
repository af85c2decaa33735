package model

// Backend names the BLAS behind the matrix products: gonum's pure-Go
// implementation by default, OpenBLAS when built with -tags openblas.
var Backend = "gonum (pure Go)"

// splitRows makes gemm split large products by rows over GOMAXPROCS
// goroutines (for single-threaded backends).
var splitRows = false
