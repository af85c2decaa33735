package scaling

import (
	"math"
	"math/rand/v2"
	"testing"
)

// allLaws returns every registered law.
func allLaws(t *testing.T) []Law {
	t.Helper()
	var out []Law
	for _, name := range LawNames() {
		law, err := LawByName(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, law)
	}
	return out
}

// TestLawGradients checks every law's ∂ log L/∂θ against central finite
// differences at random parameters and points.
func TestLawGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, law := range allLaws(t) {
		starts := law.Starts()
		for trial := range 50 {
			th := append([]float64(nil), starts[rng.IntN(len(starts))]...)
			for i := range th {
				th[i] += 0.3 * rng.NormFloat64()
			}
			lx := make([]float64, len(law.Vars()))
			for i := range lx {
				lx[i] = math.Log(1e3) + 20*rng.Float64()
			}
			g := make([]float64, len(th))
			law.LogPredict(th, lx, g)
			for i := range th {
				h := 1e-6 * math.Max(1, math.Abs(th[i]))
				tp, tm := append([]float64(nil), th...), append([]float64(nil), th...)
				tp[i] += h
				tm[i] -= h
				fd := (law.LogPredict(tp, lx, nil) - law.LogPredict(tm, lx, nil)) / (2 * h)
				if err := math.Abs(fd - g[i]); err > 1e-6*math.Max(1, math.Abs(fd)) {
					t.Errorf("%s trial %d: ∂/∂θ%d = %.10g, finite differences %.10g", law.Name(), trial, i, g[i], fd)
				}
			}
		}
	}
}

// TestLawFormulas checks each law's log-space evaluation against its
// formula written plainly, and that Natural and Internal are inverses.
func TestLawFormulas(t *testing.T) {
	pow := math.Pow
	cases := []struct {
		law    Law
		params []float64
		x      []float64
		want   func(p, x []float64) float64
	}{
		{Chinchilla{}, Hoffmann, []float64{7e10, 1.4e12}, func(p, x []float64) float64 {
			return p[0] + p[1]/pow(x[0], p[3]) + p[2]/pow(x[1], p[4])
		}},
		{Kaplan{}, []float64{8.8e13, 0.076, 5.4e13, 0.095}, []float64{1e9, 2e10}, func(p, x []float64) float64 {
			return pow(pow(p[0]/x[0], p[1]/p[3])+p[2]/x[1], p[3])
		}},
		{KaplanN{}, []float64{8.8e13, 0.076}, []float64{1e9}, func(p, x []float64) float64 { return pow(p[0]/x[0], p[1]) }},
		{KaplanD{}, []float64{5.4e13, 0.095}, []float64{2e10}, func(p, x []float64) float64 { return pow(p[0]/x[0], p[1]) }},
		{Power{}, []float64{1.2, 50, 0.3}, []float64{3e4}, func(p, x []float64) float64 { return p[0] + p[1]*pow(x[0], -p[2]) }},
		{Power2{}, []float64{50, 0.3}, []float64{3e4}, func(p, x []float64) float64 { return p[0] * pow(x[0], -p[1]) }},
		{Context{}, Xiong7B, []float64{32768}, func(p, x []float64) float64 { return pow(p[0]/x[0], p[1]) + p[2] }},
	}
	for _, c := range cases {
		got := Predict(c.law, c.params, c.x)
		want := c.want(c.params, c.x)
		if math.Abs(got-want) > 1e-12*want {
			t.Errorf("%s at %v: %.15g, formula %.15g", c.law.Name(), c.x, got, want)
		}
		back := c.law.Natural(c.law.Internal(c.params))
		for i := range back {
			if math.Abs(back[i]-c.params[i]) > 1e-12*math.Abs(c.params[i]) {
				t.Errorf("%s: Natural(Internal(p))[%d] = %g, want %g", c.law.Name(), i, back[i], c.params[i])
			}
		}
	}
}

func TestChinchillaGrid(t *testing.T) {
	starts := Chinchilla{}.Starts()
	if len(starts) != 4500 {
		t.Fatalf("Hoffmann's grid has 4500 points, got %d", len(starts))
	}
	// Every combination once: α, β ∈ {0, .5, …, 2}, e ∈ {−1, …, 1}, a, b ∈ {0, 5, …, 25}.
	seen := map[[5]float64]bool{}
	for _, s := range starts {
		k := [5]float64(s)
		if seen[k] {
			t.Fatalf("start %v twice", s)
		}
		seen[k] = true
		if s[0] < -1 || s[0] > 1 || s[1] < 0 || s[1] > 25 || s[3] < 0 || s[3] > 2 {
			t.Fatalf("start %v outside Hoffmann's grid", s)
		}
	}
}

func TestLawByName(t *testing.T) {
	if _, err := LawByName("chinchila"); err == nil {
		t.Fatal("unknown law accepted")
	}
	for _, n := range LawNames() {
		law, err := LawByName(n)
		if err != nil || law.Name() != n {
			t.Errorf("LawByName(%q) = %v, %v", n, law, err)
		}
	}
}
