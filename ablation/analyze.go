package ablation

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Alpha is the family-wise level at which effects are called significant,
// after Holm's adjustment across the components of a metric.
const Alpha = 0.05

// Power is the power at which SeedsNeeded sizes a comparison.
const Power = 0.8

// A Metric is one metric the ablation reports, with its goal
// ("maximize" or "minimize").
type Metric struct {
	Name string `json:"metric"`
	Goal string `json:"goal"`
}

// An Observation is the outcome of one variant on one seed: its metrics,
// or none when the trial failed.
type Observation struct {
	Variant int
	Seed    int64
	Metrics map[string]float64
}

// VariantStats describe one variant's values of a metric over the seeds.
type VariantStats struct {
	Variant string     `json:"variant"`
	N       int        `json:"n"`
	Mean    float64    `json:"mean"`
	Std     float64    `json:"std"`
	CI      [2]float64 `json:"ci"`
}

// An Effect is what one component was worth on a metric: the paired
// difference between the variant without it and its reference
// (leave-one-out: ablated − full; add-one-in: only it − minimal), over the
// seeds both completed, so that on a maximized metric removing a helpful
// component gives a negative difference.
type Effect struct {
	Component string     `json:"component"`
	Diff      float64    `json:"diff"`
	CI        [2]float64 `json:"ci"`
	PT        float64    `json:"p_t"`
	PWilcoxon float64    `json:"p_wilcoxon"`
	// PAdjusted is PT after Holm's adjustment across the components of
	// the metric; Significant is PAdjusted < Alpha.
	PAdjusted   float64 `json:"p_adjusted"`
	Significant bool    `json:"significant"`
	DZ          float64 `json:"d_z"`
	N           int     `json:"n"`
	// SeedsNeeded is the number of seeds a paired t-test would need to
	// detect an effect of MinEffect at Power, from the observed spread
	// of the differences; 0 when it cannot be computed.
	SeedsNeeded int     `json:"seeds_needed"`
	MinEffect   float64 `json:"min_effect"`
	// Note says why tests are missing (fewer than 2 paired seeds) or that
	// the effect is not distinguishable from zero.
	Note string `json:"note,omitempty"`

	sd       float64 // standard deviation of the differences, for the power analysis
	constant bool    // every seed gave the same difference
}

// MetricAnalysis is the analysis of one metric.
type MetricAnalysis struct {
	Metric
	Variants []VariantStats `json:"variants"`
	Effects  []Effect       `json:"effects"`
	// Anova is the factorial design's analysis of variance; nil for the
	// other designs.
	Anova []AnovaRow `json:"anova,omitempty"`
}

// Analyze computes, for each metric, every variant's statistics and every
// component's paired effect with its tests, Holm-adjusted across the
// components, and for a factorial design the blocked ANOVA over the seeds
// that completed every variant. minEffect is the effect the power analysis
// sizes for; 0 means half the largest observed effect of the metric.
func Analyze(design Design, comps []Component, variants []Variant, metrics []Metric, obs []Observation, minEffect float64) ([]MetricAnalysis, error) {
	var out []MetricAnalysis
	for _, m := range metrics {
		// value[v][seed]
		value := make([]map[int64]float64, len(variants))
		for i := range value {
			value[i] = map[int64]float64{}
		}
		for _, o := range obs {
			if o.Variant < 0 || o.Variant >= len(variants) {
				return nil, fmt.Errorf("observation of variant %d; there are %d", o.Variant, len(variants))
			}
			if x, ok := o.Metrics[m.Name]; ok && !math.IsNaN(x) {
				value[o.Variant][o.Seed] = x
			}
		}
		ma := MetricAnalysis{Metric: m}
		for i, v := range variants {
			xs := make([]float64, 0, len(value[i]))
			for _, s := range slices.Sorted(maps.Keys(value[i])) {
				xs = append(xs, value[i][s])
			}
			ma.Variants = append(ma.Variants, describe(v.Name, xs))
		}
		if design == Factorial {
			ma.Effects = factorialEffects(comps, variants, value)
			if rows, err := factorialAnova(comps, variants, value); err == nil {
				ma.Anova = rows
			}
		} else {
			for ci, c := range comps {
				// Variant 0 is the reference; variant ci+1 is the component's.
				ma.Effects = append(ma.Effects, pairedEffect(c.Name, value[ci+1], value[0]))
			}
		}
		adjust(ma.Effects, minEffect)
		out = append(out, ma)
	}
	return out, nil
}

// describe returns the n, mean, standard deviation and 95% t interval of
// xs (NaN where they are undefined).
func describe(name string, xs []float64) VariantStats {
	v := VariantStats{Variant: name, N: len(xs), Mean: math.NaN(), Std: math.NaN(), CI: [2]float64{math.NaN(), math.NaN()}}
	if len(xs) == 0 {
		return v
	}
	v.Mean = stat.Mean(xs, nil)
	if len(xs) > 1 {
		v.Std = stat.StdDev(xs, nil)
		h := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(xs) - 1)}.Quantile(0.975) * v.Std / math.Sqrt(float64(len(xs)))
		v.CI = [2]float64{v.Mean - h, v.Mean + h}
	}
	return v
}

// pairedEffect compares x with ref over the seeds both have.
func pairedEffect(name string, x, ref map[int64]float64) Effect {
	var d []float64
	for _, s := range slices.Sorted(maps.Keys(x)) {
		if r, ok := ref[s]; ok {
			d = append(d, x[s]-r)
		}
	}
	return effectOf(name, d)
}

func effectOf(name string, d []float64) Effect {
	e := Effect{Component: name, N: len(d), Diff: math.NaN(), CI: [2]float64{math.NaN(), math.NaN()},
		PT: math.NaN(), PWilcoxon: math.NaN(), PAdjusted: math.NaN(), DZ: math.NaN()}
	if len(d) > 0 {
		e.Diff = stat.Mean(d, nil)
	}
	p, err := PairedTest(d)
	if err != nil {
		e.Note = fmt.Sprintf("%d paired seed(s): the tests need at least 2", len(d))
		return e
	}
	if p.SD <= 1e-12*math.Max(math.Abs(e.Diff), math.SmallestNonzeroFloat64) {
		// Every seed gave the same difference (a deterministic
		// objective, or a seed that does not reach it): the difference
		// is exact and no test applies (t would be infinite).
		e.constant = true
		e.CI = [2]float64{e.Diff, e.Diff}
		e.Note = "the same difference on every seed: exact, no test applies (does the seed reach the objective?)"
		return e
	}
	e.CI, e.PT, e.PWilcoxon, e.DZ, e.sd = p.CI, p.PT, p.PW, p.DZ, p.SD
	return e
}

// factorialEffects are the main effects of a factorial design, paired by
// seed: for each seed that completed every variant, the mean over the
// variants with the component off minus the mean with it on (so that, as
// in the other designs, a helpful component on a maximized metric has a
// negative effect).
func factorialEffects(comps []Component, variants []Variant, value []map[int64]float64) []Effect {
	seeds := completeSeeds(value)
	var out []Effect
	for _, c := range comps {
		var d []float64
		for _, s := range seeds {
			var on, off float64
			var non, noff int
			for i, v := range variants {
				if v.Has(c.Name) {
					on += value[i][s]
					non++
				} else {
					off += value[i][s]
					noff++
				}
			}
			d = append(d, off/float64(noff)-on/float64(non))
		}
		out = append(out, effectOf(c.Name, d))
	}
	return out
}

// completeSeeds returns the seeds with a value for every variant.
func completeSeeds(value []map[int64]float64) []int64 {
	var seeds []int64
	for _, s := range slices.Sorted(maps.Keys(value[0])) {
		all := true
		for i := range value {
			if _, ok := value[i][s]; !ok {
				all = false
				break
			}
		}
		if all {
			seeds = append(seeds, s)
		}
	}
	return seeds
}

// factorialAnova runs Factorial2k on the complete seeds, with factor i
// "on" where component i is not ablated.
func factorialAnova(comps []Component, variants []Variant, value []map[int64]float64) ([]AnovaRow, error) {
	seeds := completeSeeds(value)
	k := len(comps)
	y := make([][]float64, 1<<k)
	names := make([]string, k)
	for i, c := range comps {
		names[i] = c.Name
	}
	for vi, v := range variants {
		t := 0
		for i, c := range comps {
			if v.Has(c.Name) {
				t |= 1 << i
			}
		}
		for _, s := range seeds {
			y[t] = append(y[t], value[vi][s])
		}
	}
	return Factorial2k(names, y)
}

// adjust fills in the Holm-adjusted p-values, significance, power and
// notes of a metric's effects.
func adjust(effects []Effect, minEffect float64) {
	ps := make([]float64, len(effects))
	largest := 0.0
	for i, e := range effects {
		ps[i] = e.PT
		if !math.IsNaN(e.Diff) {
			largest = math.Max(largest, math.Abs(e.Diff))
		}
	}
	adj := Holm(ps)
	target := minEffect
	if target <= 0 {
		target = largest / 2
	}
	for i := range effects {
		e := &effects[i]
		e.PAdjusted = adj[i]
		e.Significant = adj[i] < Alpha
		e.MinEffect = target
		if e.N >= 2 && target > 0 && e.sd > 0 {
			if n, err := SeedsNeeded(target, e.sd, Alpha, Power); err == nil {
				e.SeedsNeeded = n
			}
		}
		if e.Note == "" && !e.Significant {
			e.Note = "not distinguishable from zero"
		}
	}
}

// MarshalJSON writes the effect in the documented key order, NaN
// numbers as null.
func (e Effect) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Component   string      `json:"component"`
		Diff        *float64    `json:"diff"`
		CI          [2]*float64 `json:"ci"`
		PT          *float64    `json:"p_t"`
		PWilcoxon   *float64    `json:"p_wilcoxon"`
		PAdjusted   *float64    `json:"p_adjusted"`
		Significant bool        `json:"significant"`
		DZ          *float64    `json:"d_z"`
		N           int         `json:"n"`
		SeedsNeeded int         `json:"seeds_needed"`
		MinEffect   *float64    `json:"min_effect"`
		Note        string      `json:"note,omitempty"`
	}{e.Component, num(e.Diff), [2]*float64{num(e.CI[0]), num(e.CI[1])}, num(e.PT), num(e.PWilcoxon), num(e.PAdjusted),
		e.Significant, num(e.DZ), e.N, e.SeedsNeeded, num(e.MinEffect), e.Note})
}

// MarshalJSON writes NaN numbers as null.
func (v VariantStats) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Variant string      `json:"variant"`
		N       int         `json:"n"`
		Mean    *float64    `json:"mean"`
		Std     *float64    `json:"std"`
		CI      [2]*float64 `json:"ci"`
	}{v.Variant, v.N, num(v.Mean), num(v.Std), [2]*float64{num(v.CI[0]), num(v.CI[1])}})
}

// MarshalJSON writes NaN numbers as null.
func (r AnovaRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Source string   `json:"source"`
		SS     *float64 `json:"ss"`
		DF     int      `json:"df"`
		MS     *float64 `json:"ms"`
		F      *float64 `json:"f"`
		P      *float64 `json:"p"`
		Effect *float64 `json:"effect"`
	}{r.Source, num(r.SS), r.DF, num(r.MS), num(r.F), num(r.P), num(r.Effect)})
}

func num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}
