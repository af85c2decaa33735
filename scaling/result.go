package scaling

import (
	"encoding/json"
	"math"
)

// An Estimate is a fitted quantity with its bootstrap standard error and
// 95% percentile interval (NaN when there was no bootstrap).
type Estimate struct {
	Value float64
	SE    float64
	CI    [2]float64
}

// pointEstimate returns an Estimate without an interval.
func pointEstimate(v float64) Estimate {
	return Estimate{Value: v, SE: math.NaN(), CI: [2]float64{math.NaN(), math.NaN()}}
}

// HasInterval reports whether e carries a bootstrap interval.
func (e Estimate) HasInterval() bool { return !math.IsNaN(e.SE) }

type estimateJSON struct {
	Value *float64    `json:"value"`
	SE    *float64    `json:"se"`
	CI    *[2]float64 `json:"ci"`
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// MarshalJSON writes {"value", "se", "ci"}, with null for what is missing
// or not finite.
func (e Estimate) MarshalJSON() ([]byte, error) {
	j := estimateJSON{Value: finitePtr(e.Value), SE: finitePtr(e.SE)}
	if e.HasInterval() && !math.IsNaN(e.CI[0]) && !math.IsInf(e.CI[0], 0) && !math.IsInf(e.CI[1], 0) {
		ci := e.CI
		j.CI = &ci
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Estimate) UnmarshalJSON(b []byte) error {
	var j estimateJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = pointEstimate(math.NaN())
	if j.Value != nil {
		e.Value = *j.Value
	}
	if j.SE != nil {
		e.SE = *j.SE
	}
	if j.CI != nil {
		e.CI = *j.CI
	}
	return nil
}

// Exponents are the compute-optimal scaling of a law of N and D:
// N_opt ∝ C^a and D_opt ∝ C^b, with N_opt(C) = G·(C/6)^a.
type Exponents struct {
	A Estimate `json:"a"`
	B Estimate `json:"b"`
	G Estimate `json:"G"`
}

// Allocation is the compute-optimal model size and data for one budget.
type Allocation struct {
	// Compute is the budget in FLOPs (C = 6·N·D).
	Compute float64 `json:"compute"`
	// N and D are the optimal parameters and tokens.
	N Estimate `json:"N"`
	D Estimate `json:"D"`
	// TokensPerParam is D/N.
	TokensPerParam Estimate `json:"tokens_per_param"`
	// Loss is the law's loss at the optimum (on the metric's scale).
	Loss Estimate `json:"loss"`
}

// HoldoutPoint is one point left out of the holdout fit.
type HoldoutPoint struct {
	Label       string             `json:"label"`
	X           map[string]float64 `json:"x"`
	Observed    float64            `json:"observed"`
	Predicted   float64            `json:"predicted"`
	LogResidual float64            `json:"log_residual"`
}

// Holdout measures extrapolation: the law fitted without the K
// largest-compute points, and its error on them.
type Holdout struct {
	K int `json:"k"`
	// Params are the holdout fit's parameters.
	Params map[string]float64 `json:"params"`
	// RMSELog is the root mean square of the log residuals on the held-out
	// points.
	RMSELog float64 `json:"rmse_log"`
	// MAPE and MaxAPE are the mean and largest absolute percentage errors
	// of the predicted metric on them.
	MAPE   float64        `json:"mape"`
	MaxAPE float64        `json:"max_ape"`
	Points []HoldoutPoint `json:"points"`
}

// BootstrapInfo describes the bootstrap behind the intervals.
type BootstrapInfo struct {
	Resamples int    `json:"resamples"`
	Seed      uint64 `json:"seed"`
	// Failed counts resamples whose fit did not converge; they are left
	// out of the intervals.
	Failed int `json:"failed"`
	// Degenerate counts resamples with too few distinct points to
	// identify the law; they are left out too.
	Degenerate int `json:"degenerate"`
	// Samples are the reported parameters of each successful resample, in
	// the order of Result.ParamNames.
	Samples [][]float64 `json:"samples"`
	// Subsets and SubsetPoints describe a bag of little bootstraps (0
	// for the standard bootstrap): the resamples are spread over Subsets
	// subsets of SubsetPoints points each.
	Subsets      int `json:"subsets,omitempty"`
	SubsetPoints int `json:"subset_points,omitempty"`
}

// Screening describes a start grid run on a subsample of the points.
type Screening struct {
	// Points is the size of the subsample.
	Points int `json:"points"`
	// Refitted is the number of the subsample's optima (and the grid
	// points that led to them) refitted on all the points.
	Refitted int `json:"refitted"`
	// Converged is the number of starts that converged on the subsample.
	Converged int `json:"converged"`
}

// Result is a fitted law.
type Result struct {
	// Law is the fitted law.
	Law       Law       `json:"-"`
	LawName   string    `json:"law"`
	Formula   string    `json:"formula"`
	Loss      LossKind  `json:"loss"`
	Delta     float64   `json:"delta"`
	Transform Transform `json:"transform"`
	// Columns maps the law's variables and "loss" to the data's column
	// names, when they were named.
	Columns map[string]string `json:"columns,omitempty"`
	NPoints int               `json:"n_points"`
	// ParamNames lists the parameters in the law's order.
	ParamNames []string            `json:"param_names"`
	Params     map[string]Estimate `json:"params"`
	// Objective is the loss summed over the points at the estimate.
	Objective float64 `json:"objective"`
	// RMSELog and R2Log measure the fit on the log of the fitted loss.
	RMSELog float64 `json:"rmse_log"`
	R2Log   float64 `json:"r2_log"`
	// Converged, GradNorm, Iterations and Status describe the winning
	// start's L-BFGS run (GradNorm is the ∞-norm of the objective's
	// gradient).
	Converged  bool    `json:"converged"`
	GradNorm   float64 `json:"grad_norm"`
	Iterations int     `json:"iterations"`
	Status     string  `json:"status"`
	// Starts is the number of starts and StartsConverged how many of them
	// converged.
	Starts          int `json:"starts"`
	StartsConverged int `json:"starts_converged"`
	// Screen, when set, says that the starts ran on a subsample of the
	// points and which of them were refitted on all of them.
	Screen *Screening `json:"screen,omitempty"`
	// Condition is the condition number of the Jacobian of the log
	// predictions with respect to the internal parameters at the estimate;
	// large values mean some combination of parameters is not determined
	// by the data.
	Condition float64 `json:"jacobian_condition"`
	// Exponents is nil, and Optimal empty, for laws that are not laws of
	// N and D; Holdout is nil unless Options.Holdout asked for it.
	Exponents *Exponents     `json:"exponents"`
	Optimal   []Allocation   `json:"optimal"`
	Holdout   *Holdout       `json:"holdout"`
	Bootstrap *BootstrapInfo `json:"bootstrap,omitempty"`
	// Warnings say what the numbers alone do not.
	Warnings []string `json:"warnings"`
	// Seconds is the wall time of each stage.
	Seconds Timing `json:"seconds"`
}

// Timing is the wall time of a fit's stages, in seconds.
type Timing struct {
	Fit       float64 `json:"fit"`
	Bootstrap float64 `json:"bootstrap"`
	Holdout   float64 `json:"holdout"`
}

// Values returns the estimated parameters in the order of ParamNames.
func (r *Result) Values() []float64 {
	out := make([]float64, len(r.ParamNames))
	for i, n := range r.ParamNames {
		out[i] = r.Params[n].Value
	}
	return out
}

// Param returns the estimate of the named parameter.
func (r *Result) Param(name string) Estimate { return r.Params[name] }
