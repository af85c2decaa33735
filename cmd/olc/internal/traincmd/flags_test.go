package traincmd

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
)

func TestQAFlags(t *testing.T) {
	cases := []struct {
		args    []string
		stride  int
		wantErr string
	}{
		{[]string{"--model", "m", "--doc", "d.txt", "--question", "q?"}, 0, ""}, // 0: adapts to the window
		{[]string{"--model", "m", "--doc", "d.txt", "--question", "q?", "--stride", "64"}, 64, ""},
		{[]string{"--model", "m", "--doc", "d.txt", "--question", "q?", "--stride", "0"}, 0, "--stride must be positive, not 0"},
		{[]string{"--model", "m", "--doc", "d.txt"}, 0, "--model, --doc and --question are required"},
	}
	for _, c := range cases {
		ios, _, _ := cmdutil.Test()
		var got *QAOptions
		err := cmdutil.Run(NewCmdQA(ios, func(_ context.Context, o *QAOptions) error { got = o; return nil }), c.args...)
		if c.wantErr != "" {
			var ue *cmdutil.UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: error %v, want a usage error containing %q", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil || got.Stride != c.stride || got.Model != "m" || got.Question != "q?" {
			t.Errorf("%v: %+v, %v; want stride %d", c.args, got, err, c.stride)
		}
	}
}

func TestTrainFlags(t *testing.T) {
	ios, _, _ := cmdutil.Test()
	var got *TrainOptions
	err := cmdutil.Run(NewCmdTrain(ios, func(_ context.Context, o *TrainOptions) error { got = o; return nil }),
		"-c", "t.toml", "--set", "optimizer.lr=1e-3", "--set", "train.steps=5", "--resume", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if got.Config != "t.toml" || len(got.Set) != 2 || got.Set[1] != "train.steps=5" || !got.Resume || !got.JSON || got.Store != cmdutil.DefaultStore {
		t.Errorf("options = %+v", got)
	}
}
