package cmdutil

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// AddJSONFlag adds --json, the flag of every command that produces
// results: it then prints exactly one JSON document on stdout.
func AddJSONFlag(cmd *cobra.Command, p *bool) {
	cmd.Flags().BoolVar(p, "json", false, "print the result as one JSON document")
}

// AddStoreFlag adds --store, the experiment store the command uses.
func AddStoreFlag(cmd *cobra.Command, p *string) {
	def := DefaultStore
	if env := os.Getenv(StoreEnv); env != "" {
		def = env
	}
	cmd.Flags().StringVar(p, "store", def, "the store: a SQLite file (its folder also holds runs/ and plots/) or a postgres:// URL shared by workers on many machines (default from $"+StoreEnv+" when set)")
}

// StringEnumFlag adds a string flag whose value must be one of options; a
// value outside them is refused while the flags are parsed, with the list
// of allowed values, as a usage error. The help text ends with the
// options, and shell completion offers them.
func StringEnumFlag(cmd *cobra.Command, p *string, name, defaultValue string, options []string, usage string) *pflag.Flag {
	*p = defaultValue
	f := cmd.Flags().VarPF(&enumValue{value: p, options: options}, name, "", fmt.Sprintf("%s: {%s}", usage, strings.Join(options, "|")))
	cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return options, cobra.ShellCompDirectiveNoFileComp
	})
	return f
}

type enumValue struct {
	value   *string
	options []string
}

func (e *enumValue) Set(v string) error {
	if !slices.Contains(e.options, v) {
		return fmt.Errorf("allowed: %s", strings.Join(e.options, ", "))
	}
	*e.value = v
	return nil
}

func (e *enumValue) String() string { return *e.value }
func (e *enumValue) Type() string   { return "string" }

// NoArgs rejects positional arguments with a usage error; on a command with
// subcommands the argument is taken for an unknown subcommand.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		if cmd.HasSubCommands() {
			return Usagef("unknown command %q for %q; see '%s --help'", args[0], cmd.CommandPath(), cmd.CommandPath())
		}
		return Usagef("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// ExactArgs wants exactly n positional arguments, described by what (as
// "a model folder"), and answers anything else with a usage error.
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return Usagef("%s takes %s, got %d argument(s); see '%s --help'", cmd.CommandPath(), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// ShowHelp is the RunE of a command that only groups others: alone it
// prints its help; with an argument, NoArgs has refused it as an unknown
// command (a command without RunE would print its help and exit 0).
func ShowHelp(cmd *cobra.Command, _ []string) error { return cmd.Help() }

// FlagError is the root command's flag error function: a wrong flag is a
// usage error that points to the command's help.
func FlagError(c *cobra.Command, err error) error {
	return &UsageError{Err: fmt.Errorf("%w\nsee '%s --help'", err, c.CommandPath())}
}

// Run executes cmd alone on args, as the root command would (errors
// returned, not printed; flag errors as usage errors): for tests of one
// command's flags, with a runF that captures its options.
func Run(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(FlagError)
	_, err := cmd.ExecuteC()
	return err
}
