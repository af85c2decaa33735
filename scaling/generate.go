package scaling

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
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

// Reference returns published (or, for power and power2, illustrative)
// parameters of law and a realistic design to generate data at: for laws
// of N and D the 25 × 10 grid of N ∈ [1e7, 1e10] and D ∈ [1e8, 1e12] (250
// runs), for context lengths 30 values in [128, 32768], and for other one-
// variable laws 30 values in [1e6, 1e10].
func Reference(law Law) (params []float64, design map[string][]float64) {
	sizes := LogSpace(1e6, 1e10, 30)
	switch law.(type) {
	case Chinchilla:
		return append([]float64(nil), Hoffmann...), Cross(LogSpace(1e7, 1e10, 25), LogSpace(1e8, 1e12, 10))
	case Kaplan:
		return []float64{8.8e13, 0.076, 5.4e13, 0.095}, Cross(LogSpace(1e7, 1e10, 25), LogSpace(1e8, 1e12, 10))
	case KaplanN:
		return []float64{8.8e13, 0.076}, map[string][]float64{"N": sizes}
	case KaplanD:
		return []float64{5.4e13, 0.095}, map[string][]float64{"D": sizes}
	case Context:
		return append([]float64(nil), Xiong7B...), map[string][]float64{"c": LogSpace(128, 32768, 30)}
	case Power:
		return []float64{1.8, 400, 0.3}, map[string][]float64{"x": sizes}
	case Power2:
		return []float64{20, 0.1}, map[string][]float64{"x": sizes}
	}
	return nil, nil
}

// WriteCSV writes d as a CSV table with a header: the law's variables,
// the loss, and a column C of compute (6·N·D, or d.Compute) for laws of N
// and D.
func WriteCSV(w io.Writer, law Law, d *Data) error {
	cw := csv.NewWriter(w)
	vars := law.Vars()
	withC := len(vars) == 2 || d.Compute != nil
	header := append(append([]string(nil), vars...), "loss")
	if withC {
		header = append(header, "C")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for i := range d.Loss {
		var rec []string
		for _, v := range vars {
			rec = append(rec, f(d.Vars[v][i]))
		}
		rec = append(rec, f(d.Loss[i]))
		if withC {
			rec = append(rec, f(d.computeKey(law, i)))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
