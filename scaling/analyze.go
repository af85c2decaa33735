package scaling

import (
	"context"
	"errors"
	"slices"
)

// Skipped is a law Analyze did not fit, and why.
type Skipped struct {
	Law    string `json:"law"`
	Reason string `json:"reason"`
}

// Analysis is the outcome of Analyze.
type Analysis struct {
	// Fits holds a fit of every law the data identify, fewest parameters
	// first.
	Fits []*Result `json:"fits"`
	// Skipped lists the laws whose variables the data have but which they
	// cannot identify.
	Skipped []Skipped `json:"skipped"`
}

// Analyze fits every law whose variables d has and that d can identify,
// and says why it skipped the others: data in, fits with intervals out,
// never a silent overfit. opts apply to every fit (opts.Starts must be nil,
// since each law has its own grid).
func Analyze(ctx context.Context, d *Data, opts Options) (*Analysis, error) {
	a := &Analysis{Fits: []*Result{}, Skipped: []Skipped{}}
	opts.Starts = nil
	for _, name := range LawNames() {
		law, _ := LawByName(name)
		if !slices.ContainsFunc(law.Vars(), func(v string) bool { _, ok := d.Vars[v]; return ok }) {
			continue
		}
		if why := identifiable(law, d); why != "" {
			a.Skipped = append(a.Skipped, Skipped{Law: name, Reason: why})
			continue
		}
		res, err := Fit(ctx, law, d, opts)
		var ie *IdentifiabilityError
		if errors.As(err, &ie) {
			// Identifiable from all the data, not without the holdout.
			a.Skipped = append(a.Skipped, Skipped{Law: name, Reason: ie.Reason})
			continue
		}
		if err != nil {
			return nil, err
		}
		a.Fits = append(a.Fits, res)
	}
	slices.SortStableFunc(a.Fits, func(x, y *Result) int { return len(x.ParamNames) - len(y.ParamNames) })
	return a, nil
}
