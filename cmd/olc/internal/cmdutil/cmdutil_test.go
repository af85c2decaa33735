package cmdutil_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
)

func TestExitCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("the work failed"), 1},
		{fmt.Errorf("run: %w", experiments.ErrInterrupted), 130},
		{fmt.Errorf("fit: %w", context.Canceled), 130},
		{fmt.Errorf("open: %w", &sqlitestore.CorruptError{Path: "x.db"}), 2},
		{&experiments.FailuresError{N: 10, Last: "boom"}, 1},
		{cmdutil.Usagef("--trials must be positive"), 2},
		{fmt.Errorf("load: %w", &experiments.ConfigError{File: "s.toml", Key: "study.trials", Msg: "bad"}), 2},
		{errors.Join(&experiments.ConfigError{File: "a"}, &experiments.ConfigError{File: "b"}), 2},
		{&experiments.ChangedError{Study: "s"}, 2},
		{fmt.Errorf("open: %w", sqlitestore.ErrUnwritable), 2},
		{errors.New(`unknown command "x" for "olc"`), 2},
	}
	for _, c := range cases {
		if got := cmdutil.ExitCode(c.err); got != c.want {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestOpenStore(t *testing.T) {
	ctx := context.Background()
	if _, err := cmdutil.OpenStore(ctx, "postgres://db/olc"); cmdutil.ExitCode(err) != 2 {
		t.Errorf("postgres store: %v", err)
	}
	if _, err := cmdutil.OpenExistingStore(ctx, t.TempDir()+"/none.db"); cmdutil.ExitCode(err) != 2 {
		t.Errorf("missing store: %v", err)
	}
	s, err := cmdutil.OpenStore(ctx, t.TempDir()+"/a/b/olc.db")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
