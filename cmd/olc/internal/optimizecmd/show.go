package optimizecmd

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// studyBest returns a stored study's best observed trial and, asking its
// sampler (rebuilt from the stored config) when it has a model, the
// model's recommendation.
func studyBest(ctx context.Context, study *experiments.Study, trials []experiments.Trial) (*BestJSON, *RecommendedJSON, error) {
	var sampler optimize.Sampler
	if study.Sampler == "bayes" && experiments.Best(trials, study.Direction) != nil {
		var err error
		if sampler, err = experiments.SamplerOf(study); err != nil {
			return nil, nil, fmt.Errorf("rebuild the sampler of study %q: %w", study.Name, err)
		}
	}
	return bestOf(ctx, sampler, study, trials)
}

func requireStudy(name string) error {
	if name == "" {
		return cmdutil.Usagef("--study is required; 'olc optimize status' lists the studies")
	}
	return nil
}

// StatusJSON is what 'olc optimize status --study NAME --json' prints.
type StatusJSON struct {
	Study     string             `json:"study"`
	Sampler   string             `json:"sampler"`
	Direction optimize.Direction `json:"direction"`
	Metric    string             `json:"metric"`
	Created   string             `json:"created"`
	Trials    int                `json:"trials"`
	Complete  int                `json:"complete"`
	Failed    int                `json:"failed"`
	Running   int                `json:"running"`
	Pruned    int                `json:"pruned"`
	Best      *BestJSON          `json:"best"`
	// Recommended is the model's choice when it finds the objective noisy.
	Recommended *RecommendedJSON `json:"recommended,omitempty"`
	// Metrics and ParetoFront, for a study with several objectives.
	Metrics     []string     `json:"metrics,omitempty"`
	ParetoFront []ParetoJSON `json:"pareto_front,omitempty"`
	// RunningTrials and Failures describe the running trials and the
	// failed trials that were not run again successfully.
	RunningTrials []RunningJSON `json:"running_trials"`
	Failures      []FailureJSON `json:"failures"`
	// Workers are the processes that ran the study's trials, the busiest
	// first.
	Workers []WorkerJSON `json:"workers"`
}

// WorkerJSON is a process that ran trials of a study: its host and pid,
// the trials it ran and runs, and when it was last heard of (its running
// trials' last heartbeat, or its last trial's end).
type WorkerJSON struct {
	Host          string  `json:"host"`
	PID           int     `json:"pid"`
	Trials        int     `json:"trials"`
	Complete      int     `json:"complete"`
	Running       []int   `json:"running"`
	LastSeenAgeS  float64 `json:"last_seen_age_s"`
	Lost          bool    `json:"lost,omitempty"`
	lastSeen      time.Time
	firstTrialNum int
}

// RunningJSON is a running trial in status output. Lost, when not empty,
// says why the trial's process is taken to be dead (gone, or silent past
// the staleness window); the next run of the study marks it failed and
// runs it again.
type RunningJSON struct {
	Trial         int     `json:"trial"`
	Owner         string  `json:"owner"`
	Started       string  `json:"started"`
	HeartbeatAgeS float64 `json:"heartbeat_age_s"`
	Lost          string  `json:"lost,omitempty"`
}

// FailureJSON is a failed trial in status output.
type FailureJSON struct {
	Trial   int    `json:"trial"`
	Attempt int    `json:"attempt"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
	LogPath string `json:"log_path,omitempty"`
}

// StatusOptions are the options of 'olc optimize status'.
type StatusOptions struct {
	IO        *cmdutil.IOStreams
	StorePath string
	Study     string
	JSON      bool
	// Filter selects the studies a listing shows.
	Filter ListFilter
}

// ListFilter selects studies in a listing; its zero value selects all.
type ListFilter struct {
	// Match is a shell pattern on the name ("lr-*").
	Match string
	// Sampler keeps the studies of one sampler ("bayes", "ablation", …).
	Sampler string
	// Active keeps the studies with running trials.
	Active bool
	// Since keeps the studies created at or after it.
	Since time.Time
	// since is the flag as given.
	since string
}

// parse checks the filter's flags; now is the time a duration counts back
// from.
func (f *ListFilter) parse(now time.Time) error {
	if f.Match != "" {
		if _, err := path.Match(f.Match, ""); err != nil {
			return cmdutil.Usagef("--match %q is not a valid pattern: %v (use * ? and [a-z])", f.Match, err)
		}
	}
	if f.since == "" {
		return nil
	}
	if d, err := time.ParseDuration(f.since); err == nil && d >= 0 {
		f.Since = now.Add(-d)
		return nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, f.since, time.UTC); err == nil {
			f.Since = t
			return nil
		}
	}
	return cmdutil.Usagef("--since %q is neither a duration (\"36h\") nor a date (\"2026-11-30\" or RFC 3339)", f.since)
}

// keep reports whether a study passes the filter.
func (f *ListFilter) keep(s *experiments.Study, c experiments.Counts) bool {
	if f.Match != "" {
		if ok, _ := path.Match(f.Match, s.Name); !ok {
			return false
		}
	}
	return (f.Sampler == "" || s.Sampler == f.Sampler) && (!f.Active || c.Running > 0) && !s.Created.Before(f.Since)
}

// addListFlags adds the listing's filters.
func addListFlags(cmd *cobra.Command, f *ListFilter) {
	fl := cmd.Flags()
	fl.StringVar(&f.Match, "match", "", "list the studies whose name matches this shell pattern (\"lr-*\")")
	fl.StringVar(&f.Sampler, "sampler", "", "list the studies of this sampler (grid, random, bayes, ablation, …)")
	fl.BoolVar(&f.Active, "active", false, "list the studies with running trials")
	fl.StringVar(&f.since, "since", "", "list the studies created since a date (\"2026-11-30\") or within a duration (\"36h\")")
}

func newCmdStatus(ios *cmdutil.IOStreams, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "status [--study NAME] [--match PATTERN] [--sampler NAME] [--active] [--since WHEN]",
		Short: "Show a study's progress, or list the studies of the store",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Study != "" && (opts.Filter != ListFilter{}) {
				return cmdutil.Usagef("--match, --sampler, --active and --since filter the list of studies; they do not go with --study")
			}
			if err := opts.Filter.parse(time.Now()); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Study, "study", "", "the study (default: list every study)")
	addListFlags(cmd, &opts.Filter)
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

// newCmdList returns 'olc optimize list': the listing of 'status' without
// --study.
func newCmdList(ios *cmdutil.IOStreams) *cobra.Command {
	opts := &StatusOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "list [--match PATTERN] [--sampler NAME] [--active] [--since WHEN]",
		Short: "List the studies of the store, with filters",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Filter.parse(time.Now()); err != nil {
				return err
			}
			return listStudies(cmd.Context(), opts.IO, opts.StorePath, opts.JSON, &opts.Filter)
		},
	}
	addListFlags(cmd, &opts.Filter)
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

func runStatus(ctx context.Context, opts *StatusOptions) error {
	if opts.Study == "" {
		return listStudies(ctx, opts.IO, opts.StorePath, opts.JSON, &opts.Filter)
	}
	study, trials, now, err := cmdutil.LoadStudyAt(ctx, opts.StorePath, opts.Study)
	if err != nil {
		return err
	}
	st := status(study, trials, now)
	if st.Metrics, st.ParetoFront = paretoOf(study, trials); st.Metrics != nil {
		st.Best = nil
	} else if st.Best, st.Recommended, err = studyBest(ctx, study, trials); err != nil {
		return err
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, st)
	}
	printStatus(opts.IO.Out, st, study)
	return nil
}

func status(study *experiments.Study, trials []experiments.Trial, now time.Time) *StatusJSON {
	c := experiments.CountStates(trials)
	st := &StatusJSON{
		Study: study.Name, Sampler: study.Sampler, Direction: study.Direction, Metric: study.Metric,
		Created: study.Created.UTC().Format(time.RFC3339), Trials: len(trials),
		Complete: c.Complete, Failed: c.Failed, Running: c.Running, Pruned: c.Pruned,
		Best:          bestJSON(experiments.Best(trials, study.Direction)),
		RunningTrials: []RunningJSON{}, Failures: []FailureJSON{}, Workers: []WorkerJSON{},
	}
	rerun := map[int]bool{}
	for _, t := range trials {
		if t.RetryOf >= 0 {
			rerun[t.RetryOf] = true
		}
	}
	byOwner := map[string]*WorkerJSON{}
	for _, t := range trials {
		w := byOwner[t.Owner]
		if w == nil {
			host, pid, _ := strings.Cut(t.Owner, ":")
			n, err := strconv.Atoi(pid)
			if err != nil {
				host = t.Owner // not a process: trials given by 'olc optimize ask'
			}
			w = &WorkerJSON{Host: host, PID: n, Running: []int{}, firstTrialNum: t.Number}
			byOwner[t.Owner] = w
		}
		w.Trials++
		seen := t.Finished
		switch t.State {
		case optimize.Complete:
			w.Complete++
		case optimize.Running:
			w.Running = append(w.Running, t.Number)
			seen = t.Heartbeat
			if experiments.LostReason(&t, now, 0) != "" {
				w.Lost = true
			}
		}
		if seen.After(w.lastSeen) {
			w.lastSeen = seen
		}
	}
	for _, w := range byOwner {
		w.LastSeenAgeS = now.Sub(w.lastSeen).Round(time.Second).Seconds()
		st.Workers = append(st.Workers, *w)
	}
	slices.SortFunc(st.Workers, func(a, b WorkerJSON) int {
		if a.Trials != b.Trials {
			return b.Trials - a.Trials
		}
		return a.firstTrialNum - b.firstTrialNum
	})
	for _, t := range trials {
		switch {
		case t.State == optimize.Running:
			st.RunningTrials = append(st.RunningTrials, RunningJSON{Trial: t.Number, Owner: t.Owner, Started: t.Started.UTC().Format(time.RFC3339),
				HeartbeatAgeS: now.Sub(t.Heartbeat).Round(time.Second).Seconds(), Lost: strings.TrimPrefix(experiments.LostReason(&t, now, 0), "lost: ")})
		case t.State == optimize.Failed && !rerun[t.Number]:
			st.Failures = append(st.Failures, FailureJSON{Trial: t.Number, Attempt: t.Attempt, Reason: string(t.Reason), Error: t.Error, LogPath: t.LogPath})
		}
	}
	return st
}

func printStatus(w io.Writer, st *StatusJSON, study *experiments.Study) {
	title := samplerTitles[st.Sampler]
	fmt.Fprintf(w, "study %s: %s, %s %s, created %s\n", st.Study, title, st.Direction, st.Metric, st.Created)
	fmt.Fprintf(w, "trials: %d complete, %d failed, %d running", st.Complete, st.Failed, st.Running)
	if st.Pruned > 0 {
		fmt.Fprintf(w, ", %d pruned", st.Pruned)
	}
	fmt.Fprintln(w)
	space, _ := experiments.SpaceOf(study)
	if st.Metrics != nil {
		printPareto(w, st.Metrics, st.ParetoFront, space)
	} else {
		printBest(w, st.Best, st.Recommended, space)
	}
	if len(st.Workers) > 1 || (len(st.Workers) == 1 && len(st.Workers[0].Running) > 0) {
		fmt.Fprintln(w, "workers:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  HOST\tPID\tTRIALS\tCOMPLETE\tRUNNING\tLAST SEEN")
		for _, k := range st.Workers {
			running := "-"
			if len(k.Running) > 0 {
				running = strings.Trim(strings.ReplaceAll(fmt.Sprint(k.Running), " ", ","), "[]")
			}
			seen := fmt.Sprintf("%gs ago", k.LastSeenAgeS)
			if k.Lost {
				seen += " (LOST)"
			}
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%s\t%s\n", k.Host, k.PID, k.Trials, k.Complete, running, seen)
		}
		tw.Flush()
	}
	if len(st.RunningTrials) > 0 {
		fmt.Fprintln(w, "running:")
		lost := 0
		for _, r := range st.RunningTrials {
			fmt.Fprintf(w, "  trial %d on %s since %s, last heartbeat %gs ago", r.Trial, r.Owner, r.Started, r.HeartbeatAgeS)
			if r.Lost != "" {
				fmt.Fprintf(w, ": LOST, %s", r.Lost)
				lost++
			}
			fmt.Fprintln(w)
		}
		if lost > 0 {
			fmt.Fprintf(w, "  (%d lost trial(s): the next run of the study marks them failed and runs them again)\n", lost)
		}
	}
	if len(st.Failures) > 0 {
		fmt.Fprintln(w, "failed, not run again:")
		for _, f := range st.Failures {
			line := f.Error
			if i := strings.IndexByte(line, '\n'); i >= 0 {
				line = line[:i]
			}
			fmt.Fprintf(w, "  trial %d (attempt %d, %s): %s\n", f.Trial, f.Attempt, f.Reason, line)
			if f.LogPath != "" {
				fmt.Fprintf(w, "    logs: %s\n", f.LogPath)
			}
		}
	}
}

// StudyRow is a study in 'olc optimize status --json' without --study.
type StudyRow struct {
	Study     string             `json:"study"`
	Sampler   string             `json:"sampler"`
	Direction optimize.Direction `json:"direction"`
	Metric    string             `json:"metric"`
	Created   string             `json:"created"`
	Complete  int                `json:"complete"`
	Failed    int                `json:"failed"`
	Running   int                `json:"running"`
	Pruned    int                `json:"pruned"`
	Best      *float64           `json:"best"`
}

func listStudies(ctx context.Context, ios *cmdutil.IOStreams, storePath string, asJSON bool, filter *ListFilter) error {
	store, err := cmdutil.OpenExistingStore(ctx, storePath)
	if err != nil {
		return err
	}
	defer store.Close()
	studies, err := store.Studies(ctx)
	if err != nil {
		return err
	}
	rows := []StudyRow{}
	for i := range studies {
		s := &studies[i]
		trials, err := store.Trials(ctx, s.ID, 0)
		if err != nil {
			return err
		}
		c := experiments.CountStates(trials)
		if !filter.keep(s, c) {
			continue
		}
		row := StudyRow{Study: s.Name, Sampler: s.Sampler, Direction: s.Direction, Metric: s.Metric,
			Created: s.Created.UTC().Format(time.RFC3339), Complete: c.Complete, Failed: c.Failed, Running: c.Running, Pruned: c.Pruned}
		if b := experiments.Best(trials, s.Direction); b != nil {
			v := b.Value
			row.Best = &v
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b StudyRow) int { return strings.Compare(a.Study, b.Study) })
	if asJSON {
		return cmdutil.PrintJSON(ios.Out, map[string]any{"store": storePath, "studies": rows})
	}
	if len(rows) == 0 {
		if (*filter != ListFilter{}) {
			fmt.Fprintf(ios.Out, "no study in %s passes the filters (%d studies in all)\n", cmdutil.StoreName(storePath), len(studies))
			return nil
		}
		fmt.Fprintf(ios.Out, "no studies in %s\n", cmdutil.StoreName(storePath))
		return nil
	}
	tw := tabwriter.NewWriter(ios.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STUDY\tSAMPLER\tGOAL\tCOMPLETE\tFAILED\tRUNNING\tBEST\tCREATED")
	for _, r := range rows {
		best := "-"
		if r.Best != nil {
			best = formatValue(*r.Best)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%d\t%d\t%d\t%s\t%s\n", r.Study, r.Sampler, r.Direction, r.Metric, r.Complete, r.Failed, r.Running, best, r.Created)
	}
	return tw.Flush()
}

// BestOutput is what 'olc optimize best --json' prints.
type BestOutput struct {
	Study     string             `json:"study"`
	Direction optimize.Direction `json:"direction"`
	Metric    string             `json:"metric"`
	Trial     int                `json:"trial"`
	Value     float64            `json:"value"`
	Params    optimize.Params    `json:"params"`
	Metrics   map[string]float64 `json:"metrics"`
	LogPath   string             `json:"log_path,omitempty"`
	// Recommended is the model's choice when it finds the objective noisy.
	Recommended *RecommendedJSON `json:"recommended,omitempty"`
}

// BestOptions are the options of 'olc optimize best'.
type BestOptions struct {
	IO        *cmdutil.IOStreams
	StorePath string
	Study     string
	JSON      bool
}

func newCmdBest(ios *cmdutil.IOStreams, runF func(context.Context, *BestOptions) error) *cobra.Command {
	opts := &BestOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "best --study NAME",
		Short: "Show a study's best trial",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireStudy(opts.Study); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runBest(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Study, "study", "", "the study (required)")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

func runBest(ctx context.Context, opts *BestOptions) error {
	study, trials, err := cmdutil.LoadStudy(ctx, opts.StorePath, opts.Study)
	if err != nil {
		return err
	}
	if experiments.Best(trials, study.Direction) == nil {
		return fmt.Errorf("study %q has no complete trial yet", opts.Study)
	}
	if metrics, front := paretoOf(study, trials); metrics != nil {
		if opts.JSON {
			return cmdutil.PrintJSON(opts.IO.Out, map[string]any{"study": study.Name, "metrics": metrics, "pareto_front": front})
		}
		space, _ := experiments.SpaceOf(study)
		fmt.Fprintf(opts.IO.Out, "study %s, objectives %s\n", study.Name, strings.Join(metrics, ", "))
		printPareto(opts.IO.Out, metrics, front, space)
		return nil
	}
	bj, rec, err := studyBest(ctx, study, trials)
	if err != nil {
		return err
	}
	b := &trials[bj.Trial]
	out := BestOutput{Study: study.Name, Direction: study.Direction, Metric: study.Metric, Trial: b.Number, Value: b.Value,
		Params: b.Params, Metrics: b.Metrics, LogPath: b.LogPath, Recommended: rec}
	w := opts.IO.Out
	if opts.JSON {
		return cmdutil.PrintJSON(w, out)
	}
	space, _ := experiments.SpaceOf(study)
	fmt.Fprintf(w, "study %s, %s %s\n", study.Name, study.Direction, study.Metric)
	printBest(w, bj, rec, space)
	if len(b.Metrics) > 1 {
		fmt.Fprintln(w, "metrics:")
		for _, k := range slices.Sorted(maps.Keys(b.Metrics)) {
			fmt.Fprintf(w, "  %s = %s\n", k, formatValue(b.Metrics[k]))
		}
	}
	if b.LogPath != "" {
		fmt.Fprintf(w, "logs: %s\n", b.LogPath)
	}
	return nil
}
