// Package root assembles olc's command tree and runs it.
package root

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/ablatecmd"
	"github.com/olc-toolkit/olc/cmd/olc/internal/benchcmd"
	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/cmd/olc/internal/modelcmd"
	"github.com/olc-toolkit/olc/cmd/olc/internal/optimizecmd"
	"github.com/olc-toolkit/olc/cmd/olc/internal/scalingcmd"
	"github.com/olc-toolkit/olc/cmd/olc/internal/servecmd"
	"github.com/olc-toolkit/olc/cmd/olc/internal/traincmd"
	"github.com/olc-toolkit/olc/cmd/olc/internal/versioncmd"
)

// version is set at build time with -ldflags "-X …/root.version=…".
var version = "dev"

// NewCmdRoot returns the olc command with its subcommands.
func NewCmdRoot(ios *cmdutil.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "olc",
		Short: "An open research toolkit for long-context language-model experiments",
		Long: `olc runs the experiments of long-context language-model research and keeps
one record of everything that ran: hyperparameter search over any objective
(Bayesian optimization, random and grid search), scaling-law fits with
honest intervals, a Longformer trained on the CPU with the official SQuAD
evaluation and question answering over long documents, and ablation
studies over seeds with the statistics a reviewer asks for.

Results live in a SQLite store (.olc/olc.db by default); every command that
produces results takes --json and then prints exactly one JSON document.
Exit codes: 0 success, 1 the work failed, 2 bad usage or bad config
(refused before anything is stored or run), 130 interrupted by Ctrl-C (143
by SIGTERM); an interrupted run resumes when the same command runs again.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cmdutil.NoArgs,
		RunE:          cmdutil.ShowHelp,
	}
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SetFlagErrorFunc(cmdutil.FlagError)
	cmd.AddGroup(
		&cobra.Group{ID: "experiments", Title: "Experiments:"},
		&cobra.Group{ID: "other", Title: "Other commands:"},
	)
	cmd.SetHelpCommandGroupID("other")
	cmd.SetCompletionCommandGroupID("other")
	opt := optimizecmd.NewCmdOptimize(ios, nil)
	opt.GroupID = "experiments"
	abl := ablatecmd.NewCmdAblate(ios, nil)
	abl.GroupID = "experiments"
	sc := scalingcmd.NewCmdScaling(ios)
	sc.GroupID = "experiments"
	mc := modelcmd.NewCmdModel(ios)
	mc.GroupID = "experiments"
	tr := traincmd.NewCmdTrain(ios, nil)
	tr.GroupID = "experiments"
	data := traincmd.NewCmdData(ios)
	data.GroupID = "experiments"
	ev := traincmd.NewCmdEval(ios, nil)
	ev.GroupID = "experiments"
	qa := traincmd.NewCmdQA(ios, nil)
	qa.GroupID = "experiments"
	srv := servecmd.NewCmdServe(ios, nil)
	srv.GroupID = "experiments"
	bench := benchcmd.NewCmdBench(ios)
	bench.GroupID = "other"
	ver := versioncmd.NewCmdVersion(ios, version, nil)
	ver.GroupID = "other"
	cmd.AddCommand(opt, abl, sc, mc, tr, data, ev, qa, srv, bench, ver)
	return cmd
}

// Main runs olc with the process's arguments and returns its exit code.
// The first SIGINT or SIGTERM cancels the running command, which stops
// cleanly and exits with 128 + the signal's number (130 for Ctrl-C); a
// second one makes olc exit at once.
func Main() int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		cancel(cmdutil.SignalError{Signal: sig.(syscall.Signal)})
		if sig, ok = <-sigs; ok {
			fmt.Fprintln(os.Stderr, "olc: quitting at once")
			os.Exit(128 + int(sig.(syscall.Signal)))
		}
	}()
	return Execute(ctx, cmdutil.System(), os.Args[1:])
}

// Execute runs olc's command tree on args with the given streams, prints
// an error as "olc: …" on ios.ErrOut, and returns the exit code: that of
// cmdutil.ExitCode, or 128 + the signal's number when ctx was cancelled
// with a cmdutil.SignalError as its cause. Tests run commands in process
// through it.
func Execute(ctx context.Context, ios *cmdutil.IOStreams, args []string) int {
	cmd := NewCmdRoot(ios)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(ios.ErrOut, "olc:", err)
	}
	code := cmdutil.ExitCode(err)
	var se cmdutil.SignalError
	if code == cmdutil.ExitInterrupted && errors.As(context.Cause(ctx), &se) {
		code = 128 + int(se.Signal)
	}
	return code
}
