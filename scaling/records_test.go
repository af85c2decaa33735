package scaling

import (
	"strings"
	"testing"
)

func TestReadRecords(t *testing.T) {
	trials := []Record{
		{Label: "trial 0", Kind: "trial", Params: map[string]any{"n": int64(1e6)}, Metrics: map[string]float64{"eval_loss": 3.5, "flops": 6e15}},
		{Label: "trial 2", Kind: "trial", Params: map[string]any{"n": 4e6}, Metrics: map[string]float64{"eval_loss": 3.1, "flops": 4.8e16}},
	}
	law, err := LawByName("chinchilla")
	if err != nil {
		t.Fatal(err)
	}
	cols := Columns{Vars: map[string]string{"N": "n"}, Loss: "eval_loss", Compute: "flops"}
	d, err := ReadRecords("the study sweep", trials, law, cols)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || d.Vars["N"][1] != 4e6 || d.Loss[0] != 3.5 || d.Compute[1] != 4.8e16 || d.Labels[1] != "trial 2" {
		t.Fatalf("data %+v", d)
	}
	// D = C/(6N), computed independently.
	if want := 6e15 / (6 * 1e6); d.Vars["D"][0] != want {
		t.Errorf("D = %v, want %v", d.Vars["D"][0], want)
	}

	all, err := ReadRecordsAll("the study sweep", trials, Columns{Vars: map[string]string{"N": "n"}, Loss: "eval_loss"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := all.Vars["D"]; ok || len(all.Vars["N"]) != 2 {
		t.Errorf("ReadTrialsAll kept %v, want N only", all.Vars)
	}

	for _, c := range []struct {
		trials []Record
		cols   Columns
		want   string
	}{
		{trials, Columns{Vars: map[string]string{"N": "n"}, Loss: "val", Compute: "flops"}, `trial 0, column "val": no such parameter or metric; the trial has parameters n and metrics eval_loss, flops`},
		{[]Record{{Label: "trial 3", Params: map[string]any{"n": "big"}, Metrics: map[string]float64{"loss": 1}}}, Columns{Vars: map[string]string{"N": "n"}}, `trial 3, column "n": the parameter's value big is not a number`},
		{[]Record{{Label: "run 1", Params: map[string]any{"n": 1.0}}}, Columns{Vars: map[string]string{"N": "n"}}, "the run has parameters n and metrics"},
		{nil, cols, "the study sweep has no runs to fit"},
	} {
		_, err := ReadRecords("the study sweep", c.trials, law, c.cols)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
