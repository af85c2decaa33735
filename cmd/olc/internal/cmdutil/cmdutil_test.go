package cmdutil_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/pgstore/pgtest"
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
		// Cobra's own messages are no usage errors: every command checks
		// its arguments with NoArgs or ExactArgs, and root wraps flag
		// errors.
		{errors.New(`unknown command "x" for "olc"`), 1},
	}
	for _, c := range cases {
		if got := cmdutil.ExitCode(c.err); got != c.want {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestOpenStore(t *testing.T) {
	ctx := context.Background()
	if _, err := cmdutil.OpenStore(ctx, "postgres://olc@[::1/olc", nil); cmdutil.ExitCode(err) != 2 {
		t.Errorf("malformed postgres URL: %v", err)
	}
	if _, err := cmdutil.OpenExistingStore(ctx, t.TempDir()+"/none.db"); cmdutil.ExitCode(err) != 2 {
		t.Errorf("missing store: %v", err)
	}
	s, err := cmdutil.OpenStore(ctx, t.TempDir()+"/a/b/olc.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// A PostgreSQL store: created by a writer, read by a reader; a database
// that does not exist is the user's mistake (exit 2), named without the
// password.
func TestOpenPostgresStore(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	if _, err := cmdutil.OpenExistingStore(ctx, u); err == nil {
		t.Error("a read-only open of a database without a store succeeded")
	}
	s, err := cmdutil.OpenStore(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	r, err := cmdutil.OpenExistingStore(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	bad, _ := url.Parse(u)
	bad.Path = "/no_such_database"
	bad.User = url.UserPassword("olc", "s3cret")
	_, err = cmdutil.OpenStore(ctx, bad.String(), nil)
	if cmdutil.ExitCode(err) != 2 || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("no such database: exit %d: %v", cmdutil.ExitCode(err), err)
	}
	t.Setenv(cmdutil.StoreRetryEnv, "soon")
	if _, err := cmdutil.OpenStore(ctx, u, nil); cmdutil.ExitCode(err) != 2 || !strings.Contains(err.Error(), "OLC_STORE_RETRY") {
		t.Errorf("OLC_STORE_RETRY=soon: %v", err)
	}
	t.Setenv(cmdutil.StoreRetryEnv, "0")
	unreachable := "postgres://olc@127.0.0.1:1/olc?connect_timeout=1"
	if _, err := cmdutil.OpenStore(ctx, unreachable, nil); err == nil || strings.Contains(err.Error(), "gave up") {
		t.Errorf("OLC_STORE_RETRY=0 on an unreachable server: %v (want the first error, no retries)", err)
	}
	if got := cmdutil.WorkDir(u); got != ".olc" {
		t.Errorf("WorkDir(%s) = %q, want .olc", u, got)
	}
}

func TestArgCheckers(t *testing.T) {
	parent := &cobra.Command{Use: "olc"}
	leaf := &cobra.Command{Use: "info", Run: func(*cobra.Command, []string) {}}
	parent.AddCommand(leaf)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"no args on a group", cmdutil.NoArgs(parent, []string{"x"}), `unknown command "x" for "olc"`},
		{"no args on a leaf", cmdutil.NoArgs(leaf, []string{"x"}), `olc info takes no arguments, got "x"`},
		{"exact args, too few", cmdutil.ExactArgs(1, "a model folder")(leaf, nil), "olc info takes a model folder, got 0 argument(s)"},
		{"exact args, too many", cmdutil.ExactArgs(1, "a model folder")(leaf, []string{"a", "b"}), "got 2 argument(s)"},
	}
	for _, c := range cases {
		var ue *cmdutil.UsageError
		if !errors.As(c.err, &ue) || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v, want a usage error containing %q", c.name, c.err, c.want)
		}
	}
	if err := cmdutil.NoArgs(leaf, nil); err != nil {
		t.Errorf("NoArgs without arguments: %v", err)
	}
	if err := cmdutil.ExactArgs(1, "a folder")(leaf, []string{"a"}); err != nil {
		t.Errorf("ExactArgs(1) with one: %v", err)
	}
}

func TestStringEnumFlag(t *testing.T) {
	for _, c := range []struct {
		args    []string
		want    string
		wantErr string
	}{
		{nil, "json", ""},
		{[]string{"--format", "csv"}, "csv", ""},
		{[]string{"--format", "xml"}, "", `invalid argument "xml" for "--format" flag: allowed: json, csv`},
	} {
		var got string
		cmd := &cobra.Command{Use: "export", RunE: func(*cobra.Command, []string) error { return nil }}
		f := cmdutil.StringEnumFlag(cmd, &got, "format", "json", []string{"json", "csv"}, "the output format")
		if !strings.HasSuffix(f.Usage, "{json|csv}") {
			t.Errorf("usage %q does not list the values", f.Usage)
		}
		cmd.SetArgs(c.args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: error %v, want %q", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v: %q, %v; want %q", c.args, got, err, c.want)
		}
	}
}
