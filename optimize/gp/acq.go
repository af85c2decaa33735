package gp

import (
	"math"
)

// Acquisition functions, for minimization: each is to be maximized over x,
// given the posterior mean μ and standard deviation σ at x and the best
// (lowest) value observed, best.
//
// LogEI is log E[max(best − ξ − f(x), 0)], PI is log P(f(x) < best − ξ),
// and UCB is the negated lower confidence bound κσ − μ (Srinivas et al.
// 2010, "Gaussian Process Optimization in the Bandit Setting", ICML). Each
// also returns its derivatives with respect to μ and σ.

// LogEI returns log EI = log σ + log h(z), h(z) = zΦ(z) + φ(z),
// z = (best − ξ − μ)/σ, computed without underflow however far z lies in
// the lower tail (Ament et al. 2023), with ∂/∂μ and ∂/∂σ.
func LogEI(mu, sigma, best, xi float64) (v, dmu, dsigma float64) {
	z := (best - xi - mu) / sigma
	logH, phiOverH, bigPhiOverH := logH(z)
	v = math.Log(sigma) + logH
	// ∂log h/∂z = Φ(z)/h(z); ∂z/∂μ = −1/σ; ∂z/∂σ = −z/σ, and
	// 1 − zΦ/h = φ/h.
	return v, -bigPhiOverH / sigma, phiOverH / sigma
}

// logH returns log h(z), φ(z)/h(z) and Φ(z)/h(z) for h(z) = zΦ(z) + φ(z).
func logH(z float64) (lh, phiOverH, bigPhiOverH float64) {
	logPhi := -z*z/2 - 0.5*math.Log(2*math.Pi)
	switch {
	case z > -1:
		h := z*stdNormCDF(z) + math.Exp(logPhi)
		return math.Log(h), math.Exp(logPhi) / h, stdNormCDF(z) / h
	case z > -40:
		// h/φ = 1 + z·m(z), with m(z) = Φ(z)/φ(z) = √(π/2)·erfcx(−z/√2).
		m := millsRatio(z)
		q := 1 + z*m
		return logPhi + math.Log(q), 1 / q, m / q
	default:
		// Asymptotic series of h/φ: 1/z² − 3/z⁴ + 15/z⁶ − 105/z⁸.
		z2 := 1 / (z * z)
		q := z2 * (1 - 3*z2*(1-5*z2*(1-7*z2)))
		m := millsRatio(z)
		return logPhi + math.Log(q), 1 / q, m / q
	}
}

// LogPI returns log Φ(z), z = (best − ξ − μ)/σ, without underflow, with
// ∂/∂μ and ∂/∂σ.
func LogPI(mu, sigma, best, xi float64) (v, dmu, dsigma float64) {
	z := (best - xi - mu) / sigma
	var r float64 // φ(z)/Φ(z)
	if z > -5 {
		v = math.Log(stdNormCDF(z))
		r = math.Exp(-z*z/2-0.5*math.Log(2*math.Pi)) / stdNormCDF(z)
	} else {
		m := millsRatio(z)
		v = -z*z/2 - 0.5*math.Log(2*math.Pi) + math.Log(m)
		r = 1 / m
	}
	return v, -r / sigma, -r * z / sigma
}

// UCB returns κσ − μ with ∂/∂μ and ∂/∂σ.
func UCB(mu, sigma, kappa float64) (v, dmu, dsigma float64) {
	return kappa*sigma - mu, -1, kappa
}

func stdNormCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// millsRatio returns Φ(z)/φ(z) = √(π/2)·erfcx(−z/√2), accurate for all z.
func millsRatio(z float64) float64 {
	return math.Sqrt(math.Pi/2) * erfcx(-z/math.Sqrt2)
}

// erfcx returns the scaled complementary error function e^{x²}·erfc(x):
// directly where erfc does not underflow, and from its asymptotic series
// 1/(x√π)·(1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶) + 105/(16x⁸)) beyond x = 26,
// where the series is accurate to 1e-12.
func erfcx(x float64) float64 {
	if x < 26 {
		if x < -26 {
			return math.Inf(1)
		}
		return math.Exp(x*x) * math.Erfc(x)
	}
	t := 1 / (2 * x * x)
	return (1 - t*(1-3*t*(1-5*t*(1-7*t)))) / (x * math.Sqrt(math.Pi))
}
