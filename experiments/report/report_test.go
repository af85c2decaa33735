package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/report"
	"github.com/olc-toolkit/olc/optimize"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func fixture(t *testing.T) (*experiments.Study, *optimize.Space, []experiments.Trial) {
	space, err := optimize.NewSpace(
		optimize.Param{Name: "lr", Kind: optimize.Float, Low: 1e-4, High: 1, Log: true},
		optimize.Param{Name: "opt", Kind: optimize.Categorical, Values: []any{"adam", "sgd"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	id := experiments.Identity{Direction: optimize.Minimize, Metric: "loss", Sampler: "random", Space: space, Objective: map[string]any{"kind": "command"}}
	study := &experiments.Study{Name: "s", Direction: optimize.Minimize, Metric: "loss", Sampler: "random", Identity: id.String()}
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	trials := []experiments.Trial{
		{Number: 0, State: optimize.Complete, Params: optimize.Params{"lr": 0.01, "opt": "adam"}, Metrics: map[string]float64{"loss": 0.5, "acc": 0.9},
			Value: 0.5, Attempt: 1, RetryOf: -1, Started: t0, Finished: t0.Add(1500 * time.Millisecond), LogPath: "runs/s/0",
			Intermediate: []experiments.Intermediate{{Step: 1, Metrics: map[string]float64{"loss": 0.8}}}},
		{Number: 1, State: optimize.Failed, Params: optimize.Params{"lr": 1.0, "opt": "sgd"}, Metrics: map[string]float64{"loss": math.NaN()},
			Value: math.NaN(), Attempt: 1, RetryOf: -1, Started: t0.Add(time.Second), Finished: t0.Add(2 * time.Second), Error: "exit status 1, \"quoted\"\nline 2", Reason: experiments.ReasonError},
		{Number: 2, State: optimize.Complete, Params: optimize.Params{"lr": 1.0, "opt": "sgd"}, Metrics: map[string]float64{"loss": 0.25},
			Value: 0.25, Attempt: 2, RetryOf: 1, Started: t0.Add(3 * time.Second), Finished: t0.Add(4 * time.Second)},
		{Number: 3, State: optimize.Running, Params: optimize.Params{"lr": 0.001, "opt": "adam"}, Value: math.NaN(), Attempt: 1, RetryOf: -1, Started: t0.Add(5 * time.Second)},
	}
	return study, space, trials
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(path, got, 0o644)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestExportJSON(t *testing.T) {
	study, _, trials := fixture(t)
	var buf bytes.Buffer
	if err := report.Export(&buf, "json", study, trials); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "export.json", buf.Bytes())
	var doc struct {
		Trials []map[string]any
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Trials[1]["value"] != nil || doc.Trials[3]["finished"] != nil || doc.Trials[2]["retry_of"] != 1.0 {
		t.Errorf("null handling: %v", doc.Trials)
	}
}

func TestExportCSV(t *testing.T) {
	study, _, trials := fixture(t)
	var buf bytes.Buffer
	if err := report.Export(&buf, "csv", study, trials); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "export.csv", buf.Bytes())
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 5 || len(rows[0]) != len(rows[2]) {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
}

func TestPlot(t *testing.T) {
	study, space, trials := fixture(t)
	for _, format := range report.PlotFormats {
		var buf bytes.Buffer
		if err := report.Plot(&buf, format, study, space, trials); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		magic := map[string]string{"png": "\x89PNG", "svg": "<?xml", "pdf": "%PDF"}[format]
		if !bytes.HasPrefix(buf.Bytes(), []byte(magic)) {
			t.Errorf("%s plot starts with %q", format, buf.Bytes()[:8])
		}
	}
	// A study without complete trials still plots.
	var buf bytes.Buffer
	if err := report.Plot(&buf, "png", study, space, trials[3:]); err != nil {
		t.Errorf("plot of a study without complete trials: %v", err)
	}
	if _, err := report.FormatOf("x.jpeg"); err == nil {
		t.Error("FormatOf accepted .jpeg")
	}
}

func TestPlotCompare(t *testing.T) {
	study, _, trials := fixture(t)
	other := *study
	other.Name, other.Sampler = "t", "bayes"
	var buf bytes.Buffer
	if err := report.PlotCompare(&buf, "png", []*experiments.Study{study, &other}, [][]experiments.Trial{trials, trials[:2]}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\x89PNG")) {
		t.Error("not a PNG")
	}
	max := other
	max.Direction = optimize.Maximize
	if err := report.PlotCompare(&buf, "png", []*experiments.Study{study, &max}, [][]experiments.Trial{trials, trials}); err == nil {
		t.Error("comparing studies of opposite directions succeeded")
	}
}

// TestPlotCurves: a study whose trials reported intermediate values gets
// a panel of learning curves, pruned trials included; its figure is
// taller by a panel than the same study's without them.
func TestPlotCurves(t *testing.T) {
	study, space, trials := fixture(t)
	size := func(ts []experiments.Trial) (w, h int) {
		var buf bytes.Buffer
		if err := report.Plot(&buf, "png", study, space, ts); err != nil {
			t.Fatal(err)
		}
		img, err := png.DecodeConfig(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return img.Width, img.Height
	}
	plain := make([]experiments.Trial, len(trials))
	copy(plain, trials)
	for i := range plain {
		plain[i].Intermediate = nil
	}
	w0, h0 := size(plain)
	curved := make([]experiments.Trial, len(trials))
	copy(curved, trials)
	for i := range curved {
		curved[i].Intermediate = []experiments.Intermediate{
			{Step: 1, Metrics: map[string]float64{study.Metric: 2}}, {Step: 2, Metrics: map[string]float64{study.Metric: 1.5}}}
	}
	curved[1].State = optimize.Pruned
	w1, h1 := size(curved)
	if w1 != w0 || h1 <= h0+200 {
		t.Errorf("with learning curves the plot is %d×%d, without %d×%d: want a panel more", w1, h1, w0, h0)
	}
}
