// Package ablationplot draws an ablation's effects, one panel per metric:
// each component's paired difference from its reference with its 95%
// interval as whiskers, the zero line, and the effects significant after
// Holm's adjustment marked, with gonum/plot, as PNG, SVG or PDF.
package ablationplot

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/olc-toolkit/olc/ablation"
	"github.com/olc-toolkit/olc/internal/plotstyle"
)

// Draw writes the effects of r to w in format ("png", "svg" or "pdf"):
// a forest plot per metric, the components down the side in the order of
// the config, each difference a dot with its interval's whiskers, filled
// vermillion when significant at ablation.Alpha after Holm's adjustment,
// hollow blue otherwise, and a difference whose interval is unknown
// (fewer than 2 paired seeds) a gray cross.
func Draw(w io.Writer, format string, r *ablation.Result) error {
	if _, err := plotstyle.FormatOf("x." + format); err != nil {
		return fmt.Errorf("unknown plot format %q; use png, svg or pdf", format)
	}
	if len(r.Metrics) == 0 {
		return fmt.Errorf("ablation %s has no metric to draw", r.Name)
	}
	var panels []plotstyle.Panel
	rows := 0
	for _, m := range r.Metrics {
		p, legend, err := panel(r, m)
		if err != nil {
			return fmt.Errorf("metric %s: %w", m.Name, err)
		}
		panels = append(panels, plotstyle.Panel{Plot: p, Legend: legend, Extra: 1.3 * vg.Inch})
		rows = max(rows, len(m.Effects))
	}
	cols := min(2, len(panels))
	height := vg.Length(1.9+0.4*float64(rows)) * vg.Inch
	f := plotstyle.Figure{Panels: panels, Cols: cols, Width: 4.6 * vg.Inch, Height: height}
	return f.Write(w, format)
}

func panel(r *ablation.Result, m ablation.MetricAnalysis) (*plot.Plot, *plot.Legend, error) {
	n := len(m.Effects)
	better := "higher is better"
	if m.Goal == "minimize" {
		better = "lower is better"
	}
	p := plotstyle.New(fmt.Sprintf("%s (%s)", m.Name, better), fmt.Sprintf("Δ %s (%s), unadjusted 95%% CI", m.Name, r.Design.Difference()), "")
	// The first component at the top.
	names := make([]string, n)
	for i, e := range m.Effects {
		names[n-1-i] = e.Component
	}
	p.NominalY(names...)
	p.Y.Tick.Label.Font.Size = vg.Points(10)
	p.Y.Padding = vg.Points(8)

	var sig, plain, unknown plotter.XYs
	var whiskers []plotter.XYs
	lo, hi := 0.0, 0.0
	for i, e := range m.Effects {
		y := float64(n - 1 - i)
		if math.IsNaN(e.Diff) {
			continue
		}
		lo, hi = math.Min(lo, e.Diff), math.Max(hi, e.Diff)
		pt := plotter.XY{X: e.Diff, Y: y}
		switch {
		case math.IsNaN(e.CI[0]) || math.IsNaN(e.CI[1]):
			unknown = append(unknown, pt)
			continue
		case e.Significant:
			sig = append(sig, pt)
		default:
			plain = append(plain, pt)
		}
		lo, hi = math.Min(lo, e.CI[0]), math.Max(hi, e.CI[1])
		whiskers = append(whiskers, plotter.XYs{{X: e.CI[0], Y: y}, {X: e.CI[1], Y: y}})
	}
	if len(sig)+len(plain)+len(unknown) == 0 {
		return nil, nil, fmt.Errorf("no component has a difference to draw (no seed completed both variants of a pair)")
	}
	// The zero line: no effect.
	zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: -0.5}, {X: 0, Y: float64(n) - 0.5}})
	if err != nil {
		return nil, nil, err
	}
	zero.Color, zero.Dashes = plotstyle.Gray, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(zero)
	for _, wk := range whiskers {
		l, err := plotter.NewLine(wk)
		if err != nil {
			return nil, nil, err
		}
		l.Color, l.Width = plotstyle.Gray, vg.Points(1.5)
		p.Add(l)
		for _, end := range wk {
			cap, err := plotter.NewLine(plotter.XYs{{X: end.X, Y: end.Y - 0.12}, {X: end.X, Y: end.Y + 0.12}})
			if err != nil {
				return nil, nil, err
			}
			cap.Color, cap.Width = plotstyle.Gray, vg.Points(1.5)
			p.Add(cap)
		}
	}
	legend := plotstyle.NewLegend()
	add := func(pts plotter.XYs, label string, shape draw.GlyphDrawer, c color.Color) error {
		if len(pts) == 0 {
			return nil
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		s.GlyphStyle.Shape, s.GlyphStyle.Radius, s.GlyphStyle.Color = shape, vg.Points(4.5), c
		p.Add(s)
		legend.Add(label, s)
		return nil
	}
	if err := add(sig, fmt.Sprintf("significant\n(Holm, α = %g)", ablation.Alpha), draw.CircleGlyph{}, plotstyle.Vermillion); err != nil {
		return nil, nil, err
	}
	if err := add(plain, "not significant\n(Holm)", draw.RingGlyph{}, plotstyle.Blue); err != nil {
		return nil, nil, err
	}
	if err := add(unknown, "no interval\n(< 2 paired seeds)", draw.CrossGlyph{}, plotstyle.Gray); err != nil {
		return nil, nil, err
	}
	// Room around the whiskers, zero always in view.
	pad := 0.08 * (hi - lo)
	if pad == 0 {
		pad = math.Max(math.Abs(hi), 1) * 0.1
	}
	p.X.Min, p.X.Max = lo-pad, hi+pad
	seeds := 0
	for _, e := range m.Effects {
		seeds = max(seeds, e.N)
	}
	p.Title.Text += fmt.Sprintf("\n%s, %d paired seeds", r.Design, seeds)
	return p, &legend, nil
}
