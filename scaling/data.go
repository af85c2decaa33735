package scaling

import (
	"fmt"
	"math"
	"strings"
)

// Data are the points a law is fitted to.
type Data struct {
	// Vars maps a law variable ("N", "D", "x", "c") to its values, one per
	// point.
	Vars map[string][]float64
	// Loss holds the observed loss of each point, or the metric when it is
	// fitted through a Transform.
	Loss []float64
	// Compute optionally holds each point's training compute (FLOPs); it
	// orders the points for Options.Holdout and groups them in plots. When
	// it is nil, 6·N·D stands in for laws of N and D, and the law's only
	// variable for one-variable laws.
	Compute []float64
	// Labels optionally name the points in error messages ("row 7").
	Labels []string
}

// Len returns the number of points.
func (d *Data) Len() int { return len(d.Loss) }

// label names point i for messages.
func (d *Data) label(i int) string {
	if i < len(d.Labels) && d.Labels[i] != "" {
		return d.Labels[i]
	}
	return fmt.Sprintf("point %d", i+1)
}

// A DataError says what is wrong with the data: which point, which column.
type DataError struct {
	// Label names the point ("row 7"); empty when the error is about the
	// data as a whole.
	Label string
	// Column names the variable or column at fault; may be empty.
	Column string
	// Msg says what is wrong and what is allowed.
	Msg string
}

func (e *DataError) Error() string {
	var parts []string
	if e.Label != "" {
		parts = append(parts, e.Label)
	}
	if e.Column != "" {
		parts = append(parts, fmt.Sprintf("column %q", e.Column))
	}
	if len(parts) == 0 {
		return e.Msg
	}
	return strings.Join(parts, ", ") + ": " + e.Msg
}

// Transform maps a metric to the quantity fitted.
type Transform string

const (
	// NoTransform fits the metric as a loss.
	NoTransform Transform = "none"
	// Complement fits 1 − metric, for metrics that rise with scale
	// (accuracy, exact match), and reports predictions back as the metric.
	Complement Transform = "complement"
)

func (t Transform) apply(v float64) float64 {
	if t == Complement {
		return 1 - v
	}
	return v
}

// Back maps a fitted loss back to the metric's scale.
func (t Transform) Back(v float64) float64 { return t.apply(v) }

// columnName returns the name of the column behind variable v, for
// messages.
func columnName(names map[string]string, v string) string {
	if c, ok := names[v]; ok && c != "" {
		return c
	}
	return v
}

// check validates d for law: every variable present, equal lengths, finite
// positive values, losses positive after the transform. names maps law
// variables to the column names the user knows them by.
func (d *Data) check(law Law, t Transform, names map[string]string) error {
	n := len(d.Loss)
	lossCol := columnName(names, "loss")
	for _, v := range law.Vars() {
		xs, ok := d.Vars[v]
		if !ok {
			return &DataError{Column: columnName(names, v), Msg: fmt.Sprintf("the law %s needs the variable %s, which the data lack", law.Name(), v)}
		}
		if len(xs) != n {
			return &DataError{Column: columnName(names, v), Msg: fmt.Sprintf("%d values for %d losses", len(xs), n)}
		}
		for i, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return &DataError{Label: d.label(i), Column: columnName(names, v), Msg: fmt.Sprintf("%v is not a finite number", x)}
			}
			if x <= 0 {
				return &DataError{Label: d.label(i), Column: columnName(names, v), Msg: fmt.Sprintf("%v is not positive (sizes must be > 0)", x)}
			}
		}
	}
	if d.Compute != nil && len(d.Compute) != n {
		return &DataError{Column: columnName(names, "compute"), Msg: fmt.Sprintf("%d values for %d losses", len(d.Compute), n)}
	}
	for i, c := range d.Compute {
		if math.IsNaN(c) || math.IsInf(c, 0) || c <= 0 {
			return &DataError{Label: d.label(i), Column: columnName(names, "compute"), Msg: fmt.Sprintf("%v is not a positive finite number", c)}
		}
	}
	for i, y := range d.Loss {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return &DataError{Label: d.label(i), Column: lossCol, Msg: fmt.Sprintf("%v is not a finite number", y)}
		}
		if t == Complement {
			if y >= 1 {
				return &DataError{Label: d.label(i), Column: lossCol, Msg: fmt.Sprintf("%v is not below 1, so 1 − metric is not positive (the complement transform fits metrics in [0, 1))", y)}
			}
		} else if y <= 0 {
			return &DataError{Label: d.label(i), Column: lossCol, Msg: fmt.Sprintf("%v is not positive (losses must be > 0; for a metric that rises with scale use the complement transform)", y)}
		}
	}
	return nil
}

// computeKey returns the number that orders point i by scale.
func (d *Data) computeKey(law Law, i int) float64 {
	if d.Compute != nil {
		return d.Compute[i]
	}
	k := 1.0
	for _, v := range law.Vars() {
		k *= d.Vars[v][i]
	}
	if len(law.Vars()) == 2 {
		k *= 6
	}
	return k
}

// subset returns the points idx of d.
func (d *Data) subset(idx []int) *Data {
	out := &Data{Vars: map[string][]float64{}}
	for v, xs := range d.Vars {
		col := make([]float64, len(idx))
		for j, i := range idx {
			col[j] = xs[i]
		}
		out.Vars[v] = col
	}
	for _, i := range idx {
		out.Loss = append(out.Loss, d.Loss[i])
		if d.Compute != nil {
			out.Compute = append(out.Compute, d.Compute[i])
		}
		if d.Labels != nil {
			out.Labels = append(out.Labels, d.label(i))
		}
	}
	return out
}
