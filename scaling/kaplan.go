package scaling

import "math"

// Kaplan is the joint law of Kaplan et al. 2020 (Eq. 1.5),
// L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D. Its internal parameters are
// θ = (log N_c, log α_N, log D_c, log α_D), so that log L =
// α_D·LSE((α_N/α_D)(log N_c − log N), log D_c − log D). Its default starts
// cover log N_c, log D_c ∈ {10, 15, …, 40} and α_N, α_D ∈ {0.03, 0.1, 0.3,
// 1} (Kaplan's fit: N_c = 8.8e13, α_N = 0.076, D_c = 5.4e13, α_D = 0.095).
type Kaplan struct{}

var (
	_ Law       = Kaplan{}
	_ Allocator = Kaplan{}
)

// Name implements Law.
func (Kaplan) Name() string { return "kaplan" }

// Formula implements Law.
func (Kaplan) Formula() string { return "L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D" }

// Vars implements Law.
func (Kaplan) Vars() []string { return []string{"N", "D"} }

// Params implements Law.
func (Kaplan) Params() []string { return []string{"N_c", "alpha_N", "D_c", "alpha_D"} }

// LogPredict implements Law.
func (Kaplan) LogPredict(th, x, grad []float64) float64 {
	alphaN, alphaD := math.Exp(th[1]), math.Exp(th[3])
	p := alphaN / alphaD
	u1 := p * (th[0] - x[0])
	u2 := th[2] - x[1]
	s, w1, w2 := logSumExp2(u1, u2)
	if grad != nil {
		grad[0] = alphaN * w1
		grad[1] = alphaD * w1 * u1
		grad[2] = alphaD * w2
		grad[3] = alphaD * (s - w1*u1)
	}
	return alphaD * s
}

// Natural implements Law.
func (Kaplan) Natural(th []float64) []float64 {
	return []float64{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2]), math.Exp(th[3])}
}

// Internal implements Law.
func (Kaplan) Internal(p []float64) []float64 {
	return []float64{math.Log(p[0]), math.Log(p[1]), math.Log(p[2]), math.Log(p[3])}
}

// Starts implements Law.
func (Kaplan) Starts() [][]float64 {
	lc := steps(10, 40, 5)
	la := []float64{math.Log(0.03), math.Log(0.1), math.Log(0.3), 0}
	return grid(lc, la, lc, la)
}

// Allocation implements Allocator: minimizing the law subject to
// 6·N·D = C gives N_opt = G·(C/6)^a with a = α_D/(α_N+α_D),
// b = α_N/(α_N+α_D) and G = (p·N_c^p/D_c)^(1/(p+1)), p = α_N/α_D.
func (Kaplan) Allocation(par []float64) (a, b, g float64) {
	nc, alphaN, dc, alphaD := par[0], par[1], par[2], par[3]
	p := alphaN / alphaD
	a = alphaD / (alphaN + alphaD)
	b = alphaN / (alphaN + alphaD)
	g = math.Exp((math.Log(p) + p*math.Log(nc) - math.Log(dc)) / (p + 1))
	return a, b, g
}

// KaplanN is L(N) = (N_c/N)^α_N (Kaplan et al. 2020, Eq. 1.1), for runs
// trained to convergence. It is a straight line in log-log space, fitted
// as log L = c − α_N log N with θ = (c, α_N) and N_c = exp(c/α_N).
type KaplanN struct{ kaplanLine }

var _ Law = KaplanN{}

// Name implements Law.
func (KaplanN) Name() string { return "kaplan-n" }

// Formula implements Law.
func (KaplanN) Formula() string { return "L(N) = (N_c/N)^alpha_N" }

// Vars implements Law.
func (KaplanN) Vars() []string { return []string{"N"} }

// Params implements Law.
func (KaplanN) Params() []string { return []string{"N_c", "alpha_N"} }

// KaplanD is L(D) = (D_c/D)^α_D (Kaplan et al. 2020, Eq. 1.2), for large
// models trained with early stopping; fitted like KaplanN.
type KaplanD struct{ kaplanLine }

var _ Law = KaplanD{}

// Name implements Law.
func (KaplanD) Name() string { return "kaplan-d" }

// Formula implements Law.
func (KaplanD) Formula() string { return "L(D) = (D_c/D)^alpha_D" }

// Vars implements Law.
func (KaplanD) Vars() []string { return []string{"D"} }

// Params implements Law.
func (KaplanD) Params() []string { return []string{"D_c", "alpha_D"} }

// logLine is log L = θ₀ − θ₁·log x, the straight line in log-log space
// that KaplanN, KaplanD and Power2 share.
type logLine struct{}

// LogPredict implements Law.
func (logLine) LogPredict(th, x, grad []float64) float64 {
	if grad != nil {
		grad[0] = 1
		grad[1] = -x[0]
	}
	return th[0] - th[1]*x[0]
}

// Starts implements Law.
func (logLine) Starts() [][]float64 { return grid(steps(-4, 8, 4), []float64{0, 0.1, 0.5, 1}) }

// kaplanLine reports the line as (x_c, α) with L = (x_c/x)^α.
type kaplanLine struct{ logLine }

// Natural implements Law.
func (kaplanLine) Natural(th []float64) []float64 { return []float64{math.Exp(th[0] / th[1]), th[1]} }

// Internal implements Law.
func (kaplanLine) Internal(p []float64) []float64 { return []float64{p[1] * math.Log(p[0]), p[1]} }
