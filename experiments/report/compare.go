package report

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette colours the studies of a comparison.
var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255},
	color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255},
	color.RGBA{R: 148, G: 103, B: 189, A: 255},
	color.RGBA{R: 255, G: 127, B: 14, A: 255},
	color.RGBA{R: 140, G: 86, B: 75, A: 255},
}

// PlotCompare draws the best value so far against the number of complete
// trials for several studies on one set of axes. The studies must share a
// direction; a log axis is used when the values span orders of magnitude.
func PlotCompare(w io.Writer, format string, studies []*experiments.Study, trials [][]experiments.Trial) error {
	if len(studies) == 0 || len(studies) != len(trials) {
		return fmt.Errorf("compare: %d studies and %d trial lists", len(studies), len(trials))
	}
	dir := studies[0].Direction
	for _, s := range studies[1:] {
		if s.Direction != dir {
			return fmt.Errorf("compare: study %q maximizes and %q minimizes; compare studies of one direction", maxName(studies), minName(studies))
		}
	}
	p := plot.New()
	p.Title.Text = "best so far"
	p.X.Label.Text = "complete trials"
	p.Y.Label.Text = studies[0].Metric
	var all []experiments.Trial
	for _, ts := range trials {
		all = append(all, ts...)
	}
	if logScaleValues(all) {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Add(plotter.NewGrid())
	for i, s := range studies {
		var pts plotter.XYs
		cur := math.NaN()
		n := 0
		for _, t := range trials[i] {
			if t.State != optimize.Complete || math.IsNaN(t.Value) {
				continue
			}
			n++
			if math.IsNaN(cur) || dir.Better(t.Value, cur) {
				cur = t.Value
			}
			pts = append(pts, plotter.XY{X: float64(n), Y: cur})
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color, l.Width, l.StepStyle = palette[i%len(palette)], vg.Points(1.8), plotter.PostStep
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (%s)", s.Name, s.Sampler), l)
	}
	p.Legend.Top = dir == optimize.Minimize
	cw, err := draw.NewFormattedCanvas(7*vg.Inch, 4.5*vg.Inch, format)
	if err != nil {
		return err
	}
	p.Draw(draw.New(cw))
	_, err = cw.WriteTo(w)
	return err
}

func maxName(studies []*experiments.Study) string {
	for _, s := range studies {
		if s.Direction == optimize.Maximize {
			return s.Name
		}
	}
	return ""
}

func minName(studies []*experiments.Study) string {
	for _, s := range studies {
		if s.Direction == optimize.Minimize {
			return s.Name
		}
	}
	return ""
}
