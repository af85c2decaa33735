package scaling

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// FuzzReadCSV: any table gets points or a *DataError, with as many values
// in each column as losses; the points that pass a law's check (which the
// fit runs) are finite and positive.
func FuzzReadCSV(f *testing.F) {
	for _, seed := range []string{
		"N,D,loss\n1e8,2e9,3.1\n2e8,4e9,2.9\n",
		"params, flops ,val_loss\n1e8,6e18,3.1\n# a comment\n2e8,2.4e19,2.9\n",
		"\xEF\xBB\xBFN,D,loss\n1,2,3\n",
		"N,D,loss\n1e8,+Inf,3\n-1,2,NaN\n\"1e8\",\"2\",\"3\"\n",
		"N,D,loss,C\n1,,3,\n",
		"c,loss\n1024,2.5\n2048,2.4\n",
		"N,loss,C\n0,3,6e18\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, law := range []Law{Chinchilla{}, Context{}} {
			d, err := ReadCSV(bytes.NewReader(data), law, Columns{Compute: "C"})
			if err != nil {
				var de *DataError
				if !errors.As(err, &de) {
					t.Fatalf("%T is not a DataError: %v", err, err)
				}
				continue
			}
			n := d.Len()
			for v, col := range d.Vars {
				if len(col) != n {
					t.Fatalf("column %s has %d values for %d losses", v, len(col), n)
				}
			}
			if err := d.check(law, NoTransform, nil); err != nil {
				var de *DataError
				if !errors.As(err, &de) {
					t.Fatalf("%T is not a DataError: %v", err, err)
				}
				continue
			}
			for v, col := range d.Vars {
				for _, x := range col {
					if !(x > 0) || math.IsInf(x, 0) {
						t.Fatalf("the check passed %s = %v", v, x)
					}
				}
			}
			for _, y := range d.Loss {
				if !(y > 0) || math.IsInf(y, 0) {
					t.Fatalf("the check passed loss %v", y)
				}
			}
		}
		if d, err := ReadCSVAll(bytes.NewReader(data), Columns{}); err == nil && len(d.Loss) != d.Len() {
			t.Fatalf("%d losses for %d points", len(d.Loss), d.Len())
		}
	})
}
