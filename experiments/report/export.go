// Package report turns a study's record into files people read: JSON and
// CSV exports, and plots of its convergence and of the metric against each
// parameter.
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// TrialJSON is a trial as exports write it.
type TrialJSON struct {
	Number       int                `json:"number"`
	State        optimize.State     `json:"state"`
	Params       optimize.Params    `json:"params"`
	Metrics      map[string]float64 `json:"metrics"`
	Value        *float64           `json:"value"`
	Attempt      int                `json:"attempt"`
	RetryOf      *int               `json:"retry_of"`
	Started      string             `json:"started"`
	Finished     *string            `json:"finished"`
	DurationS    *float64           `json:"duration_s"`
	Error        string             `json:"error"`
	Reason       string             `json:"reason,omitempty"`
	LogPath      string             `json:"log_path,omitempty"`
	Intermediate []IntermediateJSON `json:"intermediate,omitempty"`
	// Pareto marks the trials of a multi-objective study's Pareto front.
	Pareto bool `json:"pareto,omitempty"`
}

// paretoSet returns the numbers of a multi-objective study's Pareto
// front, or nil for a study with one metric.
func paretoSet(study *experiments.Study, trials []experiments.Trial) map[int]bool {
	metrics, dirs := experiments.ObjectivesOf(study)
	if len(metrics) < 2 {
		return nil
	}
	set := map[int]bool{}
	for _, t := range experiments.ParetoFront(trials, metrics, dirs) {
		set[t.Number] = true
	}
	return set
}

// IntermediateJSON is an intermediate value as exports write it.
type IntermediateJSON struct {
	Step    int                `json:"step"`
	Metrics map[string]float64 `json:"metrics"`
}

// Trial converts a trial for export.
func Trial(t *experiments.Trial) TrialJSON {
	j := TrialJSON{
		Number: t.Number, State: t.State, Params: t.Params, Metrics: finite(t.Metrics),
		Attempt: t.Attempt, Started: stamp(t.Started), Error: t.Error, Reason: string(t.Reason), LogPath: t.LogPath,
	}
	if j.Params == nil {
		j.Params = optimize.Params{}
	}
	if t.State == optimize.Complete && !math.IsNaN(t.Value) {
		v := t.Value
		j.Value = &v
	}
	if t.RetryOf >= 0 {
		r := t.RetryOf
		j.RetryOf = &r
	}
	if !t.Finished.IsZero() {
		f := stamp(t.Finished)
		d := t.Duration().Seconds()
		j.Finished, j.DurationS = &f, &d
	}
	for _, iv := range t.Intermediate {
		j.Intermediate = append(j.Intermediate, IntermediateJSON{Step: iv.Step, Metrics: finite(iv.Metrics)})
	}
	return j
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func finite(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

// WriteJSON writes {"study": name, "trials": [...]} with the trials in
// number order.
func WriteJSON(w io.Writer, study *experiments.Study, trials []experiments.Trial) error {
	doc := struct {
		Study      string               `json:"study"`
		Direction  optimize.Direction   `json:"direction"`
		Metric     string               `json:"metric"`
		Metrics    []string             `json:"metrics,omitempty"`
		Directions []optimize.Direction `json:"directions,omitempty"`
		Sampler    string               `json:"sampler"`
		Trials     []TrialJSON          `json:"trials"`
	}{Study: study.Name, Direction: study.Direction, Metric: study.Metric, Sampler: study.Sampler, Trials: make([]TrialJSON, 0, len(trials))}
	front := paretoSet(study, trials)
	if front != nil {
		doc.Metrics, doc.Directions = experiments.ObjectivesOf(study)
	}
	for i := range trials {
		j := Trial(&trials[i])
		j.Pareto = front[trials[i].Number]
		doc.Trials = append(doc.Trials, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteCSV writes one row per trial: number, state, value, a params.<name>
// column per parameter (in declaration order), a metrics.<name> column per
// metric any trial reported (sorted), then attempt, retry_of, started,
// finished, duration_s, reason and error.
func WriteCSV(w io.Writer, space *optimize.Space, trials []experiments.Trial) error {
	var params []string
	if space != nil {
		params = space.Names()
	}
	metricSet := map[string]bool{}
	for _, t := range trials {
		for k := range t.Metrics {
			metricSet[k] = true
		}
	}
	metrics := make([]string, 0, len(metricSet))
	for k := range metricSet {
		metrics = append(metrics, k)
	}
	slices.Sort(metrics)
	cw := csv.NewWriter(w)
	header := []string{"number", "state", "value"}
	for _, p := range params {
		header = append(header, "params."+p)
	}
	for _, m := range metrics {
		header = append(header, "metrics."+m)
	}
	header = append(header, "attempt", "retry_of", "started", "finished", "duration_s", "reason", "error")
	if err := cw.Write(header); err != nil {
		return err
	}
	for i := range trials {
		t := &trials[i]
		j := Trial(t)
		row := []string{strconv.Itoa(t.Number), string(t.State), optFloat(j.Value)}
		for _, p := range params {
			if v, ok := t.Params[p]; ok {
				row = append(row, optimize.FormatValue(v))
			} else {
				row = append(row, "")
			}
		}
		for _, m := range metrics {
			if v, ok := j.Metrics[m]; ok {
				row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
			} else {
				row = append(row, "")
			}
		}
		retry := ""
		if j.RetryOf != nil {
			retry = strconv.Itoa(*j.RetryOf)
		}
		fin := ""
		if j.Finished != nil {
			fin = *j.Finished
		}
		row = append(row, strconv.Itoa(t.Attempt), retry, j.Started, fin, optFloat(j.DurationS), j.Reason, t.Error)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func optFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

// Formats lists the export formats.
var Formats = []string{"json", "csv"}

// Export writes the study in format "json" or "csv".
func Export(w io.Writer, format string, study *experiments.Study, trials []experiments.Trial) error {
	switch format {
	case "json":
		return WriteJSON(w, study, trials)
	case "csv":
		space, err := experiments.SpaceOf(study)
		if err != nil {
			return err
		}
		return WriteCSV(w, space, trials)
	}
	return fmt.Errorf("unknown format %q; allowed: json, csv", format)
}
