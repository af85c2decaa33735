package report

import (
	"fmt"
	"image/color"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/internal/plotstyle"
	"github.com/olc-toolkit/olc/optimize"
)

// PlotFormats lists the formats Plot writes, by file extension.
var PlotFormats = plotstyle.Formats

// FormatOf returns the plot format of a file name from its extension.
func FormatOf(path string) (string, error) { return plotstyle.FormatOf(path) }

// samplerTitles name the samplers in titles.
var samplerTitles = map[string]string{"grid": "grid search", "random": "random search", "bayes": "Bayesian optimization"}

func samplerTitle(s string) string {
	if t, ok := samplerTitles[s]; ok {
		return t
	}
	return s
}

// Plot draws a study: on top, every complete trial's value against its
// number with the best value so far as a step line (the best trial
// highlighted, failed trials as crosses along the bottom, a builtin
// function's known minimum as a dashed line); below, the value against
// each parameter, the best trial highlighted, on a log axis for log
// parameters and with the values as ticks for categorical ones.
func Plot(w io.Writer, format string, study *experiments.Study, space *optimize.Space, trials []experiments.Trial) error {
	var params []optimize.Param
	if space != nil {
		params = space.Params()
	}
	logY := logScaleValues(trials)
	var conv *plot.Plot
	var legend *plot.Legend
	var err error
	if metrics, dirs := experiments.ObjectivesOf(study); len(metrics) > 1 {
		conv, legend, err = paretoPlot(study, trials, metrics, dirs)
	} else {
		conv, legend, err = convergencePlot(study, trials, logY)
	}
	if err != nil {
		return err
	}
	cols := min(max(len(params), 1), 3)
	top := plotstyle.Figure{Panels: []plotstyle.Panel{{Plot: conv, Legend: legend}}, Cols: 1,
		Width: max(vg.Length(cols)*3.3*vg.Inch, 7.5*vg.Inch), Height: 3.6 * vg.Inch}
	figs := []plotstyle.Figure{top}
	if curves, clegend, err := curvesPlot(study, trials); err != nil {
		return err
	} else if curves != nil {
		figs = append(figs, plotstyle.Figure{Panels: []plotstyle.Panel{{Plot: curves, Legend: clegend}}, Cols: 1, Width: top.Width, Height: top.Height})
	}
	best := experiments.Best(trials, study.Direction)
	below := plotstyle.Figure{Cols: cols, Width: top.Width / vg.Length(cols), Height: 2.8 * vg.Inch}
	for _, p := range params {
		pp, err := paramPlot(study, p, trials, best, logY)
		if err != nil {
			return err
		}
		below.Panels = append(below.Panels, plotstyle.Panel{Plot: pp})
	}
	return plotstyle.Stack(w, format, append(figs, below)...)
}

// logScaleValues reports whether the complete trials' values span orders of
// magnitude, and read better on a log axis where the best values, usually
// near the bottom, stay apart.
func logScaleValues(trials []experiments.Trial) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range trials {
		if t.State == optimize.Complete && !math.IsNaN(t.Value) {
			lo, hi = min(lo, t.Value), max(hi, t.Value)
		}
	}
	return lo > 0 && hi/lo > 100
}

// goal says what the study looks for: "minimize value".
func goal(study *experiments.Study) string {
	return fmt.Sprintf("%s %s", study.Direction, study.Metric)
}

// paretoPlot draws the first two objectives of a multi-objective study:
// every complete trial, and the Pareto front of the study's objectives
// (all of them, not only the two drawn) highlighted and joined by the
// staircase of the region it dominates.
func paretoPlot(study *experiments.Study, trials []experiments.Trial, metrics []string, dirs []optimize.Direction) (*plot.Plot, *plot.Legend, error) {
	axis := func(i int) string { return fmt.Sprintf("%s (%s)", metrics[i], dirs[i]) }
	title := fmt.Sprintf("study %s: Pareto front of %s (%s)", study.Name, strings.Join(metrics, ", "), samplerTitle(study.Sampler))
	p := plotstyle.New(title, axis(0), axis(1))
	legend := plotstyle.NewLegend()
	front := experiments.ParetoFront(trials, metrics, dirs)
	on := map[int]bool{}
	var fpts plotter.XYs
	for _, t := range front {
		on[t.Number] = true
		fpts = append(fpts, plotter.XY{X: t.Metrics[metrics[0]], Y: t.Metrics[metrics[1]]})
	}
	var pts plotter.XYs
	for _, t := range trials {
		if t.State == optimize.Complete && !on[t.Number] {
			x, okx := t.Metrics[metrics[0]]
			y, oky := t.Metrics[metrics[1]]
			if okx && oky && !math.IsNaN(x) && !math.IsNaN(y) {
				pts = append(pts, plotter.XY{X: x, Y: y})
			}
		}
	}
	if len(fpts) == 0 {
		p.Title.Text += ": no complete trial yet"
		return p, nil, nil
	}
	p.Add(plotter.NewGrid())
	if len(pts) > 0 {
		s, err := scatter(pts, plotstyle.Gray, 2, draw.CircleGlyph{})
		if err != nil {
			return nil, nil, err
		}
		p.Add(s)
		legend.Add("trial", s)
	}
	if len(metrics) == 2 && len(fpts) > 1 {
		// The staircase: sorted by the first objective, the second steps
		// from one front point to the next.
		stairs := make(plotter.XYs, 0, 2*len(fpts))
		for i, q := range fpts {
			if i > 0 {
				stairs = append(stairs, plotter.XY{X: q.X, Y: fpts[i-1].Y})
			}
			stairs = append(stairs, q)
		}
		l, err := plotter.NewLine(stairs)
		if err != nil {
			return nil, nil, err
		}
		l.Color, l.Width = plotstyle.Blue, vg.Points(1.2)
		p.Add(l)
	}
	s, err := scatter(fpts, plotstyle.Vermillion, 3.5, draw.CircleGlyph{})
	if err != nil {
		return nil, nil, err
	}
	p.Add(s)
	label := fmt.Sprintf("Pareto front: %d trials", len(fpts))
	if len(metrics) > 2 {
		label += fmt.Sprintf(" (over all %d metrics)", len(metrics))
	}
	legend.Add(label, s)
	return p, &legend, nil
}

// curvesPlot draws the learning curves of a study whose trials reported
// intermediate values: the study's metric (or, when no trial reported
// it, the first metric reported) against the step, complete trials in
// blue, pruned ones in grey, ending where they were stopped, the best
// trial in vermillion. It returns nil when no trial reported two steps.
func curvesPlot(study *experiments.Study, trials []experiments.Trial) (*plot.Plot, *plot.Legend, error) {
	metric, found := "", false
	for _, t := range trials {
		for _, in := range t.Intermediate {
			if _, ok := in.Metrics[study.Metric]; ok {
				metric, found = study.Metric, true
			} else if metric == "" {
				for _, k := range slices.Sorted(maps.Keys(in.Metrics)) {
					metric = k
					break
				}
			}
		}
		if found {
			break
		}
	}
	long := false
	for i := range trials {
		if len(experiments.CurveOf(&trials[i], metric).Steps) >= 2 {
			long = true
			break
		}
	}
	if metric == "" || !long {
		return nil, nil, nil
	}
	p := plotstyle.New(fmt.Sprintf("learning curves: %s by step (intermediate values)", metric), "step", metric)
	p.Add(plotter.NewGrid())
	legend := plotstyle.NewLegend()
	bt := experiments.Best(trials, study.Direction)
	var lo, hi float64 = math.Inf(1), math.Inf(-1)
	for i := range trials {
		for _, v := range experiments.CurveOf(&trials[i], metric).Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	logY := lo > 0 && hi/lo > 100
	if logY {
		plotstyle.LogAxis(&p.Y)
	}
	seen := map[string]bool{}
	draw1 := func(t *experiments.Trial, c color.Color, width float64, label string) error {
		cv := experiments.CurveOf(t, metric)
		var xy plotter.XYs
		for k, st := range cv.Steps {
			if v := cv.Values[k]; !math.IsNaN(v) && !math.IsInf(v, 0) && (v > 0 || !logY) {
				xy = append(xy, plotter.XY{X: float64(st), Y: v})
			}
		}
		if len(xy) == 0 {
			return nil
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color, l.Width = c, vg.Points(width)
		p.Add(l)
		if !seen[label] {
			seen[label] = true
			legend.Add(label, l)
		}
		if t.State == optimize.Pruned {
			// Where it was stopped (a curve of one point shows only so).
			end, err := scatter(xy[len(xy)-1:], c, 1.8, draw.CircleGlyph{})
			if err != nil {
				return err
			}
			p.Add(end)
		}
		return nil
	}
	for i := range trials {
		t := &trials[i]
		var err error
		switch {
		case bt != nil && t.Number == bt.Number:
			continue
		case t.State == optimize.Pruned:
			err = draw1(t, plotstyle.Gray, 0.8, "pruned")
		case t.State == optimize.Complete:
			err = draw1(t, plotstyle.Blue, 0.8, "complete")
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if bt != nil {
		if err := draw1(bt, plotstyle.Vermillion, 2, fmt.Sprintf("best: trial %d", bt.Number)); err != nil {
			return nil, nil, err
		}
	}
	return p, &legend, nil
}

func convergencePlot(study *experiments.Study, trials []experiments.Trial, logY bool) (*plot.Plot, *plot.Legend, error) {
	title := fmt.Sprintf("study %s: %s by trial (%s, %s)", study.Name, study.Metric, goal(study), samplerTitle(study.Sampler))
	p := plotstyle.New(title, "trial", study.Metric)
	plotstyle.CountAxis(&p.X)
	legend := plotstyle.NewLegend()
	var pts, best, failed, pruned, top plotter.XYs
	cur := math.NaN()
	lo := math.Inf(1)
	for _, t := range trials {
		if t.State == optimize.Complete && !math.IsNaN(t.Value) {
			lo = min(lo, t.Value)
		}
	}
	bt := experiments.Best(trials, study.Direction)
	for _, t := range trials {
		x := float64(t.Number)
		switch {
		case t.State == optimize.Complete && !math.IsNaN(t.Value):
			if bt != nil && t.Number == bt.Number {
				top = append(top, plotter.XY{X: x, Y: t.Value})
			} else {
				pts = append(pts, plotter.XY{X: x, Y: t.Value})
			}
			if math.IsNaN(cur) || study.Direction.Better(t.Value, cur) {
				cur = t.Value
			}
			best = append(best, plotter.XY{X: x, Y: cur})
		case t.State == optimize.Failed && !math.IsInf(lo, 1):
			failed = append(failed, plotter.XY{X: x, Y: lo})
		case t.State == optimize.Pruned && !math.IsInf(lo, 1):
			pruned = append(pruned, plotter.XY{X: x, Y: lo})
		}
	}
	if len(best) == 0 {
		p.Title.Text += ": no complete trial yet"
		return p, nil, nil
	}
	if logY {
		plotstyle.LogAxis(&p.Y)
	}
	p.Add(plotter.NewGrid())
	if len(pts) > 0 {
		s, err := scatter(pts, plotstyle.Gray, 2, draw.CircleGlyph{})
		if err != nil {
			return nil, nil, err
		}
		p.Add(s)
		legend.Add("trial", s)
	}
	l, err := plotter.NewLine(best)
	if err != nil {
		return nil, nil, err
	}
	l.Color, l.Width, l.StepStyle = plotstyle.Blue, vg.Points(1.5), plotter.PostStep
	p.Add(l)
	legend.Add("best so far", l)
	s, err := scatter(top, plotstyle.Vermillion, 3.5, draw.CircleGlyph{})
	if err != nil {
		return nil, nil, err
	}
	p.Add(s)
	legend.Add(fmt.Sprintf("best: trial %d", bt.Number), s)
	if len(failed) > 0 {
		f, err := scatter(failed, plotstyle.Vermillion, 2.5, draw.CrossGlyph{})
		if err != nil {
			return nil, nil, err
		}
		p.Add(f)
		legend.Add("failed", f)
	}
	if len(pruned) > 0 {
		f, err := scatter(pruned, plotstyle.Gray, 2.5, draw.TriangleGlyph{})
		if err != nil {
			return nil, nil, err
		}
		p.Add(f)
		legend.Add(fmt.Sprintf("pruned (%d; curves below)", len(pruned)), f)
	}
	if name, opt, ok := experiments.KnownOptimum(study); ok && (!logY || opt > 0) {
		o, err := optimumLine(opt, 0, float64(trials[len(trials)-1].Number))
		if err != nil {
			return nil, nil, err
		}
		p.Add(o)
		legend.Add(fmt.Sprintf("%s's minimum, %s", titleCase(name), plotstyle.Number(opt)), o)
	}
	return p, &legend, nil
}

// optimumLine is a dashed horizontal line at y from x0 to x1.
func optimumLine(y, x0, x1 float64) (*plotter.Line, error) {
	o, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return nil, err
	}
	o.Color, o.Width, o.Dashes = plotstyle.Green, vg.Points(1.2), []vg.Length{vg.Points(4), vg.Points(3)}
	return o, nil
}

func scatter(pts plotter.XYs, c interface{ RGBA() (r, g, b, a uint32) }, radius float64, shape draw.GlyphDrawer) (*plotter.Scatter, error) {
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = c, vg.Points(radius), shape
	return s, nil
}

func paramPlot(study *experiments.Study, param optimize.Param, trials []experiments.Trial, best *experiments.Trial, logY bool) (*plot.Plot, error) {
	xlabel := param.Name
	if param.Log {
		xlabel += " (log scale)"
	}
	title := fmt.Sprintf("%s against %s", study.Metric, param.Name)
	for i, c := range param.Conditions {
		sep := " (when "
		if i > 0 {
			sep = ", "
		}
		vals := make([]string, len(c.Values))
		for k, v := range c.Values {
			vals[k] = optimize.FormatValue(v)
		}
		title += sep + c.Param + " = " + strings.Join(vals, " or ")
	}
	if len(param.Conditions) > 0 {
		title += ")"
	}
	p := plotstyle.New(title, xlabel, study.Metric)
	p.Title.TextStyle.Font.Size = vg.Points(10)
	// Categorical values sit at 0, 1, …, jittered so that trials do not hide
	// each other; the jitter is seeded for reproducible images.
	jitter := rand.New(rand.NewPCG(1, 2))
	pos := func(v any) (float64, bool) {
		switch param.Kind {
		case optimize.Categorical:
			for i, c := range param.Values {
				if c == v {
					return float64(i) + (jitter.Float64()-0.5)*0.3, true
				}
			}
			return 0, false
		default:
			switch x := v.(type) {
			case float64:
				return x, true
			case int64:
				return float64(x), true
			}
			return 0, false
		}
	}
	var pts, top plotter.XYs
	for i := range trials {
		t := &trials[i]
		if t.State != optimize.Complete || math.IsNaN(t.Value) {
			continue
		}
		x, ok := pos(t.Params[param.Name])
		if !ok {
			continue
		}
		xy := plotter.XY{X: x, Y: t.Value}
		if best != nil && t.Number == best.Number {
			top = append(top, xy)
		} else {
			pts = append(pts, xy)
		}
	}
	switch {
	case param.Kind == optimize.Categorical:
		ticks := make([]plot.Tick, len(param.Values))
		for i, v := range param.Values {
			ticks[i] = plot.Tick{Value: float64(i), Label: optimize.FormatValue(v)}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = -0.5, float64(len(param.Values))-0.5
	default:
		// The whole search range, so that where trials did not go shows.
		p.X.Min, p.X.Max = param.Low, param.High
		if param.Log {
			plotstyle.LogAxis(&p.X)
		} else if param.Kind == optimize.Int {
			plotstyle.CountAxis(&p.X)
		}
	}
	if logY && len(pts)+len(top) > 0 {
		plotstyle.LogAxis(&p.Y)
	}
	p.Add(plotter.NewGrid())
	if len(pts) > 0 {
		s, err := scatter(pts, plotstyle.Gray, 2, draw.CircleGlyph{})
		if err != nil {
			return nil, err
		}
		p.Add(s)
	}
	if len(top) > 0 {
		s, err := scatter(top, plotstyle.Vermillion, 3.5, draw.CircleGlyph{})
		if err != nil {
			return nil, err
		}
		p.Add(s)
	}
	return p, nil
}

// compareTitle says what a comparison shows: the function when the
// studies share a builtin one.
func compareTitle(studies []*experiments.Study) string {
	var fn string
	for i, s := range studies {
		name, _, ok := experiments.KnownOptimum(s)
		if !ok || (i > 0 && name != fn) {
			fn = ""
			break
		}
		fn = name
	}
	what := fmt.Sprintf("best %s so far (%s)", studies[0].Metric, goal(studies[0]))
	if fn != "" {
		return fmt.Sprintf("%s function: %s", titleCase(fn), what)
	}
	return what
}

// titleCase capitalizes a function's name: Branin, Hartmann6.
func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
