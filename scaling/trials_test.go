package scaling

import (
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

func TestReadTrials(t *testing.T) {
	trials := []experiments.Trial{
		{Number: 0, State: optimize.Complete, Params: optimize.Params{"n": int64(1e6)}, Metrics: map[string]float64{"eval_loss": 3.5, "flops": 6e15}},
		{Number: 1, State: optimize.Failed, Params: optimize.Params{"n": int64(2e6)}},
		{Number: 2, State: optimize.Complete, Params: optimize.Params{"n": 4e6}, Metrics: map[string]float64{"eval_loss": 3.1, "flops": 4.8e16}},
	}
	law, err := LawByName("chinchilla")
	if err != nil {
		t.Fatal(err)
	}
	cols := Columns{Vars: map[string]string{"N": "n"}, Loss: "eval_loss", Compute: "flops"}
	d, err := ReadTrials("sweep", trials, law, cols)
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

	all, err := ReadTrialsAll("sweep", trials, Columns{Vars: map[string]string{"N": "n"}, Loss: "eval_loss"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := all.Vars["D"]; ok || len(all.Vars["N"]) != 2 {
		t.Errorf("ReadTrialsAll kept %v, want N only", all.Vars)
	}

	for _, c := range []struct {
		trials []experiments.Trial
		cols   Columns
		want   string
	}{
		{trials, Columns{Vars: map[string]string{"N": "n"}, Loss: "val", Compute: "flops"}, `trial 0, column "val": no such parameter or metric; the trial has parameters n and metrics eval_loss, flops`},
		{[]experiments.Trial{{Number: 3, State: optimize.Complete, Params: optimize.Params{"n": "big"}, Metrics: map[string]float64{"loss": 1}}}, Columns{Vars: map[string]string{"N": "n"}}, "not a number"},
		{trials[1:2], cols, "the study sweep has no complete trial"},
	} {
		_, err := ReadTrials("sweep", c.trials, law, c.cols)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
