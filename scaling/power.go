package scaling

import "math"

// Power is L(x) = E + A·x^(−α) for one variable x (model size, data,
// compute or context length), with an irreducible loss E. Its internal
// parameters are θ = (log E, log A, α); its starts cover log E ∈ {−1, …, 1},
// log A ∈ {0, 5, …, 25} and α ∈ {0, 0.1, 0.3, 0.5, 1, 2}.
type Power struct{}

var _ Law = Power{}

// Name implements Law.
func (Power) Name() string { return "power" }

// Formula implements Law.
func (Power) Formula() string { return "L(x) = E + A*x^(-alpha)" }

// Vars implements Law.
func (Power) Vars() []string { return []string{"x"} }

// Params implements Law.
func (Power) Params() []string { return []string{"E", "A", "alpha"} }

// LogPredict implements Law.
func (Power) LogPredict(th, x, grad []float64) float64 {
	lx := x[0]
	s, wa, we := logSumExp2(th[1]-th[2]*lx, th[0])
	if grad != nil {
		grad[0] = we
		grad[1] = wa
		grad[2] = -wa * lx
	}
	return s
}

// Natural implements Law.
func (Power) Natural(th []float64) []float64 {
	return []float64{math.Exp(th[0]), math.Exp(th[1]), th[2]}
}

// Internal implements Law.
func (Power) Internal(p []float64) []float64 {
	return []float64{math.Log(p[0]), math.Log(p[1]), p[2]}
}

// Starts implements Law.
func (Power) Starts() [][]float64 {
	return grid(steps(-1, 1, 0.5), steps(0, 25, 5), []float64{0, 0.1, 0.3, 0.5, 1, 2})
}

// Power2 is the two-parameter power law L(x) = A·x^(−α), a straight line in
// log-log space: the law to fit when there are too few points for an
// irreducible term. θ = (log A, α).
type Power2 struct{ logLine }

var _ Law = Power2{}

// Name implements Law.
func (Power2) Name() string { return "power2" }

// Formula implements Law.
func (Power2) Formula() string { return "L(x) = A*x^(-alpha)" }

// Vars implements Law.
func (Power2) Vars() []string { return []string{"x"} }

// Params implements Law.
func (Power2) Params() []string { return []string{"A", "alpha"} }

// Natural implements Law.
func (Power2) Natural(th []float64) []float64 { return []float64{math.Exp(th[0]), th[1]} }

// Internal implements Law.
func (Power2) Internal(p []float64) []float64 { return []float64{math.Log(p[0]), p[1]} }
