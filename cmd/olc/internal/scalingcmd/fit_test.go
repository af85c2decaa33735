package scalingcmd

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
)

func TestFitFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		check   func(*FitOptions) bool
		wantErr string
	}{
		{"defaults", []string{"--data", "runs.csv", "--law", "chinchilla"}, func(o *FitOptions) bool {
			return o.DataPath == "runs.csv" && o.Law == "chinchilla" && o.Bootstrap == 1000 && o.Loss == "huber" && o.Transform == "none" && o.Delta == 1e-3 && o.StorePath == cmdutil.DefaultStore
		}, ""},
		{"columns and budgets", []string{"--study", "s", "--law", "kaplan-n", "--columns", "N=params, loss=val", "--compute", "1e21,1e23"}, func(o *FitOptions) bool {
			return reflect.DeepEqual(o.Columns, map[string]string{"N": "params", "loss": "val"}) && reflect.DeepEqual(o.Compute, []float64{1e21, 1e23})
		}, ""},
		{"no points", []string{"--law", "chinchilla"}, nil, "give the points with --data FILE.csv or --study NAME"},
		{"both sources", []string{"--data", "a.csv", "--study", "s", "--law", "power"}, nil, "--data and --study both given"},
		{"bad loss", []string{"--data", "a.csv", "--law", "power", "--loss", "l1"}, nil, `invalid argument "l1" for "--loss" flag: allowed: huber, ls`},
		{"bad transform", []string{"--data", "a.csv", "--law", "power", "--transform", "log"}, nil, "allowed: none, complement"},
		{"bad budget", []string{"--data", "a.csv", "--law", "chinchilla", "--compute", "1e21,-5"}, nil, `--compute: "-5" is not a positive number of FLOPs`},
		{"variable of another law", []string{"--data", "a.csv", "--law", "context", "--columns", "N=params"}, nil, "the law context has the variables c"},
		{"auto with a plot", []string{"--data", "a.csv", "--law", "auto", "--plot", "f.png"}, nil, "--law auto fits several laws"},
		{"stray argument", []string{"runs.csv", "--law", "power"}, nil, "takes no arguments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, _ := cmdutil.Test()
			var got *FitOptions
			err := cmdutil.Run(newCmdFit(ios, func(_ context.Context, o *FitOptions) error { got = o; return nil }), c.args...)
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
			if !c.check(got) {
				t.Errorf("options = %+v", got)
			}
		})
	}
}
