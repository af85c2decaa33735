package plotstyle

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

func labels(ts []plot.Tick) []string {
	var out []string
	for _, t := range ts {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

func TestTickers(t *testing.T) {
	cases := []struct {
		ticker plot.Ticker
		lo, hi float64
		want   string
	}{
		{Counts{}, 0, 59, "0 10 20 30 40 50"},
		{Counts{}, 1, 7, "1 2 3 4 5 6 7"},
		{Counts{}, 1, 60, "10 20 30 40 50 60"},
		{Counts{}, 0, 3, "0 1 2 3"},
		{Ticks{}, -5, 10, "-5 0 5 10"},
		{Ticks{}, 0, 1, "0 0.2 0.4 0.6 0.8 1"},
		{Ticks{}, -0.05, 0.055, "-0.04 -0.02 0 0.02 0.04"},
		{Decades{}, 3e15, 5e24, "1e16 1e18 1e20 1e22 1e24"},
		{Decades{}, 1e7, 1e10, "1e7 1e8 1e9 1e10"},
		{Decades{}, 0.3, 180, "1 10 100"},
		{Decades{}, 2.2, 6.3, "3 4 5 6"},
		{Decades{}, 1.5, 9.5, "2 4 6 8"},
		{Decades{}, 1e-5, 1e-2, "1e-5 1e-4 1e-3 0.01"},
	}
	for _, c := range cases {
		got := strings.Join(labels(c.ticker.Ticks(c.lo, c.hi)), " ")
		if got != c.want {
			t.Errorf("%T.Ticks(%g, %g) labels %q, want %q", c.ticker, c.lo, c.hi, got, c.want)
		}
	}
}

// TestTicksNeverCrowd: over random ranges, every ticker labels at most
// maxLabels+1 ticks (short log ranges may label a few more), distinct,
// inside the range, and Counts only integers.
func TestTicksNeverCrowd(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		lo := math.Pow(10, rng.Float64()*40-20)
		hi := lo * math.Pow(10, rng.Float64()*30+0.01)
		for _, tk := range []plot.Ticker{Ticks{}, Decades{}, Counts{}} {
			a, b := lo, hi
			if _, ok := tk.(Counts); ok {
				a, b = math.Floor(rng.Float64()*100), math.Floor(rng.Float64()*100)+1+math.Floor(rng.Float64()*1e6)
			}
			ls := labels(tk.Ticks(a, b))
			if len(ls) > maxLabels+1 || len(ls) == 0 {
				t.Fatalf("%T.Ticks(%g, %g): %d labels %v", tk, a, b, len(ls), ls)
			}
			seen := map[string]bool{}
			for _, l := range ls {
				if seen[l] {
					t.Fatalf("%T.Ticks(%g, %g): label %q twice", tk, a, b, l)
				}
				seen[l] = true
				if len(l) > 8 {
					t.Fatalf("%T.Ticks(%g, %g): label %q is long", tk, a, b, l)
				}
				if _, ok := tk.(Counts); ok {
					if _, err := strconv.Atoi(l); err != nil {
						t.Fatalf("Counts label %q is not an integer", l)
					}
				}
			}
		}
	}
}

func TestNumberAndPower(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.5: "0.5", 25: "25", 1500: "1500", 2e6: "2e6", 123456: "1.23e5", 0.0001: "1e-4", 3.9788: "3.979", 1.5e22: "1.5e22", -2.5e-7: "-2.5e-7"} {
		if got := Number(v); got != want {
			t.Errorf("Number(%g) = %q, want %q", v, got, want)
		}
	}
	for k, want := range map[int]string{-3: "1e-3", -2: "0.01", 0: "1", 4: "10000", 5: "1e5", 17: "1e17"} {
		if got := Power(k); got != want {
			t.Errorf("Power(%d) = %q, want %q", k, got, want)
		}
	}
}

func TestFigureWrites(t *testing.T) {
	p := New("a title", "x (units)", "y")
	s, _ := plotter.NewScatter(plotter.XYs{{X: 1, Y: 1}, {X: 2, Y: 4}})
	p.Add(s)
	l := NewLegend()
	l.Add("points", s)
	q := New("another", "c", "loss")
	LogAxis(&q.X)
	q.Add(s)
	cb := &ColorBar{Map: Viridis(0, 3), Log: true, Label: "D"}
	for _, format := range Formats {
		var buf bytes.Buffer
		f := Figure{Panels: []Panel{{Plot: p, Legend: &l, Extra: vg.Inch}, {Plot: q, ColorBar: cb}}, Cols: 2, Width: 3 * vg.Inch, Height: 2 * vg.Inch}
		if err := f.Write(&buf, format); err != nil || buf.Len() < 500 {
			t.Errorf("%s: %d bytes, %v", format, buf.Len(), err)
		}
	}
	if _, err := FormatOf("x.jpeg"); err == nil {
		t.Error("FormatOf accepted .jpeg")
	}
}
