package scaling

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// An IdentifiabilityError says why the data cannot determine a law's
// parameters, and which laws they can determine.
type IdentifiabilityError struct {
	Law    string
	Reason string
	// Alternatives lists laws these data can identify.
	Alternatives []string
}

func (e *IdentifiabilityError) Error() string {
	msg := fmt.Sprintf("the data cannot identify the law %s: %s", e.Law, e.Reason)
	if len(e.Alternatives) > 0 {
		msg += "; laws these data can identify: " + strings.Join(e.Alternatives, "; ")
	} else {
		msg += "; no law in olc can be identified from these data"
	}
	return msg
}

// minDistinct is how many distinct values each variable of a law needs:
// three where a power term shares the data with an additive constant or a
// second term (its curvature must be seen), two for a straight line in
// log-log space.
func minDistinct(law Law) int {
	switch law.Name() {
	case "kaplan-n", "kaplan-d", "power2":
		return 2
	}
	return 3
}

// identifiable reports why d cannot identify law, or "" when it can: at
// least one more point than parameters, enough distinct values of every
// variable, and, for laws of two variables, variables that do not move in
// lockstep (log-correlation below 0.9999).
func identifiable(law Law, d *Data) string { return identifiableWith(law, d, 1) }

// identifiableWith is identifiable with at least p+spare points for p
// parameters: 1 for a fit (one residual degree of freedom at least), 0 for
// the distinct points of a bootstrap resample, which need only determine
// the parameters.
func identifiableWith(law Law, d *Data, spare int) string {
	n, p := d.Len(), len(law.Params())
	if n < p+spare {
		return fmt.Sprintf("it has %d parameters, so it needs at least %d points, and there are %d", p, p+spare, n)
	}
	vars := law.Vars()
	for _, v := range vars {
		xs, ok := d.Vars[v]
		if !ok {
			return fmt.Sprintf("it needs the variable %s", v)
		}
		if k := distinct(xs); k < minDistinct(law) {
			return fmt.Sprintf("its variable %s takes %d distinct value(s), and it needs at least %d", v, k, minDistinct(law))
		}
	}
	if len(vars) == 2 {
		a, b := logs(d.Vars[vars[0]]), logs(d.Vars[vars[1]])
		if c := stat.Correlation(a, b, nil); math.Abs(c) > 0.9999 {
			return fmt.Sprintf("%s and %s vary together (correlation of their logs %.5f), so the data cannot tell their terms apart; vary them independently or fit a law of one of them", vars[0], vars[1], c)
		}
	}
	return ""
}

func distinct(xs []float64) int {
	s := make(map[float64]bool, len(xs))
	for _, x := range xs {
		s[x] = true
	}
	return len(s)
}

func logs(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Log(x)
	}
	return out
}

// Identifiable reports whether d can identify law. Its error is an
// *IdentifiabilityError that lists the laws the data can identify.
func Identifiable(law Law, d *Data) error {
	why := identifiable(law, d)
	if why == "" {
		return nil
	}
	return &IdentifiabilityError{Law: law.Name(), Reason: why, Alternatives: alternatives(d, law.Name())}
}

// IdentifiableLaws returns the names of the laws whose variables d has and
// that d can identify, fewest parameters first.
func IdentifiableLaws(d *Data) []Law {
	var out []Law
	for _, name := range LawNames() {
		law, _ := LawByName(name)
		if identifiable(law, d) == "" {
			out = append(out, law)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Params()) < len(out[j].Params()) })
	return out
}

func alternatives(d *Data, except string) []string {
	var out []string
	for _, law := range IdentifiableLaws(d) {
		if law.Name() == except {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s, %d parameters)", law.Name(), law.Formula(), len(law.Params())))
	}
	return out
}

// conditioning returns the condition number of the Jacobian of the log
// predictions with respect to θ at theta, and the parameters that weigh
// most in its weakest direction.
func conditioning(p *problem, theta []float64) (float64, []string) {
	n, k := len(p.lx), len(theta)
	j := mat.NewDense(n, k, nil)
	g := make([]float64, k)
	for i, xi := range p.lx {
		p.law.LogPredict(theta, xi, g)
		j.SetRow(i, g)
	}
	var svd mat.SVD
	if !svd.Factorize(j, mat.SVDThin) {
		return math.Inf(1), nil
	}
	s := svd.Values(nil)
	if s[len(s)-1] == 0 {
		return math.Inf(1), p.law.Params()
	}
	cond := s[0] / s[len(s)-1]
	var v mat.Dense
	svd.VTo(&v)
	names := p.law.Params()
	var weak []string
	for i := range k {
		if math.Abs(v.At(i, k-1)) > 0.3 {
			weak = append(weak, names[i])
		}
	}
	return cond, weak
}
