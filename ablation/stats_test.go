package ablation

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// Student's sleep data (Cushny and Peebles 1905), R's datasets::sleep:
// extra hours of sleep of 10 patients under two drugs.
var (
	sleep1 = []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	sleep2 = []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
)

func diffs(x, y []float64) []float64 {
	d := make([]float64, len(x))
	for i := range x {
		d[i] = x[i] - y[i]
	}
	return d
}

// TestPairedTSleep: R's example(t.test), t.test(extra ~ group, data =
// sleep, paired = TRUE): t = -4.0621, df = 9, p-value = 0.002833, 95%
// interval -2.4598858 to -0.7001142, mean difference -1.58.
func TestPairedTSleep(t *testing.T) {
	p, err := PairedTest(diffs(sleep1, sleep2))
	if err != nil {
		t.Fatal(err)
	}
	if p.N != 10 || !near(p.Mean, -1.58, 1e-12) || !near(p.T, -4.0621, 5e-5) || !near(p.PT, 0.002833, 5e-7) ||
		!near(p.CI[0], -2.4598858, 5e-8) || !near(p.CI[1], -0.7001142, 5e-8) {
		t.Errorf("paired t = %+v", p)
	}
	// d_z = mean / sd of the differences (sd 1.2299955).
	if !near(p.DZ, -1.58/1.2299955, 1e-6) {
		t.Errorf("d_z = %v", p.DZ)
	}
}

// TestWilcoxonExact: R's example(wilcox.test), the depression scores of
// Hollander and Wolfe (1973, p. 29): wilcox.test(x, y, paired = TRUE,
// alternative = "greater") gives V = 40, p-value = 0.01953; the two-sided
// p-value is twice that.
func TestWilcoxonExact(t *testing.T) {
	x := []float64{1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30}
	y := []float64{0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29}
	v, p, exact := WilcoxonSignedRank(diffs(x, y))
	if v != 40 || !exact || !near(p, 2*0.01953, 1e-5) {
		t.Errorf("V = %v, p = %v, exact %v; want 40, 0.03906, exact", v, p, exact)
	}
	// The tables' critical value for n = 10 at two-sided 0.05 is 8:
	// P(V ≤ 8) = 25/1024 (the subsets of {1, …, 10} summing to 8 or less).
	if p := wilcoxonExact(seq(10), 8); !near(p, 2*25.0/1024, 1e-15) {
		t.Errorf("n = 10, V = 8: p = %v, want %v", p, 2*25.0/1024)
	}
	if p := wilcoxonExact(seq(10), 27.5); p != 1 {
		t.Errorf("V at the centre: p = %v, want 1", p)
	}
}

// TestWilcoxonTies: the sleep data have a zero difference and a tie. R's
// wilcox.test(extra ~ group, data = sleep, paired = TRUE) uses the normal
// approximation there, with the tie-corrected variance and the continuity
// correction: V = 0, p-value = 0.009091, which wilcoxonNormal must give.
// With 9 nonzero differences the test is exact instead: all 9 are
// negative, V = 0, the one pattern of 2^9 with the smallest sum, so
// p = 2/2^9 whatever the ties.
func TestWilcoxonTies(t *testing.T) {
	d := diffs(sleep1, sleep2)
	v, p, exact := WilcoxonSignedRank(d)
	if v != 0 || !exact || !near(p, 2.0/512, 1e-15) {
		t.Errorf("V = %v, p = %v, exact %v; want 0, 2/512, exact", v, p, exact)
	}
	var nz []float64
	for _, x := range d {
		if x != 0 {
			nz = append(nz, x)
		}
	}
	ranks, ties := absRanks(nz)
	if p := wilcoxonNormal(len(nz), 0, ranks); !ties || !near(p, 0.009091, 5e-7) {
		t.Errorf("normal approximation: p = %v (ties %v), want R's 0.009091", p, ties)
	}
	if v, p, _ := WilcoxonSignedRank([]float64{0, 0}); v != 0 || p != 1 {
		t.Errorf("all zero: V = %v, p = %v", v, p)
	}
}

// TestWilcoxonExactTies checks the exact p-value with tied ranks against
// brute force: every one of the 2^n sign patterns of the ranks, counted.
func TestWilcoxonExactTies(t *testing.T) {
	for _, d := range [][]float64{
		{5, 5, -2.5},
		{1, -1, 1, 2, -2, 3, 3, 3},
		{0.5, 1.5, -1.5, 2.5, 2.5, -2.5, 4, 4, -7, 8, 8, 8},
		{-1, -1, -1, -1, 2},
	} {
		v, p, exact := WilcoxonSignedRank(d)
		ranks, _ := absRanks(d)
		var le, ge int
		for mask := 0; mask < 1<<len(d); mask++ {
			s := 0.0
			for i, r := range ranks {
				if mask&(1<<i) != 0 {
					s += r
				}
			}
			if s <= v+1e-9 {
				le++
			}
			if s >= v-1e-9 {
				ge++
			}
		}
		want := math.Min(1, 2*float64(min(le, ge))/float64(int(1)<<len(d)))
		if !exact || !near(p, want, 1e-14) {
			t.Errorf("%v: V = %v, p = %v (exact %v); brute force %v", d, v, p, exact, want)
		}
	}
	// Above 25 nonzero differences: the normal approximation.
	d := make([]float64, 30)
	for i := range d {
		d[i] = float64(i%7) - 2.5
	}
	if _, _, exact := WilcoxonSignedRank(d); exact {
		t.Error("30 differences: exact, want the normal approximation")
	}
}

func seq(n int) []float64 {
	r := make([]float64, n)
	for i := range r {
		r[i] = float64(i + 1)
	}
	return r
}

// TestHolm: Holm's step-down adjustment, from its definition (R's
// p.adjust(p, "holm") gives the same): sorted p_(j) times m − j + 1,
// made monotone.
func TestHolm(t *testing.T) {
	got := Holm([]float64{0.04, 0.01, 0.05, 0.03, 0.02})
	want := []float64{0.09, 0.05, 0.09, 0.09, 0.08}
	for i := range want {
		if !near(got[i], want[i], 1e-15) {
			t.Errorf("Holm = %v, want %v", got, want)
			break
		}
	}
	got = Holm([]float64{0.5, math.NaN(), 0.01})
	if !near(got[0], 0.5, 0) || !math.IsNaN(got[1]) || !near(got[2], 0.02, 1e-15) {
		t.Errorf("with a NaN: %v, want [0.5 NaN 0.02]", got)
	}
}

// TestSeedsNeeded: the paired t-test's sample size at α = 0.05 and 80%
// power, as G*Power (Faul et al. 2007) and Cohen's tables give it: 34
// pairs for d_z = 0.5, 10 for d_z = 1.
func TestSeedsNeeded(t *testing.T) {
	for _, c := range []struct {
		effect, sd float64
		want       int
	}{{0.5, 1, 34}, {1, 1, 10}, {-0.05, 0.1, 34}} {
		n, err := SeedsNeeded(c.effect, c.sd, 0.05, 0.8)
		if err != nil || n != c.want {
			t.Errorf("SeedsNeeded(%v, %v) = %d, %v; want %d", c.effect, c.sd, n, err, c.want)
		}
	}
	if _, err := SeedsNeeded(0, 1, 0.05, 0.8); err == nil {
		t.Error("a zero effect gave a number of seeds")
	}
	if _, err := SeedsNeeded(1, 0, 0.05, 0.8); err == nil {
		t.Error("a zero sd gave a number of seeds")
	}
}

func TestPairedTestNeedsTwoPairs(t *testing.T) {
	if _, err := PairedTest([]float64{1}); !errors.Is(err, ErrTooFewPairs) {
		t.Errorf("one pair: %v", err)
	}
	p, err := PairedTest([]float64{0.1, 0.1, 0.1})
	if err != nil || p.PT != 0 || p.SD != 0 {
		t.Errorf("constant nonzero differences: %+v, %v", p, err)
	}
}

func ExamplePairedTest() {
	// Accuracy of the full model and of the model without a component,
	// over five seeds: the paired differences.
	full := []float64{0.81, 0.78, 0.84, 0.80, 0.79}
	ablated := []float64{0.74, 0.72, 0.76, 0.71, 0.75}
	p, _ := PairedTest(diffs(ablated, full))
	fmt.Printf("diff %.3f [%.3f, %.3f], t-test p %.4f, Wilcoxon p %.4f (exact %v)\n", p.Mean, p.CI[0], p.CI[1], p.PT, p.PW, p.WExact)
	// With five seeds the signed-rank test cannot go below 2/2⁵ = 0.0625.
	// Output: diff -0.068 [-0.092, -0.044], t-test p 0.0014, Wilcoxon p 0.0625 (exact true)
}
