package main_test

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/cmd/olc/internal/root"
)

// walk calls fn for cmd and every command below it, help and completion
// left out.
func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	if cmd.Name() == "help" || cmd.Name() == "completion" {
		return
	}
	fn(cmd)
	for _, c := range cmd.Commands() {
		walk(c, fn)
	}
}

// TestCommandTreeShape: every command checks its arguments itself (so that
// a wrong one is a usage error, never a message of cobra's that the exit
// code would have to recognize), every command runs, and the shared flags
// read the same everywhere.
func TestCommandTreeShape(t *testing.T) {
	ios, _, _ := cmdutil.Test()
	usage := map[string]string{}
	leaves := 0
	walk(root.NewCmdRoot(ios), func(c *cobra.Command) {
		if c.Args == nil {
			t.Errorf("%s: no argument checker", c.CommandPath())
		}
		if c.RunE == nil {
			t.Errorf("%s: no RunE (a group needs cmdutil.ShowHelp, or a stray argument exits 0)", c.CommandPath())
		}
		if !c.HasSubCommands() {
			leaves++
		}
		for _, name := range []string{"json", "store"} {
			f := c.Flags().Lookup(name)
			if f == nil {
				continue
			}
			if u, ok := usage[name]; ok && u != f.Usage {
				t.Errorf("%s --%s: %q; elsewhere %q", c.CommandPath(), name, f.Usage, u)
			}
			usage[name] = f.Usage
		}
	})
	if leaves < 20 {
		t.Errorf("%d leaf commands, want the whole tree", leaves)
	}
}

// TestUsageErrorsEverywhere: a stray argument, an unknown flag and a flag
// without its value exit 2 on every command.
func TestUsageErrorsEverywhere(t *testing.T) {
	ios, _, _ := cmdutil.Test()
	var paths [][]string
	walk(root.NewCmdRoot(ios), func(c *cobra.Command) {
		paths = append(paths, strings.Fields(c.CommandPath())[1:])
	})
	for _, p := range paths {
		for _, extra := range [][]string{{"--no-such-flag"}, {"stray", "arguments", "here"}} {
			args := append(append([]string{}, p...), extra...)
			ios, out, errOut := cmdutil.Test()
			if code := root.Execute(context.Background(), ios, args); code != 2 {
				t.Errorf("olc %s: exit %d, want 2\n%s%s", strings.Join(args, " "), code, out, errOut)
			}
		}
	}
}
