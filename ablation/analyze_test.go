package ablation

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// planted simulates an accuracy-like metric: 0.8, minus 0.10 when
// component "a" is ablated ("b" is worth nothing), plus noise shared by
// every variant of a seed (sd 0.1: one seed's model is luckier than
// another's) and a little noise of each run (sd 0.01).
func planted(variants []Variant, seeds int) []Observation {
	rng := rand.New(rand.NewPCG(1, 2))
	var obs []Observation
	for s := range seeds {
		shared := 0.1 * rng.NormFloat64()
		for i, v := range variants {
			x := 0.8 + shared + 0.01*rng.NormFloat64()
			if !v.Has("a") {
				x -= 0.10
			}
			obs = append(obs, Observation{Variant: i, Seed: int64(s), Metrics: map[string]float64{"acc": x}})
		}
	}
	return obs
}

var ab = []Component{{Name: "a", Ablate: map[string]any{"a": false}}, {Name: "b", Ablate: map[string]any{"b": false}}}

func TestAnalyzePlantedEffects(t *testing.T) {
	variants, err := Plan(LeaveOneOut, nil, ab, false)
	if err != nil {
		t.Fatal(err)
	}
	const seeds = 8
	obs := planted(variants, seeds)
	res, err := Analyze(LeaveOneOut, ab, variants, []Metric{{"acc", "maximize"}}, obs, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := res[0].Effects[0], res[0].Effects[1]
	if !a.Significant || a.CI[0] > -0.10 || a.CI[1] < -0.10 || a.N != seeds {
		t.Errorf("component a: %+v; want significant with an interval covering -0.10", a)
	}
	if b.Significant || b.CI[0] > 0 || b.CI[1] < 0 || b.Note != "not distinguishable from zero" {
		t.Errorf("component b: %+v; want not significant, interval covering 0", b)
	}
	// Pairing removes the seed-shared noise: the unpaired (Welch) interval
	// of the same difference is far wider.
	var full, noA []float64
	for _, o := range obs {
		switch o.Variant {
		case 0:
			full = append(full, o.Metrics["acc"])
		case 1:
			noA = append(noA, o.Metrics["acc"])
		}
	}
	m1, s1 := stat.MeanStdDev(full, nil)
	m2, s2 := stat.MeanStdDev(noA, nil)
	se := math.Sqrt(s1*s1/seeds + s2*s2/seeds)
	unpaired := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: 2*seeds - 2}.Quantile(0.975) * se
	if paired := a.CI[1] - a.CI[0]; paired*3 > unpaired {
		t.Errorf("paired interval %.4f, unpaired %.4f (difference %.3f): pairing should narrow it at least threefold", paired, unpaired, m2-m1)
	}
	// The power analysis sizes for half the largest effect.
	if math.Abs(a.MinEffect-math.Abs(a.Diff)/2) > 1e-12 || b.SeedsNeeded < 2 {
		t.Errorf("power: min effect %v, seeds needed %d", a.MinEffect, b.SeedsNeeded)
	}
	if v := res[0].Variants[1]; v.Variant != "no a" || v.N != seeds || math.Abs(v.Mean-0.7) > 0.1 {
		t.Errorf("variant stats %+v", v)
	}
}

func TestAnalyzeFactorial(t *testing.T) {
	variants, err := Plan(Factorial, nil, ab, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Analyze(Factorial, ab, variants, []Metric{{"acc", "maximize"}}, planted(variants, 6), 0)
	if err != nil {
		t.Fatal(err)
	}
	anova := res[0].Anova
	if len(anova) != 6 || anova[1].Source != "a" || anova[2].Source != "b" || anova[3].Source != "a × b" {
		t.Fatalf("ANOVA rows %+v", anova)
	}
	if anova[1].P > 0.001 || anova[2].P < 0.01 || math.Abs(anova[1].Effect-0.10) > 0.02 {
		t.Errorf("a: p %v effect %v; b: p %v", anova[1].P, anova[1].Effect, anova[2].P)
	}
	if e := res[0].Effects[0]; !e.Significant || math.Abs(e.Diff+0.10) > 0.02 {
		t.Errorf("main effect of a %+v", e)
	}
}

func TestAnalyzeTooFewSeeds(t *testing.T) {
	variants, _ := Plan(LeaveOneOut, nil, ab, false)
	obs := []Observation{
		{Variant: 0, Seed: 1, Metrics: map[string]float64{"acc": 0.8}},
		{Variant: 1, Seed: 1, Metrics: map[string]float64{"acc": 0.7}},
		{Variant: 2, Seed: 1}, // failed
	}
	res, err := Analyze(LeaveOneOut, ab, variants, []Metric{{"acc", "maximize"}}, obs, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := res[0].Effects[0], res[0].Effects[1]
	if a.N != 1 || math.Abs(a.Diff+0.1) > 1e-12 || !strings.Contains(a.Note, "the tests need at least 2") || a.Significant {
		t.Errorf("one seed: %+v", a)
	}
	if b.N != 0 || !math.IsNaN(b.Diff) {
		t.Errorf("no seed: %+v", b)
	}
	js, err := json.Marshal(res[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"p_t":null`, `"component":"a","diff":-0.1000000000000`, `"ci":[null,null]`, `"metric":"acc"`, `"goal":"maximize"`, `"seeds_needed":0`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON lacks %s:\n%s", want, js)
		}
	}
}

// TestConstantDifferences: differences equal on every seed (a
// deterministic objective) are exact; no test applies and nothing is
// called significant, where a t statistic would be infinite.
func TestConstantDifferences(t *testing.T) {
	for _, d := range [][]float64{{0.25, 0.25, 0.25}, {0, 0}} {
		e := effectOf("c", d)
		if !e.constant || e.CI != [2]float64{d[0], d[0]} || !math.IsNaN(e.PT) || !math.IsNaN(e.PWilcoxon) || !strings.Contains(e.Note, "exact, no test applies") {
			t.Errorf("%v: %+v", d, e)
		}
		es := []Effect{e, effectOf("d", []float64{0.1, 0.3, 0.2})}
		adjust(es, 0)
		if es[0].Significant || es[0].SeedsNeeded != 0 || verdict(es[0]) != "exact: the same on every seed" {
			t.Errorf("%v after adjust: %+v, verdict %q", d, es[0], verdict(es[0]))
		}
	}
}
