package model

import "math"

// Float is the element type of a model: float32 (the default) or float64
// (for gradient checks against finite differences).
type Float interface{ ~float32 | ~float64 }

func dot[T Float](a, b []T) T {
	var s T
	b = b[:len(a)]
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// axpy adds alpha·x to y.
func axpy[T Float](alpha T, x, y []T) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func exp[T Float](x T) T { return T(math.Exp(float64(x))) }

func sqrt[T Float](x T) T { return T(math.Sqrt(float64(x))) }
