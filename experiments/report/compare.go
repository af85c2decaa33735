package report

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/internal/plotstyle"
	"github.com/olc-toolkit/olc/optimize"
)

// PlotCompare draws the best value so far against the number of complete
// trials for several studies on one set of axes, with the known minimum
// of a builtin function they share. The studies must share a direction; a
// log axis is used when the values span orders of magnitude.
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
	p := plotstyle.New(compareTitle(studies), "complete trials", studies[0].Metric)
	plotstyle.CountAxis(&p.X)
	legend := plotstyle.NewLegend()
	var all []experiments.Trial
	for _, ts := range trials {
		all = append(all, ts...)
	}
	logY := logScaleValues(all)
	if logY {
		plotstyle.LogAxis(&p.Y)
	}
	p.Add(plotter.NewGrid())
	longest := 0
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
		longest = max(longest, n)
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color, l.Width, l.StepStyle = plotstyle.Palette[i%len(plotstyle.Palette)], vg.Points(1.8), plotter.PostStep
		p.Add(l)
		legend.Add(fmt.Sprintf("%s (%s)", s.Name, samplerTitle(s.Sampler)), l)
	}
	// The known minimum, when every study minimizes the same function.
	if _, opt, ok := experiments.KnownOptimum(studies[0]); ok && (!logY || opt > 0) && longest > 0 {
		shared := true
		for _, s := range studies[1:] {
			if _, o, ok := experiments.KnownOptimum(s); !ok || o != opt {
				shared = false
			}
		}
		if shared {
			o, err := optimumLine(opt, 1, float64(longest))
			if err != nil {
				return err
			}
			p.Add(o)
			legend.Add(fmt.Sprintf("known minimum, %s", plotstyle.Number(opt)), o)
		}
	}
	f := plotstyle.Figure{Panels: []plotstyle.Panel{{Plot: p, Legend: &legend}}, Cols: 1, Width: 8 * vg.Inch, Height: 4.5 * vg.Inch}
	return f.Write(w, format)
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
