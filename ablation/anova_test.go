package ablation

import (
	"math"
	"testing"
)

// TestFactorial2kMontgomery: Montgomery, Design and Analysis of
// Experiments (5th ed.), Example 6.1 run in blocks as Example 7.1 (Table
// 7.2): a 2² factorial (A reactant concentration, B catalyst) in three
// replicates taken as blocks. Published: SS blocks 6.50 (2 df), A 208.33,
// B 75.00, AB 8.33, error 24.84 (6 df), total 323.00 (11 df); F 50.32,
// 18.12 and 2.01 (from the error mean square rounded to 4.14, hence the
// tolerance of 0.02 on F); effects A = 8.33, B = −5.00, AB = 1.67
// (Example 6.1).
func TestFactorial2kMontgomery(t *testing.T) {
	// Treatments by bit: 0 = (1), 1 = a, 2 = b, 3 = ab; blocks I, II, III.
	y := [][]float64{{28, 25, 27}, {36, 32, 32}, {18, 19, 23}, {31, 30, 29}}
	rows, err := Factorial2k([]string{"A", "B"}, y)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		source    string
		ss        float64
		df        int
		f, effect float64
	}{
		{"blocks (seeds)", 6.50, 2, math.NaN(), math.NaN()},
		{"A", 208.33, 1, 50.32, 8.33},
		{"B", 75.00, 1, 18.12, -5.00},
		{"A × B", 8.33, 1, 2.01, 1.67},
		{"residual", 24.84, 6, math.NaN(), math.NaN()},
		{"total", 323.00, 11, math.NaN(), math.NaN()},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		if r.Source != w.source || r.DF != w.df || math.Abs(r.SS-w.ss) > 0.01 ||
			(!math.IsNaN(w.f) && math.Abs(r.F-w.f) > 0.02) || (!math.IsNaN(w.effect) && math.Abs(r.Effect-w.effect) > 0.01) {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	// p of F(1, 6) = 50.32 is about 0.0004 (Montgomery: P < 0.001).
	if p := rows[1].P; !(p > 0.0002 && p < 0.001) {
		t.Errorf("p of A = %v", p)
	}
}

func TestFactorial2kRefuses(t *testing.T) {
	for _, c := range []struct {
		names []string
		y     [][]float64
	}{
		{nil, nil},
		{[]string{"A"}, [][]float64{{1, 2}}},
		{[]string{"A"}, [][]float64{{1, 2}, {3}}},
		{[]string{"A"}, [][]float64{{1}, {3}}},
		{[]string{"A"}, [][]float64{{1, math.NaN()}, {3, 4}}},
		{[]string{"A"}, [][]float64{{1, 2}, {3, 4}}}, // 4 observations: blocks 1, A 1, total 3 → residual 1 is fine
	} {
		_, err := Factorial2k(c.names, c.y)
		if len(c.y) == 2 && len(c.y[0]) == 2 && len(c.y[1]) == 2 && !math.IsNaN(c.y[0][1]) {
			if err != nil {
				t.Errorf("%v: %v", c.y, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%v: no error", c.y)
		}
	}
}
