package scaling

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Hoffmann is Hoffmann et al. 2022's published fit of the chinchilla law
// (E, A, B, α, β), the reference our tests and demos generate data from.
var Hoffmann = []float64{1.69, 406.4, 410.7, 0.34, 0.28}

// Xiong7B is Xiong et al. 2023's fit of the context law for their 7B model
// (α, β, γ).
var Xiong7B = []float64{25.4, 0.45, 1.56}

// LogSpace returns k values evenly spaced in log between lo and hi, both
// included.
func LogSpace(lo, hi float64, k int) []float64 {
	if k == 1 {
		return []float64{lo}
	}
	out := make([]float64, k)
	for i := range out {
		out[i] = math.Exp(math.Log(lo) + float64(i)*(math.Log(hi)-math.Log(lo))/float64(k-1))
	}
	return out
}

// Generate returns data drawn from law with reported parameters params at
// the points of design (a map from the law's variables to equally long
// columns): the loss times exp(ε) with ε ~ N(0, noise²), so that noise is
// the standard deviation of the log residuals. The same seed gives the same
// data.
func Generate(law Law, params []float64, design map[string][]float64, noise float64, seed uint64) (*Data, error) {
	if len(params) != len(law.Params()) {
		return nil, fmt.Errorf("the law %s has %d parameters, got %d", law.Name(), len(law.Params()), len(params))
	}
	n := -1
	for _, v := range law.Vars() {
		col, ok := design[v]
		if !ok {
			return nil, fmt.Errorf("the design lacks the variable %s", v)
		}
		if n >= 0 && len(col) != n {
			return nil, fmt.Errorf("the design's columns differ in length")
		}
		n = len(col)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5ca1e))
	th := law.Internal(params)
	d := &Data{Vars: map[string][]float64{}, Loss: make([]float64, n)}
	x := make([]float64, len(law.Vars()))
	for i := range n {
		for j, v := range law.Vars() {
			x[j] = math.Log(design[v][i])
		}
		d.Loss[i] = math.Exp(law.LogPredict(th, x, nil) + noise*rng.NormFloat64())
	}
	for _, v := range law.Vars() {
		d.Vars[v] = append([]float64(nil), design[v]...)
	}
	return d, nil
}

// Cross returns the design of every pair (N, D) of the given values, N
// varying slowest.
func Cross(ns, ds []float64) map[string][]float64 {
	out := map[string][]float64{}
	for _, n := range ns {
		for _, d := range ds {
			out["N"] = append(out["N"], n)
			out["D"] = append(out["D"], d)
		}
	}
	return out
}
