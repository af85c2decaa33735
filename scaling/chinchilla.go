package scaling

import "math"

// Chinchilla is L(N, D) = E + A/N^α + B/D^β, the parametric loss of
// Hoffmann et al. 2022, Approach 3. Its internal parameters are
// θ = (log E, log A, log B, α, β), and log L = LSE(log A − α log N,
// log B − β log D, log E). Its default starts are Hoffmann's grid: α, β ∈
// {0, 0.5, …, 2}, log E ∈ {−1, −0.5, …, 1}, log A, log B ∈ {0, 5, …, 25}
// (4,500 points).
type Chinchilla struct{}

var (
	_ Law       = Chinchilla{}
	_ Allocator = Chinchilla{}
)

// Name implements Law.
func (Chinchilla) Name() string { return "chinchilla" }

// Formula implements Law.
func (Chinchilla) Formula() string { return "L(N, D) = E + A/N^alpha + B/D^beta" }

// Vars implements Law.
func (Chinchilla) Vars() []string { return []string{"N", "D"} }

// Params implements Law.
func (Chinchilla) Params() []string { return []string{"E", "A", "B", "alpha", "beta"} }

// LogPredict implements Law.
func (Chinchilla) LogPredict(th, x, grad []float64) float64 {
	ln, ld := x[0], x[1]
	s, w := logSumExp3(th[1]-th[3]*ln, th[2]-th[4]*ld, th[0])
	if grad != nil {
		grad[0] = w[2]
		grad[1] = w[0]
		grad[2] = w[1]
		grad[3] = -w[0] * ln
		grad[4] = -w[1] * ld
	}
	return s
}

// Natural implements Law.
func (Chinchilla) Natural(th []float64) []float64 {
	return []float64{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2]), th[3], th[4]}
}

// Internal implements Law.
func (Chinchilla) Internal(p []float64) []float64 {
	return []float64{math.Log(p[0]), math.Log(p[1]), math.Log(p[2]), p[3], p[4]}
}

// Starts implements Law.
func (Chinchilla) Starts() [][]float64 {
	ab := steps(0, 25, 5)
	exps := steps(0, 2, 0.5)
	// Order the axes as θ: e, a, b, α, β.
	return grid(steps(-1, 1, 0.5), ab, ab, exps, exps)
}

// Allocation implements Allocator: minimizing E + A/N^α + B/D^β subject to
// 6·N·D = C gives N_opt = G·(C/6)^a and D_opt = G⁻¹·(C/6)^b with
// a = β/(α+β), b = α/(α+β) and G = (αA/(βB))^(1/(α+β)) (Hoffmann et al.
// 2022, Appendix D.2).
func (Chinchilla) Allocation(p []float64) (a, b, g float64) {
	A, B, alpha, beta := p[1], p[2], p[3], p[4]
	a = beta / (alpha + beta)
	b = alpha / (alpha + beta)
	g = math.Pow(alpha*A/(beta*B), 1/(alpha+beta))
	return a, b, g
}
