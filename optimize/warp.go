package optimize

import "math"

// powerTransform is the power transform of Box and Cox (1964) for positive
// values or of Yeo and Johnson (2000, "A new family of power
// transformations to improve normality or symmetry", Biometrika 87(4)) for
// any, with λ chosen by maximum likelihood, as scipy's stats.boxcox and
// stats.yeojohnson do. Bayesian optimization applies it to the scaled
// values before fitting the model: objective values are often
// skewed (a few trials far worse than the rest, or values spanning orders
// of magnitude), which a stationary Gaussian process models poorly; the
// transform is monotone, so the order of the trials, and the minimum, are
// kept. Cowen-Rivers et al. (2022, "HEBO: Pushing the limits of
// sample-efficient hyperparameter optimisation", JAIR 74) found such output
// transforms among the most effective changes to Bayesian optimization.
type powerTransform struct {
	lambda float64
	// boxCox selects the Box-Cox transform (y^λ − 1)/λ, for positive
	// values, instead of Yeo-Johnson.
	boxCox bool
}

// fitWarp chooses the output transform as HEBO does: values are divided by
// their standard deviation but not centred, so that a transform of positive
// values keeps their distance to zero; Box-Cox (Box and Cox 1964, "An
// analysis of transformations", JRSS B 26(2)) applies when every value is
// positive, which stretches the values closest to zero, typically the best
// ones of a minimization, and Yeo-Johnson otherwise.
func fitWarp(y []float64) powerTransform {
	positive := true
	for _, v := range y {
		if !(v > 0) {
			positive = false
			break
		}
	}
	return fitPower(y, positive)
}

// fitPower returns the Box-Cox or Yeo-Johnson transform whose λ in [−3, 3]
// maximizes the profile log-likelihood of y under a normal model.
func fitPower(y []float64, boxCox bool) powerTransform {
	// Golden-section search: the profile likelihood is unimodal in λ in
	// practice, and this needs no derivative.
	lo, hi := -3.0, 3.0
	const g = 0.6180339887498949
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	ll := func(l float64) float64 { return powerLogLik(y, powerTransform{lambda: l, boxCox: boxCox}) }
	fa, fb := ll(a), ll(b)
	for hi-lo > 1e-4 {
		if fa < fb {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = ll(b)
		} else {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = ll(a)
		}
	}
	return powerTransform{lambda: (lo + hi) / 2, boxCox: boxCox}
}

// powerLogLik is the profile log-likelihood of λ: −n/2·log σ̂²(λ) plus the
// log Jacobian, (λ − 1)·Σ sign(y)·log(|y| + 1) for Yeo-Johnson and
// (λ − 1)·Σ log y for Box-Cox.
func powerLogLik(y []float64, t powerTransform) float64 {
	lambda := t.lambda
	n := float64(len(y))
	mean, jac := 0.0, 0.0
	tv := make([]float64, len(y))
	for i, v := range y {
		tv[i] = t.forward(v)
		mean += tv[i]
		if t.boxCox {
			jac += math.Log(v)
		} else {
			jac += math.Copysign(math.Log1p(math.Abs(v)), v)
		}
	}
	mean /= n
	ss := 0.0
	for _, v := range tv {
		ss += (v - mean) * (v - mean)
	}
	if ss <= 0 {
		return math.Inf(-1)
	}
	return -n/2*math.Log(ss/n) + (lambda-1)*jac
}

func (t powerTransform) forward(y float64) float64 {
	l := t.lambda
	if t.boxCox {
		if math.Abs(l) < 1e-10 {
			return math.Log(y)
		}
		return (math.Pow(y, l) - 1) / l
	}
	if y >= 0 {
		if math.Abs(l) < 1e-10 {
			return math.Log1p(y)
		}
		return (math.Pow(y+1, l) - 1) / l
	}
	if math.Abs(l-2) < 1e-10 {
		return -math.Log1p(-y)
	}
	return -(math.Pow(1-y, 2-l) - 1) / (2 - l)
}

func (t powerTransform) inverse(z float64) float64 {
	l := t.lambda
	if t.boxCox {
		if math.Abs(l) < 1e-10 {
			return math.Exp(z)
		}
		return math.Pow(max(z*l+1, 0), 1/l)
	}
	if z >= 0 {
		if math.Abs(l) < 1e-10 {
			return math.Expm1(z)
		}
		return math.Pow(z*l+1, 1/l) - 1
	}
	if math.Abs(l-2) < 1e-10 {
		return -math.Expm1(-z)
	}
	return 1 - math.Pow(1-(2-l)*z, 1/(2-l))
}
