package traincmd

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/train"
)

// QAOptions are the options of 'olc qa'.
type QAOptions struct {
	IO                   *cmdutil.IOStreams
	Model, Doc, Question string
	ContextLength        int
	// Stride is the overlap of windows; 0 adapts it to the window.
	Stride                int
	MaxAnswerLen, Threads int
	Precision             string
	NullThreshold         float64
	JSON                  bool
}

// NewCmdQA returns 'olc qa'. runF, when not nil, replaces the run (for
// tests of flag parsing).
func NewCmdQA(ios *cmdutil.IOStreams, runF func(context.Context, *QAOptions) error) *cobra.Command {
	o := &QAOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "qa --model DIR --doc FILE --question \"…\"",
		Short: "Answer a question over a long document",
		Long: `Answer a question over a document of any length with a question-answering
model: the document is read in windows of --context-length tokens that
overlap by --stride, and the best span over all windows wins, unless the
no-answer score (start and end on <s>) beats it by more than
--null-threshold, in which case the answer is that there is none. Documents
are plain text, Markdown or HTML (tags stripped); start and end are
character offsets into the document's text. Use a context length the model
was trained at: position embeddings it never trained are noise.

A model folder that comes with a Hugging Face tokenizer (tokenizer.json, or
vocab.json and merges.txt: a downloaded LongformerForQuestionAnswering)
answers as transformers' question-answering pipeline does: windows of
min(model_max_length, 384) tokens overlapping by half a window (at most
128), answers of at most 15 tokens scored by the product of their start
and end probabilities, widened to whole words; confidence is that score.
--context-length, --stride and --max-answer-length override those
defaults.`,
		Example: `  olc qa --model .olc/runs/passkey/model --doc long.txt --question "What is the pass key?" --json`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Model == "" || o.Doc == "" || o.Question == "" {
				return cmdutil.Usagef("--model, --doc and --question are required")
			}
			if _, err := model.ParsePrecision(o.Precision); err != nil {
				return cmdutil.Usagef("--precision: %v", err)
			}
			if !cmd.Flags().Changed("max-answer-length") {
				o.MaxAnswerLen = 0 // the decoder's default: 30, or the pipeline's 15
			} else if o.MaxAnswerLen <= 0 {
				return cmdutil.Usagef("--max-answer-length must be positive, not %d", o.MaxAnswerLen)
			}
			if !cmd.Flags().Changed("stride") {
				o.Stride = 0 // the default adapts to the window
			} else if o.Stride <= 0 {
				return cmdutil.Usagef("--stride must be positive, not %d", o.Stride)
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runQA(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "a question-answering model folder (required)")
	f.StringVar(&o.Doc, "doc", "", "the document: text, Markdown or HTML (required)")
	f.StringVar(&o.Question, "question", "", "the question (required)")
	f.IntVar(&o.ContextLength, "context-length", 0, "tokens per window (the model's maximum when 0)")
	f.IntVar(&o.Stride, "stride", 256, "overlap of consecutive windows, in tokens (by default at most half a window)")
	f.IntVar(&o.MaxAnswerLen, "max-answer-length", 30, "longest answer, in tokens (15 with a Hugging Face tokenizer)")
	f.Float64Var(&o.NullThreshold, "null-threshold", 0, "answer 'none' when the no-answer score beats the best span by more than this")
	f.IntVar(&o.Threads, "threads", 0, "windows read at a time (all cores when 0)")
	addPrecisionFlag(f, &o.Precision)
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

func runQA(ctx context.Context, o *QAOptions) error {
	lf, err := train.LoadLongformer(o.Model, model.HeadQA, false)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	if err := lf.SetPrecision(o.Precision); err != nil {
		return &cmdutil.UsageError{Err: fmt.Errorf("--precision: %w", err)}
	}
	doc, err := train.ReadDocument(o.Doc)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	if o.ContextLength > lf.MaxTokens() {
		return cmdutil.Usagef("--context-length %d exceeds the model's %d tokens", o.ContextLength, lf.MaxTokens())
	}
	threads := o.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	_, pipeline := lf.Tok.(*model.Roberta)
	a, err := train.AnswerQuestion(ctx, lf, lf.Tok, doc, o.Question, train.QAOptions{
		ContextLength: o.ContextLength, Stride: o.Stride, MaxAnswerLen: o.MaxAnswerLen,
		NullThreshold: o.NullThreshold, Global: lf.M.Config.GlobalAttention, Threads: threads, Pipeline: pipeline})
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	if o.JSON {
		return cmdutil.PrintJSON(o.IO.Out, a)
	}
	w := o.IO.Out
	if a.NoAnswer {
		fmt.Fprintf(w, "no answer found (no-answer score %.2f, best span %.2f; %d windows, %s)\n", a.NullScore, a.Score, a.Windows, time.Duration(a.ProcessingTime*1e9).Round(time.Millisecond))
		return nil
	}
	fmt.Fprintf(w, "answer: %s\nconfidence: %.3f\ncontext: %s\noffsets: [%d, %d) in %s; %d windows, %s\n", a.Answer, a.Confidence, a.Context, a.Start, a.End, o.Doc, a.Windows, time.Duration(a.ProcessingTime*1e9).Round(time.Millisecond))
	return nil
}

// addPrecisionFlag adds --precision, the arithmetic of the model's matrix
// products.
func addPrecisionFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "precision", "float32", "arithmetic of the matrix products: float32, or bf16 (bfloat16 on the AMX tile unit, float32 sums; refused where the unit is missing)")
}
