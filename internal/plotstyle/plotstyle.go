// Package plotstyle is the one style of olc's figures, over gonum/plot:
// colour-blind-safe colours (Okabe and Ito 2008; viridis for values),
// tick labels that never collide (integer ticks where an axis counts,
// decades on log axes, thinned to fit), titles that say what is shown, and
// legends and colour bars beside the data rather than over them.
package plotstyle

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Colours. Palette is Okabe and Ito's set, distinct for the common colour
// vision deficiencies; Blue and Vermillion are its first two, the colours
// of a main series and of what stands out (the best trial, a budget).
var (
	Palette = []color.Color{
		color.RGBA{R: 0x00, G: 0x72, B: 0xB2, A: 255}, // blue
		color.RGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 255}, // vermillion
		color.RGBA{R: 0x00, G: 0x9E, B: 0x73, A: 255}, // bluish green
		color.RGBA{R: 0xCC, G: 0x79, B: 0xA7, A: 255}, // reddish purple
		color.RGBA{R: 0xE6, G: 0x9F, B: 0x00, A: 255}, // orange
		color.RGBA{R: 0x56, G: 0xB4, B: 0xE9, A: 255}, // sky blue
		color.RGBA{R: 0x00, G: 0x00, B: 0x00, A: 255}, // black
	}
	Blue       = Palette[0]
	Vermillion = Palette[1]
	Green      = Palette[2]
	Orange     = Palette[4]
	Gray       = color.RGBA{R: 125, G: 125, B: 125, A: 255}
	// Band fills intervals around a Blue line.
	Band = color.NRGBA{R: 0x00, G: 0x72, B: 0xB2, A: 60}
)

// Formats lists the formats Write produces, by file extension.
var Formats = []string{"png", "svg", "pdf"}

// FormatOf returns the format of a file name from its extension.
func FormatOf(path string) (string, error) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	for _, f := range Formats {
		if ext == f {
			return f, nil
		}
	}
	return "", fmt.Errorf("cannot tell the plot format of %q; use a name ending in .png, .svg or .pdf", path)
}

// New returns a plot in the house style with its title and axis labels
// (give the units in the labels: "compute C = 6ND (FLOPs)").
func New(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(11)
		a.Tick.Label.Font.Size = vg.Points(9)
	}
	p.X.Tick.Marker = Ticks{}
	p.Y.Tick.Marker = Ticks{}
	p.Legend = NewLegend()
	return p
}

// NewLegend returns a legend in the house style, for Panel.Legend.
func NewLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font.Size = vg.Points(9)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = vg.Points(16)
	return l
}

// LogAxis puts a on a log scale with Decades ticks.
func LogAxis(a *plot.Axis) {
	a.Scale = plot.LogScale{}
	a.Tick.Marker = Decades{}
}

// CountAxis gives a the ticks of a count (trial numbers): integers.
func CountAxis(a *plot.Axis) { a.Tick.Marker = Counts{} }

// maxLabels bounds the labelled ticks of an axis, so that labels such as
// "1e+21" do not run into each other on a plot a few inches wide.
const maxLabels = 6

// Ticks are linear ticks at 1, 2 or 5 times a power of ten, at most
// maxLabels of them labelled, written as short as they can be.
type Ticks struct{}

// Ticks implements plot.Ticker.
func (Ticks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: Number(lo)}}
	}
	step := niceStep((hi - lo) / maxLabels)
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		x := math.Round(v/step) * step
		if math.Abs(x) < step*1e-9 {
			x = 0
		}
		out = append(out, plot.Tick{Value: x, Label: Number(x)})
		// A minor tick halfway, unlabelled.
		if m := x + step/2; m <= hi {
			out = append(out, plot.Tick{Value: m})
		}
	}
	return out
}

// Counts are ticks at integers, at most maxLabels of them labelled.
type Counts struct{}

// Ticks implements plot.Ticker.
func (Counts) Ticks(lo, hi float64) []plot.Tick {
	step := max(1, niceStep((hi-lo)/maxLabels))
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatInt(int64(v), 10)})
	}
	return out
}

// niceStep returns the least of 1, 2 and 5 times a power of ten that is at
// least x.
func niceStep(x float64) float64 {
	if !(x > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// Decades are ticks for log axes: labels at powers of ten, every k-th
// decade when there are more than maxLabels, unlabelled ticks at the
// others and, over a few decades, at 2 to 9 times each; an axis that spans
// less than a decade or so gets labels at 1, 2 and 5 times powers of ten,
// or at every integer multiple, instead.
type Decades struct{}

// Ticks implements plot.Ticker.
func (Decades) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return Ticks{}.Ticks(lo, hi)
	}
	a, b := int(math.Ceil(math.Log10(lo)-1e-9)), int(math.Floor(math.Log10(hi)+1e-9))
	if b-a < 1 {
		return shortLog(lo, hi)
	}
	stride := (b - a + maxLabels) / maxLabels
	var out []plot.Tick
	for k := a - 1; k <= b; k++ {
		base := math.Pow(10, float64(k))
		if k >= a && (k-a)%stride == 0 {
			out = append(out, plot.Tick{Value: base, Label: Power(k)})
		} else if k >= a {
			out = append(out, plot.Tick{Value: base})
		}
		if b-a <= 4 {
			for m := 2.0; m <= 9; m++ {
				if v := m * base; v >= lo && v <= hi {
					out = append(out, plot.Tick{Value: v})
				}
			}
		}
	}
	return out
}

// shortLog labels a log axis that spans about a decade or less: at 1, 2
// and 5 times powers of ten, or at every integer multiple (every other one
// labelled when they are too many), or else linearly.
func shortLog(lo, hi float64) []plot.Tick {
	for _, ms := range [][]float64{{1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		var out []plot.Tick
		for k := int(math.Floor(math.Log10(lo))); k <= int(math.Ceil(math.Log10(hi))); k++ {
			for _, m := range ms {
				if v := m * math.Pow(10, float64(k)); v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
					out = append(out, plot.Tick{Value: v, Label: Number(v)})
				}
			}
		}
		if len(out) > maxLabels {
			for i := 1; i < len(out); i += 2 {
				out[i].Label = ""
			}
		}
		if len(out) >= 3 {
			return out
		}
	}
	return Ticks{}.Ticks(lo, hi)
}

// Number writes a tick value as short as it can: 0.5, 25, 1500, 2e+06.
func Number(v float64) string {
	if v == 0 {
		return "0"
	}
	if a := math.Abs(v); a >= 1e5 || a < 1e-3 {
		// 1.5e+22 → 1.5e22, 2e-05 → 2e-5.
		m, e, _ := strings.Cut(strconv.FormatFloat(v, 'e', -1, 64), "e")
		if len(m) > 4 {
			m, e, _ = strings.Cut(strconv.FormatFloat(v, 'e', 2, 64), "e")
			m = strings.TrimRight(strings.TrimRight(m, "0"), ".")
		}
		k, _ := strconv.Atoi(e)
		return m + "e" + strconv.Itoa(k)
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64) // 4 significant digits
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// Power writes 10^k: 0.01, 1, 1000, 1e+05 and beyond as 1e5, 1e-4.
func Power(k int) string {
	if k >= -2 && k <= 4 {
		return strconv.FormatFloat(math.Pow(10, float64(k)), 'f', -1, 64)
	}
	return "1e" + strconv.Itoa(k)
}

// Viridis is the colour map of values (van der Walt and Smith's viridis,
// perceptually uniform and readable in grey and by colour-blind readers),
// stopped short of its palest yellow so that it shows on white.
func Viridis(lo, hi float64) palette.ColorMap {
	cm, err := moreland.NewLuminance([]color.Color{
		color.NRGBA{R: 68, G: 1, B: 84, A: 255},
		color.NRGBA{R: 59, G: 82, B: 139, A: 255},
		color.NRGBA{R: 33, G: 145, B: 140, A: 255},
		color.NRGBA{R: 94, G: 201, B: 98, A: 255},
		color.NRGBA{R: 189, G: 223, B: 38, A: 255},
	})
	if err != nil {
		panic("plotstyle: " + err.Error())
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	cm.SetMin(lo)
	cm.SetMax(hi)
	return cm
}

// ColorBar is the key to a colour map: a strip with the values' axis.
type ColorBar struct {
	// Map gives the colours; Log says its values are log10 of what the
	// Label names (the axis then shows decades of it).
	Map   palette.ColorMap
	Log   bool
	Label string
}

// Panel is one plot of a figure, with an optional legend or colour bar
// drawn beside it, outside the data.
type Panel struct {
	Plot     *plot.Plot
	Legend   *plot.Legend
	ColorBar *ColorBar
	// Extra widens the panel's column beyond the figure's Width (room
	// for a wide legend).
	Extra vg.Length
}

// Figure is panels laid out in a grid, each cell Width × Height.
type Figure struct {
	Panels        []Panel
	Cols          int
	Width, Height vg.Length
}

// columns returns the width of each column: Width, plus the largest
// Extra of its panels.
func (f Figure) columns() []vg.Length {
	cols := max(1, min(f.Cols, len(f.Panels)))
	w := make([]vg.Length, cols)
	for i := range w {
		w[i] = f.Width
	}
	for i, p := range f.Panels {
		w[i%cols] = max(w[i%cols], f.Width+p.Extra)
	}
	return w
}

// size returns the figure's grid and its size.
func (f Figure) size() (rows, cols int, w, h vg.Length) {
	widths := f.columns()
	cols = len(widths)
	rows = (len(f.Panels) + cols - 1) / cols
	for _, x := range widths {
		w += x
	}
	return rows, cols, w, vg.Length(rows) * f.Height
}

// drawInto draws the figure's panels in c, each in its cell with a margin.
func (f Figure) drawInto(c draw.Canvas) {
	widths := f.columns()
	cols := len(widths)
	pad := vg.Millimeter * 2
	for i, p := range f.Panels {
		col, row := i%cols, i/cols
		var x0 vg.Length
		for _, w := range widths[:col] {
			x0 += w
		}
		cell := draw.Crop(c, x0+pad, x0+widths[col]-c.Size().X-pad, c.Size().Y-vg.Length(row+1)*f.Height+pad, -vg.Length(row)*f.Height-pad)
		p.draw(cell)
	}
}

// Write draws the figure in format ("png", "svg" or "pdf") to w.
func (f Figure) Write(w io.Writer, format string) error { return Stack(w, format, f) }

// Stack draws figures one below the other in one image, in format ("png",
// "svg" or "pdf"), to w.
func Stack(w io.Writer, format string, figs ...Figure) error {
	var width, height vg.Length
	for _, f := range figs {
		_, _, fw, fh := f.size()
		width, height = max(width, fw), height+fh
	}
	cw, err := draw.NewFormattedCanvas(width, height, format)
	if err != nil {
		return err
	}
	dc := draw.New(cw)
	y := height
	for _, f := range figs {
		_, _, fw, fh := f.size()
		if len(f.Panels) > 0 {
			f.drawInto(draw.Crop(dc, 0, fw-width, y-fh, y-height))
		}
		y -= fh
	}
	_, err = cw.WriteTo(w)
	return err
}

// draw draws the panel in c: the plot, and its key to the right.
func (p Panel) draw(c draw.Canvas) {
	switch {
	case p.Legend != nil:
		l := *p.Legend
		l.Left, l.Top = true, true
		r := l.Rectangle(c)
		keyW := r.Size().X + vg.Millimeter*3
		plotC := draw.Crop(c, 0, -keyW, 0, 0)
		p.Plot.Draw(plotC)
		// Level with the top of the data area: below the title.
		keyC := draw.Crop(c, c.Size().X-keyW+vg.Millimeter*2, 0, 0, -titleHeight(p.Plot)-vg.Millimeter)
		l.Draw(keyC)
	case p.ColorBar != nil:
		keyW := 0.95 * vg.Inch
		p.Plot.Draw(draw.Crop(c, 0, -keyW, 0, 0))
		bar := plot.New()
		bar.Add(&plotter.ColorBar{ColorMap: p.ColorBar.Map, Vertical: true})
		bar.HideX()
		bar.Y.Label.Text = p.ColorBar.Label
		bar.Y.Label.TextStyle.Font.Size = vg.Points(10)
		bar.Y.Tick.Label.Font.Size = vg.Points(9)
		bar.Y.Min, bar.Y.Max = p.ColorBar.Map.Min(), p.ColorBar.Map.Max()
		if p.ColorBar.Log {
			bar.Y.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
				var out []plot.Tick
				for _, t := range (Decades{}).Ticks(math.Pow(10, lo), math.Pow(10, hi)) {
					out = append(out, plot.Tick{Value: math.Log10(t.Value), Label: t.Label})
				}
				return out
			})
		} else {
			bar.Y.Tick.Marker = Ticks{}
		}
		barC := draw.Crop(c, c.Size().X-keyW+vg.Millimeter*3, -vg.Millimeter*2, p.Plot.X.Tick.Label.Font.Size*3, -titleHeight(p.Plot))
		bar.Draw(barC)
	default:
		p.Plot.Draw(c)
	}
}

// titleHeight is the height a plot's title takes above its data area.
func titleHeight(p *plot.Plot) vg.Length {
	if p.Title.Text == "" {
		return 0
	}
	return p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
}
