package scaling

import "math"

// Context is L(c) = (α/c)^β + γ, the law Xiong et al. 2023 ("Effective
// Long-Context Scaling of Foundation Models", Eq. 1) fit to validation loss
// against context length c (for their 7B model α = 25.4, β = 0.45,
// γ = 1.56). Its internal parameters are θ = (log α, β, log γ), so that
// log L = LSE(β(log α − log c), log γ); its starts cover log α ∈ {0, 1, …,
// 6}, β ∈ {0.1, 0.25, 0.5, 1, 2} and log γ ∈ {−1, −0.5, …, 1}.
type Context struct{}

var _ Law = Context{}

// Name implements Law.
func (Context) Name() string { return "context" }

// Formula implements Law.
func (Context) Formula() string { return "L(c) = (alpha/c)^beta + gamma" }

// Vars implements Law.
func (Context) Vars() []string { return []string{"c"} }

// Params implements Law.
func (Context) Params() []string { return []string{"alpha", "beta", "gamma"} }

// LogPredict implements Law.
func (Context) LogPredict(th, x, grad []float64) float64 {
	u := th[0] - x[0]
	s, wa, wg := logSumExp2(th[1]*u, th[2])
	if grad != nil {
		grad[0] = wa * th[1]
		grad[1] = wa * u
		grad[2] = wg
	}
	return s
}

// Natural implements Law.
func (Context) Natural(th []float64) []float64 {
	return []float64{math.Exp(th[0]), th[1], math.Exp(th[2])}
}

// Internal implements Law.
func (Context) Internal(p []float64) []float64 {
	return []float64{math.Log(p[0]), p[1], math.Log(p[2])}
}

// Starts implements Law.
func (Context) Starts() [][]float64 {
	return grid(steps(0, 6, 1), []float64{0.1, 0.25, 0.5, 1, 2}, steps(-1, 1, 0.5))
}
