package ablation

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// An AnovaRow is one source of variation in an analysis of variance.
type AnovaRow struct {
	Source string  `json:"source"`
	SS     float64 `json:"ss"`
	DF     int     `json:"df"`
	MS     float64 `json:"ms"`
	// F and P are the F statistic against the residual mean square and
	// its p-value; NaN for the blocks, the residual and the total.
	F float64 `json:"f"`
	P float64 `json:"p"`
	// Effect is, for a main effect, the mean with the factor on minus the
	// mean with it off; for an interaction of a and b, half the
	// difference between a's effect with b on and with b off.
	Effect float64 `json:"effect"`
}

// Factorial2k analyses a complete 2^k factorial run in r blocks (seeds):
// y[t][b] is the response of treatment t in block b, where bit i of t set
// means factor i is on. It returns the rows: blocks, each main effect,
// each two-way interaction, the residual (which pools the higher
// interactions with the error) and the total, with sums of squares from
// the ±1 contrasts (Montgomery, Design and Analysis of Experiments, ch. 6
// and 7). names are the factors' names. It needs every cell, r ≥ 2 and a
// positive residual degree of freedom.
func Factorial2k(names []string, y [][]float64) ([]AnovaRow, error) {
	k := len(names)
	T := 1 << k
	if k == 0 || k > 20 {
		return nil, fmt.Errorf("a 2^k factorial needs 1 to 20 factors, not %d", k)
	}
	if len(y) != T {
		return nil, fmt.Errorf("%d treatments for %d factors, want %d", len(y), k, T)
	}
	r := len(y[0])
	for t := range y {
		if len(y[t]) != r {
			return nil, fmt.Errorf("treatment %d has %d blocks, treatment 0 has %d: the design must be complete", t, len(y[t]), r)
		}
		for b, v := range y[t] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("treatment %d, block %d: %v is not a number", t, b, v)
			}
		}
	}
	if r < 2 {
		return nil, fmt.Errorf("%d block(s); blocks need at least 2 seeds", r)
	}
	N := float64(T * r)
	var grand float64
	tmean := make([]float64, T)
	bmean := make([]float64, r)
	for t := range y {
		for b, v := range y[t] {
			grand += v
			tmean[t] += v / float64(r)
			bmean[b] += v / float64(T)
		}
	}
	grand /= N
	var ssTotal, ssBlocks float64
	for t := range y {
		for _, v := range y[t] {
			ssTotal += (v - grand) * (v - grand)
		}
	}
	for _, m := range bmean {
		ssBlocks += float64(T) * (m - grand) * (m - grand)
	}
	rows := []AnovaRow{{Source: "blocks (seeds)", SS: ssBlocks, DF: r - 1}}
	effect := func(set []int) (ss, eff float64) {
		var c float64
		for t := range T {
			s := 1.0
			for _, i := range set {
				if t&(1<<i) == 0 {
					s = -s
				}
			}
			c += s * tmean[t]
		}
		return float64(r) * c * c / float64(T), c / float64(T/2)
	}
	ssEffects := 0.0
	for i := range k {
		ss, e := effect([]int{i})
		rows = append(rows, AnovaRow{Source: names[i], SS: ss, DF: 1, Effect: e})
		ssEffects += ss
	}
	for i := range k {
		for j := i + 1; j < k; j++ {
			ss, e := effect([]int{i, j})
			rows = append(rows, AnovaRow{Source: names[i] + " × " + names[j], SS: ss, DF: 1, Effect: e})
			ssEffects += ss
		}
	}
	dfRes := T*r - 1 - (r - 1) - (len(rows) - 1)
	if dfRes < 1 {
		return nil, fmt.Errorf("no residual degrees of freedom: %d treatments × %d blocks", T, r)
	}
	ssRes := math.Max(0, ssTotal-ssBlocks-ssEffects)
	msRes := ssRes / float64(dfRes)
	fdist := distuv.F{D1: 1, D2: float64(dfRes)}
	for i := range rows {
		rows[i].MS = rows[i].SS / float64(rows[i].DF)
		rows[i].F, rows[i].P = math.NaN(), math.NaN()
		if i > 0 {
			rows[i].F = rows[i].MS / msRes
			rows[i].P = fdist.Survival(rows[i].F)
		}
	}
	rows[0].Effect = math.NaN()
	rows = append(rows,
		AnovaRow{Source: "residual", SS: ssRes, DF: dfRes, MS: msRes, F: math.NaN(), P: math.NaN(), Effect: math.NaN()},
		AnovaRow{Source: "total", SS: ssTotal, DF: T*r - 1, MS: math.NaN(), F: math.NaN(), P: math.NaN(), Effect: math.NaN()})
	return rows, nil
}
