package optimize_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/olc-toolkit/olc/optimize"
)

func TestParetoFront(t *testing.T) {
	pts := [][]float64{{1, 5}, {2, 2}, {3, 1}, {2, 3}, {4, 4}, {2, 2}, {math.NaN(), 0}, {5, 0.5}}
	if got, want := optimize.ParetoFront(pts), []int{0, 1, 2, 7}; !slices.Equal(got, want) {
		t.Errorf("ParetoFront = %v, want %v", got, want)
	}
}

// TestHypervolume: ZDT1's front from (11, 11) has hypervolume
// ∫₀¹ (10 + √f) df + 10·11 = 120 + 2/3; a dense sample of it comes
// within the sweep's discretization; in three dimensions the result
// agrees with counting the cells of a fine grid.
func TestHypervolume(t *testing.T) {
	var front [][]float64
	const n = 2000
	for i := range n + 1 {
		f1 := float64(i) / n
		front = append(front, []float64{f1, 1 - math.Sqrt(f1)})
	}
	hv := optimize.Hypervolume(front, []float64{11, 11})
	if want := 120 + 2.0/3; hv > want || want-hv > 1e-3 {
		t.Errorf("hypervolume of ZDT1's front = %.6f, want just below %.6f", hv, want)
	}
	if hv := optimize.Hypervolume([][]float64{{12, 0}, {0, 12}}, []float64{11, 11}); hv != 0 {
		t.Errorf("points beyond the reference give %v", hv)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	var pts [][]float64
	for range 12 {
		pts = append(pts, []float64{rnd.Float64(), rnd.Float64(), rnd.Float64()})
	}
	ref := []float64{1, 1, 1}
	const g = 60
	count := 0
	for i := range g {
		for j := range g {
			for k := range g {
				c := []float64{(float64(i) + 0.5) / g, (float64(j) + 0.5) / g, (float64(k) + 0.5) / g}
				for _, p := range pts {
					if p[0] <= c[0] && p[1] <= c[1] && p[2] <= c[2] {
						count++
						break
					}
				}
			}
		}
	}
	if got, want := optimize.Hypervolume(pts, ref), float64(count)/(g*g*g); math.Abs(got-want) > 1e-2 {
		t.Errorf("3-d hypervolume %.5f, grid count %.5f", got, want)
	}
}
