package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotFormats lists the formats Plot writes, by file extension.
var PlotFormats = []string{"png", "svg", "pdf"}

// FormatOf returns the plot format of a file name from its extension.
func FormatOf(path string) (string, error) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	for _, f := range PlotFormats {
		if ext == f {
			return f, nil
		}
	}
	return "", fmt.Errorf("cannot tell the plot format of %q; use a name ending in .png, .svg or .pdf", path)
}

var (
	gray  = color.RGBA{R: 140, G: 140, B: 140, A: 255}
	blue  = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	red   = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	cross = color.RGBA{R: 214, G: 39, B: 40, A: 160}
)

// Plot draws a study: on top, every complete trial's value against its
// number with the best value so far as a step line (failed trials as
// crosses along the bottom); below, the value against each parameter, the
// best trial in red, on a log axis for log parameters and with the values
// as ticks for categorical ones.
func Plot(w io.Writer, format string, study *experiments.Study, space *optimize.Space, trials []experiments.Trial) error {
	var params []optimize.Param
	if space != nil {
		params = space.Params()
	}
	cols := min(max(len(params), 1), 3)
	rows := (len(params) + cols - 1) / cols
	width := vg.Length(cols) * 3.2 * vg.Inch
	width = max(width, 7*vg.Inch)
	topH := 3.6 * vg.Inch
	rowH := 2.8 * vg.Inch
	height := topH + vg.Length(rows)*rowH
	cw, err := draw.NewFormattedCanvas(width, height, format)
	if err != nil {
		return err
	}
	dc := draw.New(cw)

	logY := logScaleValues(trials)
	conv, err := convergencePlot(study, trials, logY)
	if err != nil {
		return err
	}
	conv.Draw(draw.Crop(dc, 0, 0, height-topH, 0))

	if rows > 0 {
		below := draw.Crop(dc, 0, 0, 0, -topH)
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter * 2}
		best := experiments.Best(trials, study.Direction)
		for i, p := range params {
			pp, err := paramPlot(study, p, trials, best, logY)
			if err != nil {
				return err
			}
			pp.Draw(tiles.At(below, i%cols, i/cols))
		}
	}
	_, err = cw.WriteTo(w)
	return err
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

func convergencePlot(study *experiments.Study, trials []experiments.Trial, logY bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: %s %s (%s)", study.Name, study.Direction, study.Metric, study.Sampler)
	p.X.Label.Text = "trial"
	p.Y.Label.Text = study.Metric
	var pts, best, failed plotter.XYs
	cur := math.NaN()
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range trials {
		if t.State != optimize.Complete || math.IsNaN(t.Value) {
			continue
		}
		lo, hi = min(lo, t.Value), max(hi, t.Value)
	}
	for _, t := range trials {
		x := float64(t.Number)
		switch {
		case t.State == optimize.Complete && !math.IsNaN(t.Value):
			pts = append(pts, plotter.XY{X: x, Y: t.Value})
			if math.IsNaN(cur) || study.Direction.Better(t.Value, cur) {
				cur = t.Value
			}
			best = append(best, plotter.XY{X: x, Y: cur})
		case t.State == optimize.Failed && !math.IsInf(lo, 1):
			failed = append(failed, plotter.XY{X: x, Y: lo})
		}
	}
	if len(pts) == 0 {
		p.Title.Text += ": no complete trial yet"
		return p, nil
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = gray, vg.Points(2), draw.CircleGlyph{}
	l, err := plotter.NewLine(best)
	if err != nil {
		return nil, err
	}
	l.Color, l.Width, l.StepStyle = blue, vg.Points(1.5), plotter.PostStep
	p.Add(plotter.NewGrid(), s, l)
	p.Legend.Add("trial", s)
	p.Legend.Add("best so far", l)
	if len(failed) > 0 {
		f, err := plotter.NewScatter(failed)
		if err != nil {
			return nil, err
		}
		f.GlyphStyle.Color, f.GlyphStyle.Radius, f.GlyphStyle.Shape = cross, vg.Points(2.5), draw.CrossGlyph{}
		p.Add(f)
		p.Legend.Add("failed", f)
	}
	// The legend goes where the best-so-far line is not.
	p.Legend.Top = study.Direction == optimize.Minimize
	p.Legend.Left = false
	return p, nil
}

func paramPlot(study *experiments.Study, param optimize.Param, trials []experiments.Trial, best *experiments.Trial, logY bool) (*plot.Plot, error) {
	p := plot.New()
	p.X.Label.Text = param.Name
	p.Y.Label.Text = study.Metric
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
	if param.Kind != optimize.Categorical {
		// The whole search range, so that where trials did not go shows.
		p.X.Min, p.X.Max = param.Low, param.High
	}
	if param.Log {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if logY && len(pts)+len(top) > 0 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if param.Kind == optimize.Categorical {
		ticks := make([]plot.Tick, len(param.Values))
		for i, v := range param.Values {
			ticks[i] = plot.Tick{Value: float64(i), Label: optimize.FormatValue(v)}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = -0.5, float64(len(param.Values))-0.5
	}
	if len(pts) > 0 {
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = gray, vg.Points(2), draw.CircleGlyph{}
		p.Add(s)
	}
	if len(top) > 0 {
		s, err := plotter.NewScatter(top)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = red, vg.Points(3.5), draw.CircleGlyph{}
		p.Add(s)
	}
	return p, nil
}
