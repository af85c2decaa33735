// Package scalingplot draws fitted scaling laws: the observed and fitted
// loss, the compute-optimal frontier with its bootstrap band, and the
// residuals, with gonum/plot, as PNG, SVG or PDF.
package scalingplot

import (
	"fmt"
	"io"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/olc-toolkit/olc/internal/plotstyle"
	"github.com/olc-toolkit/olc/scaling"
)

var (
	gray   = plotstyle.Gray
	blue   = plotstyle.Blue
	band   = plotstyle.Band
	red    = plotstyle.Vermillion
	orange = plotstyle.Orange
)

// Draw writes the plots of fit res of data d to w in format ("png", "svg"
// or "pdf"). For laws of N and D: the loss against N with one fitted curve
// per level of compute (or of D), the compute-optimal N against compute
// with its 95% bootstrap band, and the log residuals. For laws of one
// variable: the loss against the variable on log axes, the fit and its
// band extended a decade past the data, and the residuals.
func Draw(w io.Writer, format string, res *scaling.Result, d *scaling.Data) error {
	switch format {
	case "png", "svg", "pdf", "eps", "jpg", "jpeg", "tif", "tiff":
	default:
		return fmt.Errorf("unknown plot format %q; use png, svg or pdf", format)
	}
	var panels []plotstyle.Panel
	var err error
	if len(res.Law.Vars()) == 2 {
		panels, err = twoVar(res, d)
	} else {
		panels, err = oneVar(res, d)
	}
	if err != nil {
		return err
	}
	f := plotstyle.Figure{Panels: panels, Cols: len(panels), Width: 4.4 * vg.Inch, Height: 4 * vg.Inch}
	return f.Write(w, format)
}

func logAxis(a *plot.Axis) { plotstyle.LogAxis(a) }

// lossAxis puts the loss on a log axis when it spans more than a decade
// (log ticks need one); a metric fitted through its complement stays linear.
func lossAxis(p *plot.Plot, res *scaling.Result, ys []float64) {
	lo, hi := minMax(ys)
	if res.Transform != scaling.Complement && hi > 10*lo {
		logAxis(&p.Y)
	}
}

// varLabel names a law variable with its unit: N (parameters), or the
// data's column with the variable's meaning.
func varLabel(res *scaling.Result, v string) string {
	meaning := map[string]string{"N": "parameters", "D": "tokens", "c": "context length, tokens"}[v]
	col := res.Columns[v]
	switch {
	case meaning == "" && col == "":
		return v
	case meaning == "":
		return col
	case col == "" || col == v:
		return fmt.Sprintf("%s (%s)", v, meaning)
	}
	return fmt.Sprintf("%s (%s: %s)", col, v, meaning)
}

// yLabel names the plotted metric.
func yLabel(res *scaling.Result) string {
	name := "loss"
	if c, ok := res.Columns["loss"]; ok && c != "" {
		name = c
	}
	return name
}

// predict returns the law's metric at x.
func predict(res *scaling.Result, params, x []float64) float64 {
	return res.Transform.Back(scaling.Predict(res.Law, params, x))
}

func oneVar(res *scaling.Result, d *scaling.Data) ([]plotstyle.Panel, error) {
	v := res.Law.Vars()[0]
	xs := d.Vars[v]
	lo, hi := minMax(xs)
	xlabel := varLabel(res, v)
	p := plotstyle.New(fmt.Sprintf("%s fit: %s", res.LawName, res.Formula), xlabel, yLabel(res))
	legend := plotstyle.NewLegend()
	logAxis(&p.X)
	grid := scaling.LogSpace(lo/2, hi*10, 120)
	vals := res.Values()
	var fit plotter.XYs
	for _, x := range grid {
		fit = append(fit, plotter.XY{X: x, Y: predict(res, vals, []float64{x})})
	}
	if err := addBand(p, &legend, res, grid, func(params []float64, x float64) float64 { return predict(res, params, []float64{x}) }); err != nil {
		return nil, err
	}
	var pts plotter.XYs
	for i, x := range xs {
		pts = append(pts, plotter.XY{X: x, Y: d.Loss[i]})
	}
	if err := addPointsAndLine(p, &legend, pts, fit, "fit"); err != nil {
		return nil, err
	}
	// Mark where the data end.
	edge, err := plotter.NewLine(plotter.XYs{{X: hi, Y: minY(fit, pts)}, {X: hi, Y: maxY(fit, pts)}})
	if err != nil {
		return nil, err
	}
	edge.Color, edge.Dashes = gray, []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(edge)
	legend.Add("end of the data", edge)
	lossAxis(p, res, d.Loss)
	r, err := residuals(res, d, xs, p.X.Label.Text)
	if err != nil {
		return nil, err
	}
	return []plotstyle.Panel{{Plot: p, Legend: &legend, Extra: 1.4 * vg.Inch}, {Plot: r}}, nil
}

func twoVar(res *scaling.Result, d *scaling.Data) ([]plotstyle.Panel, error) {
	vals := res.Values()
	ns, ds := d.Vars["N"], d.Vars["D"]
	p := plotstyle.New(fmt.Sprintf("%s fit: observed (dots) and fitted (lines)", res.LawName), "N (parameters)", yLabel(res))
	logAxis(&p.X)
	lossAxis(p, res, d.Loss)
	// Group the points by compute level when the data carry compute, else
	// by D; many distinct levels are pooled into bins in log space. Each
	// level has its colour on a colour bar.
	key, by, byLabel := ds, "D", "D (tokens)"
	if d.Compute != nil {
		key, by, byLabel = d.Compute, "C", "compute C (FLOPs)"
	}
	groups := groupByLevel(key, 8)
	klo, khi := minMax(key)
	cm := plotstyle.Viridis(math.Log10(klo), math.Log10(khi))
	p.Add(plotter.NewGrid())
	for _, g := range groups {
		col, err := cm.At(min(max(math.Log10(g.level), cm.Min()), cm.Max()))
		if err != nil {
			return nil, err
		}
		var pts plotter.XYs
		nlo, nhi := math.Inf(1), math.Inf(-1)
		for _, i := range g.members {
			pts = append(pts, plotter.XY{X: ns[i], Y: d.Loss[i]})
			nlo, nhi = math.Min(nlo, ns[i]), math.Max(nhi, ns[i])
		}
		var curve plotter.XYs
		for _, n := range scaling.LogSpace(nlo/1.5, nhi*1.5, 60) {
			dd := g.level
			if by == "C" {
				dd = scaling.TokensFromFLOPs(g.level, n)
			}
			curve = append(curve, plotter.XY{X: n, Y: predict(res, vals, []float64{n, dd})})
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = col, vg.Points(2), draw.CircleGlyph{}
		l, err := plotter.NewLine(curve)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = col, vg.Points(1.2)
		p.Add(s, l)
	}
	panels := []plotstyle.Panel{{Plot: p, ColorBar: &plotstyle.ColorBar{Map: cm, Log: true, Label: byLabel}, Extra: 0.9 * vg.Inch}}

	if _, ok := res.Law.(scaling.Allocator); ok {
		f, legend, err := frontier(res, d)
		if err != nil {
			return nil, err
		}
		panels = append(panels, plotstyle.Panel{Plot: f, Legend: legend, Extra: 1.35 * vg.Inch})
	}
	comp := make([]float64, len(ns))
	for i := range ns {
		comp[i] = scaling.TrainingFLOPs(ns[i], ds[i])
		if d.Compute != nil {
			comp[i] = d.Compute[i]
		}
	}
	r, err := residuals(res, d, comp, "compute C = 6ND (FLOPs)")
	if err != nil {
		return nil, err
	}
	return append(panels, plotstyle.Panel{Plot: r}), nil
}

// frontier draws the compute-optimal N against compute, with the band of
// the bootstrap's 2.5% and 97.5% percentiles, the runs as gray points and
// the requested budgets in red.
func frontier(res *scaling.Result, d *scaling.Data) (*plot.Plot, *plot.Legend, error) {
	al := res.Law.(scaling.Allocator)
	ns, ds := d.Vars["N"], d.Vars["D"]
	var runs plotter.XYs
	clo, chi := math.Inf(1), math.Inf(-1)
	for i := range ns {
		c := scaling.TrainingFLOPs(ns[i], ds[i])
		runs = append(runs, plotter.XY{X: c, Y: ns[i]})
		clo, chi = math.Min(clo, c), math.Max(chi, c)
	}
	for _, o := range res.Optimal {
		chi = math.Max(chi, o.Compute)
	}
	grid := scaling.LogSpace(clo, chi*10, 80)
	nopt := func(params []float64, c float64) float64 {
		a, _, g := al.Allocation(params)
		return g * math.Pow(c/scaling.FLOPsPerParamToken, a)
	}
	p := plotstyle.New("compute-optimal model size", "compute C = 6ND (FLOPs)", "N (parameters)")
	legend := plotstyle.NewLegend()
	logAxis(&p.X)
	logAxis(&p.Y)
	if err := addBand(p, &legend, res, grid, nopt); err != nil {
		return nil, nil, err
	}
	var line plotter.XYs
	for _, c := range grid {
		line = append(line, plotter.XY{X: c, Y: nopt(res.Values(), c)})
	}
	if err := addPointsAndLine(p, &legend, runs, line, "N_opt(C) of the fit"); err != nil {
		return nil, nil, err
	}
	if len(res.Optimal) > 0 {
		var bud plotter.XYs
		for _, o := range res.Optimal {
			bud = append(bud, plotter.XY{X: o.Compute, Y: o.N.Value})
		}
		s, err := plotter.NewScatter(bud)
		if err != nil {
			return nil, nil, err
		}
		s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = red, vg.Points(3.5), draw.PyramidGlyph{}
		p.Add(s)
		legend.Add("budgets (--compute)", s)
	}
	if d.Compute != nil {
		// The best run of each compute level: the empirical frontier
		// (Hoffmann et al.'s Approach 1), against which to read the law's.
		var best plotter.XYs
		for _, g := range groupByLevel(d.Compute, 5) {
			bi := g.members[0]
			for _, i := range g.members {
				if better(res, d.Loss[i], d.Loss[bi]) {
					bi = i
				}
			}
			best = append(best, plotter.XY{X: d.Compute[bi], Y: ns[bi]})
		}
		s, err := plotter.NewScatter(best)
		if err != nil {
			return nil, nil, err
		}
		s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = orange, vg.Points(3.5), draw.BoxGlyph{}
		p.Add(s)
		legend.Add("best run per compute level", s)
	}
	return p, &legend, nil
}

// better reports whether metric a beats b: lower for a loss, higher for a
// metric fitted through its complement.
func better(res *scaling.Result, a, b float64) bool {
	if res.Transform == scaling.Complement {
		return a > b
	}
	return a < b
}

// addBand fills the 95% band of f over grid from the bootstrap samples.
func addBand(p *plot.Plot, legend *plot.Legend, res *scaling.Result, grid []float64, f func(params []float64, x float64) float64) error {
	if res.Bootstrap == nil || len(res.Bootstrap.Samples) < 20 {
		return nil
	}
	var upper, lower plotter.XYs
	vals := make([]float64, 0, len(res.Bootstrap.Samples))
	for _, x := range grid {
		vals = vals[:0]
		for _, s := range res.Bootstrap.Samples {
			if v := f(s, x); !math.IsNaN(v) && !math.IsInf(v, 0) && v > 0 {
				vals = append(vals, v)
			}
		}
		if len(vals) < 20 {
			continue
		}
		sort.Float64s(vals)
		lower = append(lower, plotter.XY{X: x, Y: vals[int(0.025*float64(len(vals)-1))]})
		upper = append(upper, plotter.XY{X: x, Y: vals[int(math.Ceil(0.975*float64(len(vals)-1)))]})
	}
	if len(lower) < 2 {
		return nil
	}
	poly := append(plotter.XYs{}, lower...)
	for i := len(upper) - 1; i >= 0; i-- {
		poly = append(poly, upper[i])
	}
	pg, err := plotter.NewPolygon(poly)
	if err != nil {
		return err
	}
	pg.Color, pg.LineStyle.Width = band, 0
	p.Add(pg)
	legend.Add("95% bootstrap band", pg)
	return nil
}

func addPointsAndLine(p *plot.Plot, legend *plot.Legend, pts, line plotter.XYs, name string) error {
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = gray, vg.Points(2), draw.CircleGlyph{}
	l, err := plotter.NewLine(line)
	if err != nil {
		return err
	}
	l.Color, l.Width = blue, vg.Points(1.5)
	p.Add(plotter.NewGrid(), s, l)
	legend.Add("observed runs", s)
	legend.Add(name, l)
	return nil
}

// residuals plots log L̂ − log L against xs on a log axis.
func residuals(res *scaling.Result, d *scaling.Data, xs []float64, xlabel string) (*plot.Plot, error) {
	vals := res.Values()
	vars := res.Law.Vars()
	var pts plotter.XYs
	for i := range d.Loss {
		x := make([]float64, len(vars))
		for j, v := range vars {
			x[j] = d.Vars[v][i]
		}
		fitted := scaling.Predict(res.Law, vals, x)
		obs := d.Loss[i]
		if res.Transform == scaling.Complement {
			obs = 1 - obs
		}
		pts = append(pts, plotter.XY{X: xs[i], Y: math.Log(fitted) - math.Log(obs)})
	}
	p := plotstyle.New("residuals of the fit", xlabel, "log fitted − log observed")
	logAxis(&p.X)
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = blue, vg.Points(2), draw.CircleGlyph{}
	lo, hi := minMax(xs)
	zero, err := plotter.NewLine(plotter.XYs{{X: lo, Y: 0}, {X: hi, Y: 0}})
	if err != nil {
		return nil, err
	}
	zero.Color = gray
	p.Add(plotter.NewGrid(), zero, s)
	return p, nil
}

type group struct {
	level   float64 // geometric mean of the members' key
	members []int
}

// groupByLevel groups indices by the value of key: one group per distinct
// value when there are at most 10, else bins equally wide in log key.
func groupByLevel(key []float64, bins int) []group {
	byVal := map[float64][]int{}
	for i, k := range key {
		byVal[k] = append(byVal[k], i)
	}
	var out []group
	if len(byVal) <= 10 {
		for k, m := range byVal {
			out = append(out, group{level: k, members: m})
		}
	} else {
		lo, hi := minMax(key)
		l0, width := math.Log(lo), (math.Log(hi)-math.Log(lo))/float64(bins)
		members := make([][]int, bins)
		for i, k := range key {
			b := min(int((math.Log(k)-l0)/width), bins-1)
			members[b] = append(members[b], i)
		}
		for _, m := range members {
			if len(m) == 0 {
				continue
			}
			s := 0.0
			for _, i := range m {
				s += math.Log(key[i])
			}
			out = append(out, group{level: math.Exp(s / float64(len(m))), members: m})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].level < out[j].level })
	return out
}

func minMax(xs []float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

func minY(sets ...plotter.XYs) float64 {
	v := math.Inf(1)
	for _, s := range sets {
		for _, p := range s {
			v = math.Min(v, p.Y)
		}
	}
	return v
}

func maxY(sets ...plotter.XYs) float64 {
	v := math.Inf(-1)
	for _, s := range sets {
		for _, p := range s {
			v = math.Max(v, p.Y)
		}
	}
	return v
}
