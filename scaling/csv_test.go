package scaling

import (
	"errors"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	// D comes from the FLOPs column when the table has none: D = C/(6N).
	table := "params, flops ,val_loss\n1e8,6e18,3.1\n# a comment\n2e8,2.4e19,2.9\n"
	d, err := ReadCSV(strings.NewReader(table), Chinchilla{}, Columns{Vars: map[string]string{"N": "params"}, Loss: "val_loss", Compute: "flops"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || d.Vars["N"][1] != 2e8 || d.Vars["D"][0] != 6e18/(6*1e8) || d.Vars["D"][1] != 2.4e19/(6*2e8) || d.Compute[1] != 2.4e19 || d.Loss[1] != 2.9 {
		t.Errorf("read %+v", d)
	}
	if d.Labels[1] != "row 4" {
		t.Errorf("the second data row is on line 4, labelled %q", d.Labels[1])
	}
	// A byte-order mark (Excel's "CSV UTF-8") is not part of the first
	// column's name.
	withBOM, err := ReadCSV(strings.NewReader("\xEF\xBB\xBF"+table), Chinchilla{}, Columns{Vars: map[string]string{"N": "params"}, Loss: "val_loss", Compute: "flops"})
	if err != nil || withBOM.Len() != 2 || withBOM.Vars["N"][0] != 1e8 {
		t.Errorf("with a byte-order mark: %v, %+v", err, withBOM)
	}
	cases := []struct{ table, want string }{
		{"", "the table is empty"},
		{"N,D,loss\n", "no data rows"},
		{"N,D,loss\n1,2\n", "row 2: not valid CSV"},
		{"N,D,loss\n1e8,1e9,x\n", `row 2, column "loss": "x" is not a number`},
		{"N,loss\n1e8,3\n", `column "D": no such column; the header has N, loss (name the column that holds D with --columns D=NAME)`},
		{"N,D,loss\n1e8,+Inf,3\n", `row 2, column "D": +Inf is not a finite number`},
	}
	for _, c := range cases {
		_, err := ReadCSV(strings.NewReader(c.table), Chinchilla{}, Columns{})
		var de *DataError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want a DataError containing %q", c.table, err, c.want)
		}
	}
}
