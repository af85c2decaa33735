package scaling

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olc-toolkit/olc/internal/bom"
)

// Columns names the columns of a table that hold a law's variables.
type Columns struct {
	// Vars maps a law variable ("N", "D", "x", "c") to a column; a
	// variable not in the map is looked up under its own name.
	Vars map[string]string
	// Loss is the column of the fitted metric; default "loss".
	Loss string
	// Compute optionally names a column of training FLOPs. When the law
	// needs D and the table has no D column, D = C/(6·N).
	Compute string
}

// Of returns the column that holds variable v.
func (c Columns) Of(v string) string {
	if name, ok := c.Vars[v]; ok && name != "" {
		return name
	}
	if v == "loss" && c.Loss != "" {
		return c.Loss
	}
	return v
}

// Names returns the map from the law's variables, "loss" and "compute" to
// column names, for messages and reports.
func (c Columns) Names(law Law) map[string]string {
	out := map[string]string{"loss": c.Of("loss")}
	for _, v := range law.Vars() {
		out[v] = c.Of(v)
	}
	if c.Compute != "" {
		out["compute"] = c.Compute
	}
	return out
}

// ReadCSV reads the points of law from a CSV table with a header row.
// Errors are *DataError values that name the row (the header is row 1)
// and the column.
func ReadCSV(r io.Reader, law Law, cols Columns) (*Data, error) {
	return readCSV(r, law.Vars(), false, cols)
}

// AllVars lists every variable a law may take.
var AllVars = []string{"N", "D", "x", "c"}

// ReadCSVAll reads every variable of AllVars that the table has (for
// Analyze); only the loss column is required.
func ReadCSVAll(r io.Reader, cols Columns) (*Data, error) {
	return readCSV(r, AllVars, true, cols)
}

func readCSV(r io.Reader, vars []string, optional bool, cols Columns) (*Data, error) {
	cr := csv.NewReader(bom.Reader(r))
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &DataError{Msg: "the table is empty; it needs a header row and data rows"}
	}
	if err != nil {
		return nil, &DataError{Msg: fmt.Sprintf("not a CSV table: %v", err)}
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	index := func(name string) int { return slices.Index(header, name) }
	missing := func(v, name string) error {
		hint := ""
		if _, mapped := cols.Vars[v]; !mapped && v != "loss" {
			hint = fmt.Sprintf(" (name the column that holds %s with --columns %s=NAME)", v, v)
		}
		return &DataError{Column: name, Msg: fmt.Sprintf("no such column; the header has %s%s", strings.Join(header, ", "), hint)}
	}
	type source struct {
		v   string
		col int
	}
	var srcs []source
	deriveD := false
	for _, v := range vars {
		name := cols.Of(v)
		i := index(name)
		if i < 0 {
			if v == "D" && cols.Compute != "" && index(cols.Compute) >= 0 && index(cols.Of("N")) >= 0 {
				deriveD = true
				continue
			}
			if _, mapped := cols.Vars[v]; optional && !mapped {
				continue
			}
			return nil, missing(v, name)
		}
		srcs = append(srcs, source{v, i})
	}
	lossName := cols.Of("loss")
	lossCol := index(lossName)
	if lossCol < 0 {
		return nil, missing("loss", lossName)
	}
	compCol := -1
	if cols.Compute != "" {
		if compCol = index(cols.Compute); compCol < 0 {
			return nil, &DataError{Column: cols.Compute, Msg: fmt.Sprintf("no such column (the FLOPs column); the header has %s", strings.Join(header, ", "))}
		}
	}
	d := &Data{Vars: map[string][]float64{}}
	row := 1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		row++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				row = pe.Line
			}
			return nil, &DataError{Label: fmt.Sprintf("row %d", row), Msg: fmt.Sprintf("not valid CSV: %v", err)}
		}
		if line, _ := cr.FieldPos(0); line > 0 {
			row = line
		}
		label := fmt.Sprintf("row %d", row)
		num := func(col int) (float64, error) {
			s := strings.TrimSpace(rec[col])
			if s == "" {
				return 0, &DataError{Label: label, Column: header[col], Msg: "empty; every row needs a number here"}
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return 0, &DataError{Label: label, Column: header[col], Msg: fmt.Sprintf("%q is not a number", s)}
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, &DataError{Label: label, Column: header[col], Msg: fmt.Sprintf("%s is not a finite number", s)}
			}
			return v, nil
		}
		for _, s := range srcs {
			v, err := num(s.col)
			if err != nil {
				return nil, err
			}
			d.Vars[s.v] = append(d.Vars[s.v], v)
		}
		y, err := num(lossCol)
		if err != nil {
			return nil, err
		}
		d.Loss = append(d.Loss, y)
		if compCol >= 0 {
			c, err := num(compCol)
			if err != nil {
				return nil, err
			}
			d.Compute = append(d.Compute, c)
		}
		d.Labels = append(d.Labels, label)
	}
	if d.Len() == 0 {
		return nil, &DataError{Msg: "the table has a header and no data rows"}
	}
	if deriveD {
		ns := d.Vars["N"]
		ds := make([]float64, len(ns))
		for i, n := range ns {
			ds[i] = TokensFromFLOPs(d.Compute[i], n)
		}
		d.Vars["D"] = ds
	}
	return d, nil
}
