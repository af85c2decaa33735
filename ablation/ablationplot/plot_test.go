package ablationplot_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/ablation"
	"github.com/olc-toolkit/olc/ablation/ablationplot"
)

func result() *ablation.Result {
	nan := math.NaN()
	return &ablation.Result{
		Name: "r", Design: ablation.LeaveOneOut, Seeds: []int64{1, 2, 3},
		Metrics: []ablation.MetricAnalysis{
			{Metric: ablation.Metric{Name: "accuracy", Goal: "maximize"}, Effects: []ablation.Effect{
				{Component: "global_attention", Diff: -0.12, CI: [2]float64{-0.2, -0.04}, Significant: true, N: 3},
				{Component: "feedforward", Diff: 0.01, CI: [2]float64{-0.03, 0.05}, N: 3},
				{Component: "layer_norm", Diff: -0.3, CI: [2]float64{nan, nan}, N: 1},
			}},
			{Metric: ablation.Metric{Name: "perplexity", Goal: "minimize"}, Effects: []ablation.Effect{
				{Component: "global_attention", Diff: 0.5, CI: [2]float64{0.1, 0.9}, Significant: true, N: 3},
				{Component: "feedforward", Diff: nan, CI: [2]float64{nan, nan}},
				{Component: "layer_norm", Diff: 2, CI: [2]float64{-1, 5}, N: 3},
			}},
		},
	}
}

// TestDraw draws a result with significant, non-significant and
// interval-less effects (and one with no difference at all) in every
// format.
func TestDraw(t *testing.T) {
	for format, magic := range map[string]string{"png": "\x89PNG", "svg": "<?xml", "pdf": "%PDF"} {
		var buf bytes.Buffer
		if err := ablationplot.Draw(&buf, format, result()); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte(magic)) || buf.Len() < 3000 {
			t.Errorf("%s: %d bytes starting %q", format, buf.Len(), buf.Bytes()[:min(8, buf.Len())])
		}
	}
	var svg bytes.Buffer
	if err := ablationplot.Draw(&svg, "svg", result()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"global_attention", "layer_norm", "accuracy (higher is better)", "perplexity (lower is better)", "not significant", "without it − full"} {
		if !strings.Contains(svg.String(), want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
}

func TestDrawRefuses(t *testing.T) {
	if err := ablationplot.Draw(&bytes.Buffer{}, "gif", result()); err == nil || !strings.Contains(err.Error(), "png, svg or pdf") {
		t.Errorf("gif: %v", err)
	}
	r := result()
	r.Metrics = r.Metrics[:1]
	for i := range r.Metrics[0].Effects {
		r.Metrics[0].Effects[i].Diff = math.NaN()
	}
	if err := ablationplot.Draw(&bytes.Buffer{}, "png", r); err == nil || !strings.Contains(err.Error(), "metric accuracy: no component has a difference") {
		t.Errorf("nothing to draw: %v", err)
	}
	if err := ablationplot.Draw(&bytes.Buffer{}, "png", &ablation.Result{Name: "e"}); err == nil {
		t.Error("a result without metrics drew")
	}
}
