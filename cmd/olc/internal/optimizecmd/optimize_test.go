package optimizecmd

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
)

func TestFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		want    RunOptions
		wantErr string
	}{
		{"defaults", []string{"--config", "s.toml"}, RunOptions{ConfigPath: "s.toml", StorePath: ".olc/olc.db"}, ""},
		{"overrides", []string{"-c", "s.toml", "--store", "x.db", "--trials", "9", "--parallel", "3", "--sampler", "grid", "--json", "--new", "--progress"},
			RunOptions{ConfigPath: "s.toml", StorePath: "x.db", Trials: 9, Parallel: 3, Sampler: "grid", JSON: true, New: true, Progress: true}, ""},
		{"shortcut", []string{"random", "--config", "s.toml", "--store", "y.db"}, RunOptions{ConfigPath: "s.toml", StorePath: "y.db", Sampler: "random"}, ""},
		{"shortcut takes no sampler", []string{"random", "--config", "s.toml", "--sampler", "grid"}, RunOptions{}, "unknown flag: --sampler"},
		{"missing config", []string{"--trials", "5"}, RunOptions{}, "--config is required"},
		{"bad trials", []string{"-c", "s.toml", "--trials", "0"}, RunOptions{}, "--trials must be positive"},
		{"bad parallel", []string{"-c", "s.toml", "--parallel", "0"}, RunOptions{}, "--parallel must be from 1 to 1024"},
		{"bad sampler", []string{"-c", "s.toml", "--sampler", "tpe"}, RunOptions{}, `invalid argument "tpe" for "--sampler" flag: allowed: grid, random, bayes`},
		{"stray argument", []string{"s.toml"}, RunOptions{}, `unknown command "s.toml"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, _ := cmdutil.Test()
			var got *RunOptions
			cmd := NewCmdOptimize(ios, func(ctx context.Context, o *RunOptions) error {
				got = o
				return nil
			})
			err := cmdutil.Run(cmd, c.args...)
			if c.wantErr != "" {
				var ue *cmdutil.UsageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error = %v, want a usage error containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := *got
			g.IO = nil
			if g != c.want {
				t.Errorf("options = %+v\nwant %+v", g, c.want)
			}
		})
	}
}
