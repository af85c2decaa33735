package traincmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/olc-toolkit/olc/internal/bom"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/internal/atomicfile"
	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/train"
	"github.com/olc-toolkit/olc/train/trainplot"
)

// EvalOptions are the options of 'olc eval'.
type EvalOptions struct {
	IO                      *cmdutil.IOStreams
	Model, Data, Preds      string
	Text, CSV               string
	Lengths, Plot, Write    string
	ContextLength, Stride   int
	strideSet               bool // --stride given
	MaxAnswerLen, Threads   int
	Precision               string
	JSON, SkipInvalid, NoGl bool
}

// NewCmdEval returns 'olc eval'. runF, when not nil, replaces the run (for
// tests of flag parsing).
func NewCmdEval(ios *cmdutil.IOStreams, runF func(context.Context, *EvalOptions) error) *cobra.Command {
	o := &EvalOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "eval (--data FILE (--model DIR | --predictions preds.json) | --model DIR --text FILE --lengths L1,L2)",
		Short: "Score a model or a predictions file with the official SQuAD metrics",
		Long: `Score question answering the way the official SQuAD scripts do: exact match
and F1 after normalization (lower case, no punctuation, no articles), the
best over the gold answers, averaged over every question (a missing
prediction counts 0); for v2.0 data also the HasAns and NoAns parts.

With --model the model answers every question (windows of --context-length
tokens overlapping by --stride, the best span over all windows); with
--predictions a file {question_id: answer_text} from any system is scored.
For synthetic tasks (questions with olc_meta) the accuracy is also shown by
context length × needle depth (--lengths picks the rows), and --plot draws
it as a heat map (PNG, SVG or PDF by the file's extension).

With --text, a masked-LM model's perplexity on the text is measured at each
of --lengths (the text cut into sequences of that many tokens, 15% of the
tokens masked as in BERT, the masks fixed by --seed); --csv writes the
table for 'olc scaling fit --law context'.`,
		Example: `  olc eval --model .olc/runs/passkey/model --data passkey-test.json --plot heatmap.png
  olc eval --data dev-v2.0.json --predictions preds.json --json
  olc eval --model .olc/runs/mlm/model --text held-out.txt --lengths 128,256,512,1024 --csv ctx.csv`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.strideSet = cmd.Flags().Changed("stride")
			if _, err := model.ParsePrecision(o.Precision); err != nil {
				return cmdutil.Usagef("--precision: %v", err)
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runEval(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "a model folder to answer the questions")
	f.StringVar(&o.Data, "data", "", "SQuAD-format JSON (with --model or --predictions)")
	f.StringVar(&o.Preds, "predictions", "", "a predictions file {question_id: answer_text} to score")
	f.StringVar(&o.Text, "text", "", "plain text: masked-LM perplexity of --model at each of --lengths")
	f.StringVar(&o.CSV, "csv", "", "with --text: write the losses as CSV (c,loss,…) for olc scaling fit --law context")
	f.StringVar(&o.Lengths, "lengths", "", "rows of the accuracy table: context lengths, e.g. 1024,2048,4096")
	f.StringVar(&o.Plot, "plot", "", "draw the accuracy heat map to this file (.png, .svg, .pdf)")
	f.StringVar(&o.Write, "write-predictions", "", "write the model's predictions to this file")
	f.IntVar(&o.ContextLength, "context-length", 0, "tokens per window (the model's maximum when 0)")
	f.IntVar(&o.Stride, "stride", 128, "overlap of consecutive windows, in tokens (by default 128, at most a quarter of a window)")
	f.IntVar(&o.MaxAnswerLen, "max-answer-length", 30, "longest answer, in tokens")
	f.IntVar(&o.Threads, "threads", 0, "questions answered at a time (all cores when 0)")
	addPrecisionFlag(f, &o.Precision)
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	f.BoolVar(&o.SkipInvalid, "skip-invalid", false, "leave invalid questions out instead of failing")
	return cmd
}

// evalOutput is 'olc eval --json'.
type evalOutput struct {
	train.Scores
	Grid *train.Grid `json:"by_length_depth,omitempty"`
	Loss *float64    `json:"loss,omitempty"`
}

func runEval(ctx context.Context, o *EvalOptions) error {
	if o.Text != "" {
		return runPerplexity(ctx, o)
	}
	if o.Data == "" {
		return cmdutil.Usagef("--data is required to score questions (or --text to measure perplexity)")
	}
	if (o.Model == "") == (o.Preds == "") {
		return cmdutil.Usagef("give one of --model and --predictions")
	}
	examples, version, skipped, err := train.ReadSQuAD(o.Data, o.SkipInvalid)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	for _, s := range skipped {
		fmt.Fprintf(o.IO.ErrOut, "skipped %s\n", s.Error())
	}
	v2 := strings.HasPrefix(version, "v2") || strings.HasPrefix(version, "2")
	for _, ex := range examples {
		v2 = v2 || ex.IsImpossible
	}
	var lengths []int
	if o.Lengths != "" {
		ls, err := train.ParseLengths(o.Lengths)
		if err != nil {
			return cmdutil.Usagef("--lengths: %v", err)
		}
		for _, l := range ls {
			lengths = append(lengths, l[0])
		}
	}
	out := evalOutput{}
	var preds map[string]string
	if o.Preds != "" {
		b, err := os.ReadFile(o.Preds)
		if err != nil {
			return &cmdutil.UsageError{Err: fmt.Errorf("read predictions: %w", err)}
		}
		if err := json.Unmarshal(bom.Trim(b), &preds); err != nil {
			return &cmdutil.UsageError{Err: fmt.Errorf("%s: want a JSON object {question_id: answer_text}: %w", o.Preds, err)}
		}
	} else {
		lf, err := train.LoadLongformer(o.Model, model.HeadQA, false)
		if err != nil {
			return &cmdutil.UsageError{Err: err}
		}
		if err := lf.SetPrecision(o.Precision); err != nil {
			return &cmdutil.UsageError{Err: fmt.Errorf("--precision: %w", err)}
		}
		n := o.ContextLength
		if n == 0 {
			n = lf.MaxTokens()
		}
		if n > lf.MaxTokens() {
			return cmdutil.Usagef("--context-length %d exceeds the model's %d tokens", n, lf.MaxTokens())
		}
		threads := o.Threads
		if threads == 0 {
			threads = runtime.GOMAXPROCS(0)
		}
		stride := o.Stride
		if !o.strideSet {
			stride = min(stride, n/4)
		}
		if room := n - 64 - 4; stride >= room {
			return cmdutil.Usagef("--stride %d must be less than the %d context tokens a %d-token window holds after a question of up to 64 tokens", stride, max(room, 0), n)
		}
		w := train.Window{MaxLen: n, Stride: stride, Global: lf.M.Config.GlobalAttention}
		bar := cmdutil.NewProgress(o.IO, false, "eval "+filepath.Base(o.Data))
		pr, err := train.Predict(ctx, lf, lf.Tok, examples, w, train.Decoder{MaxAnswerLen: o.MaxAnswerLen, AllowNoAnswer: v2}, threads,
			func(done, total int) { bar.SetCount(done, total, fmt.Sprintf("%d of %d questions", done, total)) })
		bar.Finish()
		if err != nil {
			return err
		}
		preds = train.PredictionMap(pr.Predictions)
		out.Loss = &pr.Loss
		if o.Write != "" {
			b, _ := json.MarshalIndent(preds, "", "  ")
			if err := atomicfile.Write(o.Write, append(b, '\n')); err != nil {
				return err
			}
		}
	}
	out.Scores = train.Evaluate(examples, preds, v2)
	hasMeta := false
	for _, ex := range examples {
		hasMeta = hasMeta || ex.Meta != nil
	}
	if hasMeta {
		g := train.AccuracyGrid(examples, out.Scores, lengths, nil)
		out.Grid = &g
		if o.Plot != "" {
			format := strings.TrimPrefix(strings.ToLower(filepath.Ext(o.Plot)), ".")
			var buf bytes.Buffer
			title := "exact match (%) by context length and depth"
			if o.Model != "" {
				name := filepath.Base(filepath.Clean(o.Model))
				if name == "model" { // a run's model folder: name the run
					name = filepath.Base(filepath.Dir(filepath.Clean(o.Model)))
				}
				title = name + ": " + title
			}
			if err := trainplot.HeatMap(&buf, format, title, &g); err != nil {
				return cmdutil.Usagef("--plot: %v", err)
			}
			if err := atomicfile.Write(o.Plot, buf.Bytes()); err != nil {
				return err
			}
		}
	} else if o.Plot != "" {
		return cmdutil.Usagef("--plot needs synthetic data (questions with olc_meta)")
	}
	if o.JSON {
		return cmdutil.PrintJSON(o.IO.Out, out)
	}
	w := o.IO.Out
	s := out.Scores
	fmt.Fprintf(w, "exact %.2f  f1 %.2f  (%d questions", s.Exact, s.F1, s.Total)
	if s.Missing > 0 {
		fmt.Fprintf(w, ", %d without a prediction", s.Missing)
	}
	fmt.Fprintln(w, ")")
	if s.HasAnsTotal != nil {
		fmt.Fprintf(w, "HasAns: exact %.2f  f1 %.2f  (%d)\n", *s.HasAnsExact, *s.HasAnsF1, *s.HasAnsTotal)
	}
	if s.NoAnsTotal != nil {
		fmt.Fprintf(w, "NoAns:  exact %.2f  f1 %.2f  (%d)\n", *s.NoAnsExact, *s.NoAnsF1, *s.NoAnsTotal)
	}
	if g := out.Grid; g != nil && len(g.Cells) > 0 {
		fmt.Fprintln(w, "\nexact match (%) by context length (rows) and needle depth (columns):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "length\t")
		for _, d := range g.Depths {
			fmt.Fprintf(tw, "%.2g\t", d)
		}
		fmt.Fprintln(tw)
		for r, l := range g.Lengths {
			fmt.Fprintf(tw, "%d\t", l)
			for c := range g.Depths {
				if cell := g.Cells[r*len(g.Depths)+c]; cell.N > 0 {
					fmt.Fprintf(tw, "%.0f\t", cell.Exact)
				} else {
					fmt.Fprint(tw, "-\t")
				}
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	if o.Plot != "" {
		fmt.Fprintf(w, "heat map: %s\n", o.Plot)
	}
	return nil
}

func runPerplexity(ctx context.Context, o *EvalOptions) error {
	if o.Model == "" || o.Lengths == "" || o.Data != "" || o.Preds != "" {
		return cmdutil.Usagef("--text takes --model and --lengths (and not --data or --predictions)")
	}
	var lengths []int
	ls, err := train.ParseLengths(o.Lengths)
	if err != nil {
		return cmdutil.Usagef("--lengths: %v", err)
	}
	for _, l := range ls {
		lengths = append(lengths, l[0])
	}
	lf, err := train.LoadLongformer(o.Model, model.HeadLM, false)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	if err := lf.SetPrecision(o.Precision); err != nil {
		return &cmdutil.UsageError{Err: fmt.Errorf("--precision: %w", err)}
	}
	switch trained, known := lf.M.Config.TrainedFor(model.ArchMLM); {
	case known && !trained:
		return cmdutil.Usagef("%s was trained for %s: its masked-LM head is untrained, so its perplexity would mean nothing; --text needs a model trained with train.task = \"mlm\"", o.Model, strings.Join(lf.M.Config.Architectures, ", "))
	case !known:
		fmt.Fprintf(o.IO.ErrOut, "olc: %s does not say which head it was trained for (no architectures in config.json); the perplexity means something only for a masked-LM model\n", o.Model)
	}
	b, err := os.ReadFile(o.Text)
	if err != nil {
		return &cmdutil.UsageError{Err: fmt.Errorf("read text: %w", err)}
	}
	b = bom.Trim(b)
	threads := o.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	rows, err := train.PerplexityByLength(ctx, lf, lf.Tok, string(b), lengths, 0.15, 1, threads)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	if o.CSV != "" {
		var buf bytes.Buffer
		buf.WriteString("c,loss,perplexity,sequences,masked_tokens\n")
		for _, r := range rows {
			fmt.Fprintf(&buf, "%d,%.9g,%.9g,%d,%d\n", r.Length, r.Loss, r.Perplexity, r.Sequences, r.Masked)
		}
		if err := atomicfile.Write(o.CSV, buf.Bytes()); err != nil {
			return err
		}
	}
	if o.JSON {
		return cmdutil.PrintJSON(o.IO.Out, map[string]any{"perplexity_by_length": rows})
	}
	tw := tabwriter.NewWriter(o.IO.Out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "context\tloss\tperplexity\tsequences\tmasked tokens\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%.4f\t%.3f\t%d\t%d\t\n", r.Length, r.Loss, r.Perplexity, r.Sequences, r.Masked)
	}
	tw.Flush()
	if o.CSV != "" {
		fmt.Fprintf(o.IO.Out, "CSV: %s (olc scaling fit --data %s --law context)\n", o.CSV, o.CSV)
	}
	return nil
}
