package optimizecmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/pgstore"
	"github.com/olc-toolkit/olc/optimize"
)

// DeleteOptions are the options of 'olc optimize delete'.
type DeleteOptions struct {
	IO        *cmdutil.IOStreams
	StorePath string
	Study     string
	Yes       bool
	Force     bool
	JSON      bool
}

// DeleteJSON is what 'olc optimize delete --json' prints.
type DeleteJSON struct {
	Study  string   `json:"study"`
	Trials int      `json:"trials"`
	Files  []string `json:"files"`
}

func newCmdDelete(ios *cmdutil.IOStreams, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "delete --study NAME [--yes]",
		Short: "Delete a study: its trials, their logs and its plots",
		Long: `Delete a study from the store with all its trials, and the files olc made
for it: the trials' log folders and the study's plots in <store folder>/plots.
It asks first unless --yes is given; without a terminal to answer, --yes is
required. A study with running trials whose workers are alive is refused
unless --force is given.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireStudy(opts.Study); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDelete(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Study, "study", "", "the study (required)")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "delete even while workers run trials of the study")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

// openForChange opens a store that must exist, for writing.
func openForChange(ctx context.Context, path string, errOut *cmdutil.IOStreams) (cmdutil.Store, error) {
	if !pgstore.IsURL(path) {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, cmdutil.Usagef("no store at %s (pass --store)", path)
		}
	}
	return cmdutil.OpenStore(ctx, path, errOut.ErrOut)
}

// openStudy opens a store that must exist, for writing, and reads the
// study called name from it; the caller closes the store.
func openStudy(ctx context.Context, path string, ios *cmdutil.IOStreams, name string) (cmdutil.Store, *experiments.Study, error) {
	store, err := openForChange(ctx, path, ios)
	if err != nil {
		return nil, nil, err
	}
	study, err := findStudy(ctx, store, path, name)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, study, nil
}

// findStudy reads a study, or says which studies the store holds.
func findStudy(ctx context.Context, store experiments.Store, storePath, name string) (*experiments.Study, error) {
	study, err := store.Study(ctx, name)
	if errors.Is(err, experiments.ErrNotFound) {
		all, _ := store.Studies(ctx)
		names := make([]string, len(all))
		for i, s := range all {
			names[i] = s.Name
		}
		if len(names) == 0 {
			return nil, cmdutil.Usagef("no study %q in %s: the store holds no study", name, cmdutil.StoreName(storePath))
		}
		return nil, cmdutil.Usagef("no study %q in %s; its studies: %s", name, cmdutil.StoreName(storePath), strings.Join(names, ", "))
	}
	return study, err
}

func runDelete(ctx context.Context, opts *DeleteOptions) error {
	store, study, err := openStudy(ctx, opts.StorePath, opts.IO, opts.Study)
	if err != nil {
		return err
	}
	defer store.Close()
	trials, err := store.Trials(ctx, study.ID, 0)
	if err != nil {
		return err
	}
	now := time.Now()
	if c, ok := store.(experiments.Clock); ok {
		if t, err := c.Now(ctx); err == nil {
			now = t
		}
	}
	alive := 0
	for i := range trials {
		if trials[i].State == optimize.Running && experiments.LostReason(&trials[i], now, 0) == "" {
			alive++
		}
	}
	if alive > 0 && !opts.Force {
		return cmdutil.Usagef("study %q has %d running trial(s) whose workers are alive; stop them first, or pass --force", study.Name, alive)
	}
	work := cmdutil.WorkDir(opts.StorePath)
	files := studyFiles(work, study.Name, trials)
	c := experiments.CountStates(trials)
	if !opts.Yes {
		fmt.Fprintf(opts.IO.ErrOut, "delete study %q (%s, %d trials: %d complete, %d failed, %d pruned, %d running) from %s",
			study.Name, study.Sampler, len(trials), c.Complete, c.Failed, c.Pruned, c.Running, cmdutil.StoreName(opts.StorePath))
		if len(files) > 0 {
			fmt.Fprintf(opts.IO.ErrOut, ", and %d file(s) or folder(s) of logs and plots", len(files))
		}
		fmt.Fprint(opts.IO.ErrOut, "? [y/N] ")
		line, err := bufio.NewReader(opts.IO.In).ReadString('\n')
		answer := strings.ToLower(strings.TrimSpace(line))
		if answer == "" && err != nil {
			fmt.Fprintln(opts.IO.ErrOut)
			return cmdutil.Usagef("nothing deleted: no answer (no terminal?); pass --yes to delete without asking")
		}
		if answer != "y" && answer != "yes" {
			return errors.New("nothing deleted")
		}
	}
	// The record first: a study whose files could not all be removed is
	// gone all the same, and the files left are named.
	if err := store.DeleteStudy(ctx, study.Name); err != nil {
		return err
	}
	var failed []error
	for _, f := range files {
		if err := os.RemoveAll(f); err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("study %q is deleted from the store, but some of its files remain: %w", study.Name, errors.Join(failed...))
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, DeleteJSON{Study: study.Name, Trials: len(trials), Files: append([]string{}, files...)})
	}
	fmt.Fprintf(opts.IO.Out, "deleted study %s: %d trials", study.Name, len(trials))
	if len(files) > 0 {
		fmt.Fprintf(opts.IO.Out, ", %d file(s) or folder(s) of logs and plots", len(files))
	}
	fmt.Fprintln(opts.IO.Out)
	return nil
}

// studyFiles lists what olc wrote for a study under work (the store's
// folder) that exists: the trials' log folders (each trial records its
// own, which a renamed study keeps), the study's runs folder, and its
// plots, alone or compared with others. Nothing outside work is listed.
func studyFiles(work, name string, trials []experiments.Trial) []string {
	var out []string
	seen := map[string]bool{}
	root, err := filepath.Abs(work)
	if err != nil {
		return nil
	}
	add := func(p string) {
		abs, err := filepath.Abs(p)
		if err != nil || seen[abs] {
			return
		}
		if rel, err := filepath.Rel(root, abs); err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			return
		}
		if _, err := os.Lstat(abs); err != nil {
			return
		}
		seen[abs] = true
		out = append(out, p)
	}
	add(filepath.Join(work, "runs", name))
	for _, t := range trials {
		if t.LogPath != "" && !strings.HasPrefix(t.LogPath, filepath.Join(work, "runs", name)+string(filepath.Separator)) {
			add(t.LogPath)
		}
	}
	plots, _ := os.ReadDir(filepath.Join(work, "plots"))
	for _, e := range plots {
		base := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		for _, part := range strings.Split(base, "-vs-") {
			if part == name {
				add(filepath.Join(work, "plots", e.Name()))
				break
			}
		}
	}
	return out
}

// RenameOptions are the options of 'olc optimize rename'.
type RenameOptions struct {
	IO        *cmdutil.IOStreams
	StorePath string
	Study     string
	To        string
}

func newCmdRename(ios *cmdutil.IOStreams, runF func(context.Context, *RenameOptions) error) *cobra.Command {
	opts := &RenameOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "rename --study NAME --to NEW",
		Short: "Rename a study",
		Long: `Rename a study in the store. Its trials keep their log folders, and a config
naming the new name resumes it (the name is not part of what must not change).`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireStudy(opts.Study); err != nil {
				return err
			}
			switch {
			case opts.To == "":
				return cmdutil.Usagef("--to is required: the study's new name")
			case len(opts.To) > optimize.MaxNameLen || !optimize.ValidName(opts.To):
				return cmdutil.Usagef("--to %q is not a valid study name; allowed: at most %d letters, digits, '-', '_', '.', not starting with '-' or '.'", opts.To, optimize.MaxNameLen)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRename(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Study, "study", "", "the study (required)")
	cmd.Flags().StringVar(&opts.To, "to", "", "its new name (required)")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	return cmd
}

func runRename(ctx context.Context, opts *RenameOptions) error {
	store, _, err := openStudy(ctx, opts.StorePath, opts.IO, opts.Study)
	if err != nil {
		return err
	}
	defer store.Close()
	err = store.RenameStudy(ctx, opts.Study, opts.To)
	if errors.Is(err, experiments.ErrStudyExists) {
		return cmdutil.Usagef("--to: a study called %q exists already in %s", opts.To, cmdutil.StoreName(opts.StorePath))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "renamed study %s to %s\n", opts.Study, opts.To)
	return nil
}
