package scaling

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
)

// holdout fits the law without the opts.Holdout largest-compute points and
// measures its error on them.
func holdout(ctx context.Context, law Law, d *Data, opts Options, tick func(), skip func(int)) (*Holdout, error) {
	n := d.Len()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return d.computeKey(law, order[a]) < d.computeKey(law, order[b]) })
	train, test := order[:n-opts.Holdout], order[n-opts.Holdout:]
	sub := d.subset(train)
	if why := identifiable(law, sub); why != "" {
		return nil, &IdentifiabilityError{Law: law.Name(), Reason: fmt.Sprintf("without the %d largest-compute points, %s", opts.Holdout, why)}
	}
	p := newProblem(law, sub, opts.Transform, opts.Loss, opts.Delta)
	ms, err := fitStarts(ctx, law, sub, p, opts, tick, skip)
	if errors.Is(err, ErrNoConvergence) {
		return nil, fmt.Errorf("holdout fit: %w", err)
	}
	if err != nil {
		return nil, err
	}
	nat := law.Natural(ms.best.theta)
	h := &Holdout{K: opts.Holdout, Params: map[string]float64{}}
	for i, name := range law.Params() {
		h.Params[name] = nat[i]
	}
	var ss float64
	for _, i := range test {
		x := make([]float64, len(law.Vars()))
		xm := map[string]float64{}
		for j, v := range law.Vars() {
			x[j] = math.Log(d.Vars[v][i])
			xm[v] = d.Vars[v][i]
		}
		lp := law.LogPredict(ms.best.theta, x, nil)
		pred := opts.Transform.Back(math.Exp(lp))
		r := lp - math.Log(opts.Transform.apply(d.Loss[i]))
		ss += r * r
		ape := 0.0
		if d.Loss[i] != 0 {
			ape = math.Abs(pred-d.Loss[i]) / math.Abs(d.Loss[i])
		}
		h.MAPE += ape / float64(len(test))
		h.MaxAPE = math.Max(h.MaxAPE, ape)
		h.Points = append(h.Points, HoldoutPoint{Label: d.label(i), X: xm, Observed: d.Loss[i], Predicted: pred, LogResidual: r})
	}
	h.RMSELog = math.Sqrt(ss / float64(len(test)))
	return h, nil
}
