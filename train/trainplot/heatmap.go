// Package trainplot draws evaluation results: accuracy by context length
// × needle depth as a heat map (the needle-in-a-haystack figure), with
// gonum/plot, as PNG, SVG or PDF.
package trainplot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/olc-toolkit/olc/internal/plotstyle"
	"github.com/olc-toolkit/olc/train"
)

// gridXYZ adapts a train.Grid to plotter.GridXYZ: columns are depths,
// rows context lengths, values exact match in percent (NaN for empty
// cells).
type gridXYZ struct{ g *train.Grid }

func (x gridXYZ) Dims() (c, r int) { return len(x.g.Depths), len(x.g.Lengths) }
func (x gridXYZ) X(c int) float64  { return float64(c) }
func (x gridXYZ) Y(r int) float64  { return float64(r) }
func (x gridXYZ) Z(c, r int) float64 {
	cell := x.g.Cells[r*len(x.g.Depths)+c]
	if cell.N == 0 {
		return math.NaN()
	}
	return cell.Exact
}

// HeatMap writes the accuracy grid to w in format ("png", "svg" or
// "pdf"): exact match in percent on the house colour map (viridis, 0 to
// 100, with its colour bar), each cell labelled with its value; cells
// without questions are gray.
func HeatMap(w io.Writer, format, title string, g *train.Grid) error {
	switch format {
	case "png", "svg", "pdf":
	default:
		return fmt.Errorf("unknown plot format %q; use png, svg or pdf", format)
	}
	if len(g.Lengths) == 0 || len(g.Depths) == 0 {
		return fmt.Errorf("the accuracy grid is empty")
	}
	p := plotstyle.New(title, "needle depth (fraction of the context)", "context length (bytes)")
	cm := plotstyle.Viridis(0, 100)
	hm := plotter.NewHeatMap(gridXYZ{g}, cm.Palette(101))
	hm.Min, hm.Max = 0, 100
	hm.NaN = color.RGBA{R: 220, G: 220, B: 220, A: 255}
	p.Add(hm)
	var labels plotter.XYLabels
	for r := range g.Lengths {
		for c := range g.Depths {
			cell := g.Cells[r*len(g.Depths)+c]
			if cell.N == 0 {
				continue
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(r)})
			labels.Labels = append(labels.Labels, fmt.Sprintf("%.0f", cell.Exact))
		}
	}
	if len(labels.XYs) > 0 {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
			// White on the dark half of the map, black on the light.
			if v, _ := strconv.ParseFloat(labels.Labels[i], 64); v < 55 {
				l.TextStyle[i].Color = color.White
			}
		}
		p.Add(l)
	}
	var xt, yt []plot.Tick
	for c, d := range g.Depths {
		xt = append(xt, plot.Tick{Value: float64(c), Label: strconv.FormatFloat(d, 'g', 3, 64)})
	}
	for r, l := range g.Lengths {
		yt = append(yt, plot.Tick{Value: float64(r), Label: strconv.Itoa(l)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Min, p.X.Max = -0.5, float64(len(g.Depths))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(g.Lengths))-0.5
	wt := vg.Length(max(4, 0.6*float64(len(g.Depths))+2)) * vg.Inch
	ht := vg.Length(max(3, 0.45*float64(len(g.Lengths))+1.5)) * vg.Inch
	f := plotstyle.Figure{Panels: []plotstyle.Panel{{Plot: p, ColorBar: &plotstyle.ColorBar{Map: cm, Label: "exact match (%)"}, Extra: 0.9 * vg.Inch}}, Cols: 1, Width: wt, Height: ht}
	return f.Write(w, format)
}
