package modelcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/model"
)

// RunOptions are the options of 'olc model run'.
type RunOptions struct {
	IO      *cmdutil.IOStreams
	Model   string
	Input   string
	Text    string
	Float64 bool
	JSON    bool
	// Question, with Text, makes the pair <s> question </s></s> text </s>.
	Question string
}

// RunToken is one token of --text's encoding: its id, the text it stands
// for (the special token's name for those), and for a token of the
// question or the text its character offsets there.
type RunToken struct {
	ID       int    `json:"id"`
	Text     string `json:"text"`
	Sequence string `json:"sequence,omitempty"` // "question" or "text"
	Start    int    `json:"start"`
	End      int    `json:"end"`
}

// RunInput is one sequence of 'olc model run”s input, with the
// reference's names: attention_mask (1 a token, 0 padding; default all
// 1) and global_attention_mask (1 global; default all 0).
type RunInput struct {
	InputIDs            []int `json:"input_ids"`
	AttentionMask       []int `json:"attention_mask,omitempty"`
	GlobalAttentionMask []int `json:"global_attention_mask,omitempty"`
}

// RunOutput is one sequence's outputs, with the reference's names:
// last_hidden_state (tokens × hidden), and the head's scores when the
// model has one (start_logits and end_logits for question answering,
// logits, tokens × vocabulary, for a masked-LM model).
type RunOutput struct {
	LastHiddenState [][]float64 `json:"last_hidden_state"`
	StartLogits     []float64   `json:"start_logits,omitempty"`
	EndLogits       []float64   `json:"end_logits,omitempty"`
	Logits          [][]float64 `json:"logits,omitempty"`
}

func newCmdRun(ios *cmdutil.IOStreams, runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "run --model DIR (--input FILE.json | --text \"…\" [--question \"…\"])",
		Short: "Run a model's forward pass on given token ids, for comparing olc with other implementations",
		Long: `Run the forward pass of the model in DIR on the token ids of FILE.json ('-'
reads standard input):

  {"inputs": [{"input_ids": [0, 31414, 2], "attention_mask": [1, 1, 1],
               "global_attention_mask": [1, 0, 0]}]}

The masks are optional and mean what they mean to Hugging Face's
Longformer (attention_mask 0: padding; global_attention_mask 1: global
attention), with its defaults: no padding, and no global token but for a
question-answering model, which puts global attention on the question
(the tokens before the first separator; the input must then hold three,
<s> question </s></s> context </s>).

--text runs the folder's tokenizer first (its tokenizer.json, or
vocab.json and merges.txt; the byte tokenizer for models olc trained from
scratch) on <s> text </s>, or with --question on the pair <s> question
</s></s> text </s>, and prints the tokens with their character offsets
before the outputs. The outputs carry the reference's names: last_hidden_state,
then start_logits and end_logits for a question-answering model
(architectures LongformerForQuestionAnswering in config.json) or logits for
a masked-LM one. --json prints them all; the text output summarizes them.
--float64 computes in float64 (the checkpoint's weights widened).`,
		Example: `  olc model run --model models/tiny --input ids.json --json > olc.json`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case opts.Model == "":
				return cmdutil.Usagef("--model is required")
			case (opts.Input == "") == (opts.Text == ""):
				return cmdutil.Usagef("give --input FILE.json or --text \"…\" (one of them)")
			case opts.Question != "" && opts.Text == "":
				return cmdutil.Usagef("--question goes with --text")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Model, "model", "", "the model folder (config.json, model.safetensors)")
	f.StringVar(&opts.Input, "input", "", "the inputs, as JSON ('-': standard input)")
	f.StringVar(&opts.Text, "text", "", "a text to tokenize with the folder's tokenizer and run")
	f.StringVar(&opts.Question, "question", "", "with --text: a question, encoded before the text as a pair")
	f.BoolVar(&opts.Float64, "float64", false, "compute in float64")
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

// readRunInputs reads and checks the inputs file.
func readRunInputs(name string, r io.Reader) ([]RunInput, error) {
	var in struct {
		Inputs []RunInput `json:"inputs"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, cmdutil.Usagef("%s: %v (want {\"inputs\": [{\"input_ids\": [...], \"attention_mask\": [...], \"global_attention_mask\": [...]}]})", name, err)
	}
	if len(in.Inputs) == 0 {
		return nil, cmdutil.Usagef("%s: no inputs", name)
	}
	for i, s := range in.Inputs {
		n := len(s.InputIDs)
		switch {
		case n == 0:
			return nil, cmdutil.Usagef("%s: inputs[%d]: input_ids is empty", name, i)
		case s.AttentionMask != nil && len(s.AttentionMask) != n:
			return nil, cmdutil.Usagef("%s: inputs[%d]: %d attention_mask values for %d input_ids", name, i, len(s.AttentionMask), n)
		case s.GlobalAttentionMask != nil && len(s.GlobalAttentionMask) != n:
			return nil, cmdutil.Usagef("%s: inputs[%d]: %d global_attention_mask values for %d input_ids", name, i, len(s.GlobalAttentionMask), n)
		}
		for j := range n {
			if (s.AttentionMask != nil && s.AttentionMask[j] != 0 && s.AttentionMask[j] != 1) ||
				(s.GlobalAttentionMask != nil && s.GlobalAttentionMask[j] != 0 && s.GlobalAttentionMask[j] != 1) {
				return nil, cmdutil.Usagef("%s: inputs[%d]: mask values must be 0 or 1 (token %d)", name, i, j)
			}
		}
	}
	return in.Inputs, nil
}

// olcMask turns the reference's two masks into olc's one: padding where
// attention_mask is 0, global where global_attention_mask is 1, else
// local.
func olcMask(in RunInput) []int8 {
	mask := make([]int8, len(in.InputIDs))
	for i := range mask {
		switch {
		case in.AttentionMask != nil && in.AttentionMask[i] == 0:
			mask[i] = model.MaskPad
		case in.GlobalAttentionMask != nil && in.GlobalAttentionMask[i] == 1:
			mask[i] = model.MaskGlobal
		default:
			mask[i] = model.MaskLocal
		}
	}
	return mask
}

func runRun(ctx context.Context, opts *RunOptions) error {
	var (
		inputs []RunInput
		tokens []RunToken
		name   = "standard input"
		err    error
	)
	if opts.Text != "" {
		name = "--text"
		if tokens, err = tokenize(opts); err != nil {
			return err
		}
		in := RunInput{}
		for _, t := range tokens {
			in.InputIDs = append(in.InputIDs, t.ID)
		}
		if opts.Question == "" {
			// One text has no question to make global: <s> is.
			in.GlobalAttentionMask = make([]int, len(in.InputIDs))
			in.GlobalAttentionMask[0] = 1
		}
		inputs = []RunInput{in}
	} else {
		var r io.Reader = opts.IO.In
		if opts.Input != "-" {
			f, err := os.Open(opts.Input)
			if err != nil {
				return &cmdutil.UsageError{Err: fmt.Errorf("--input: %w", err)}
			}
			defer f.Close()
			r, name = f, opts.Input
		}
		if inputs, err = readRunInputs(name, r); err != nil {
			return err
		}
	}
	var outs []RunOutput
	if opts.Float64 {
		outs, err = forwardAll[float64](ctx, opts.Model, name, inputs)
	} else {
		outs, err = forwardAll[float32](ctx, opts.Model, name, inputs)
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		out := map[string]any{"outputs": outs}
		if tokens != nil {
			out["tokens"] = tokens
		}
		return cmdutil.PrintJSON(opts.IO.Out, out)
	}
	if tokens != nil {
		fmt.Fprintf(opts.IO.Out, "%d tokens:", len(tokens))
		for i, t := range tokens {
			fmt.Fprintf(opts.IO.Out, " %d:%q(%d)", i, t.Text, t.ID)
		}
		fmt.Fprintln(opts.IO.Out)
	}
	for i, o := range outs {
		fmt.Fprintf(opts.IO.Out, "input %d: %d tokens, hidden %d", i, len(o.LastHiddenState), len(o.LastHiddenState[0]))
		fmt.Fprintf(opts.IO.Out, ", last_hidden_state[0][:4] = %.6g", o.LastHiddenState[0][:min(4, len(o.LastHiddenState[0]))])
		if o.StartLogits != nil {
			fmt.Fprintf(opts.IO.Out, "; best start token %d, best end token %d", argmax(o.StartLogits), argmax(o.EndLogits))
		}
		if o.Logits != nil {
			best := make([]int, len(o.Logits))
			for t, row := range o.Logits {
				best[t] = argmax(row)
			}
			fmt.Fprintf(opts.IO.Out, "; most likely ids %v", best)
		}
		fmt.Fprintln(opts.IO.Out)
	}
	return nil
}

// tokenize encodes --text (and --question) with the folder's tokenizer.
func tokenize(opts *RunOptions) ([]RunToken, error) {
	cfg, err := model.LoadConfig(filepath.Join(opts.Model, model.ConfigFile))
	if err != nil {
		return nil, &cmdutil.UsageError{Err: fmt.Errorf("--model: %w", err)}
	}
	tok, err := model.FolderTokenizer(opts.Model, cfg)
	if err != nil {
		return nil, &cmdutil.UsageError{Err: fmt.Errorf("--model: %w", err)}
	}
	var e model.Encoding
	ctx := 1
	if opts.Question != "" {
		e, ctx = model.EncodePair(tok, opts.Question, opts.Text)
	} else {
		e = model.EncodeSingle(tok, opts.Text)
	}
	names := map[int]string{tok.BOS(): "<s>", tok.EOS(): "</s>", tok.PAD(): "<pad>", tok.Mask(): "<mask>"}
	out := make([]RunToken, len(e.IDs))
	qOff := model.CharOffsets(opts.Question, e.Offsets[:min(ctx, len(e.Offsets))])
	tOff := model.CharOffsets(opts.Text, e.Offsets[min(ctx, len(e.Offsets)):])
	for i, id := range e.IDs {
		t := RunToken{ID: id}
		special := i == 0 || i == len(e.IDs)-1 || (opts.Question != "" && (i == ctx-1 || i == ctx-2))
		switch {
		case special:
			t.Text = names[id]
		case i < ctx:
			o := e.Offsets[i]
			t.Text, t.Sequence, t.Start, t.End = opts.Question[o[0]:o[1]], "question", qOff[i][0], qOff[i][1]
		default:
			o := e.Offsets[i]
			t.Text, t.Sequence, t.Start, t.End = opts.Text[o[0]:o[1]], "text", tOff[i-ctx][0], tOff[i-ctx][1]
			if n, ok := names[id]; ok && o[0] == o[1] {
				t.Text = n
			}
		}
		out[i] = t
	}
	return out, nil
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// forwardAll loads the model in precision T and runs every input.
func forwardAll[T model.Float](ctx context.Context, dir, name string, inputs []RunInput) ([]RunOutput, error) {
	cfg, err := model.LoadConfig(filepath.Join(dir, model.ConfigFile))
	if err != nil {
		return nil, &cmdutil.UsageError{Err: fmt.Errorf("--model: %w", err)}
	}
	var heads []model.Head
	qa, lm := slices.Contains(cfg.Architectures, model.ArchQA), slices.Contains(cfg.Architectures, model.ArchMLM)
	if qa {
		heads = append(heads, model.HeadQA)
	}
	if lm {
		heads = append(heads, model.HeadLM)
	}
	m, _, err := model.Load[T](dir, model.LoadOptions{Heads: heads})
	if err != nil {
		return nil, &cmdutil.UsageError{Err: fmt.Errorf("--model: %w", err)}
	}
	d := m.Config.HiddenSize
	outs := make([]RunOutput, len(inputs))
	for i, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mask := olcMask(in)
		if qa && in.GlobalAttentionMask == nil {
			// The reference's QA model puts global attention on the
			// question: the tokens before the first of three separators.
			var seps []int
			for j, id := range in.InputIDs {
				if id == m.Config.SepTokenID {
					seps = append(seps, j)
				}
			}
			if len(seps) != 3 {
				return nil, cmdutil.Usagef("%s: inputs[%d]: without global_attention_mask a question-answering model puts global attention on the question, which needs exactly three separators (id %d: <s> question </s></s> context </s>), as the reference does; found %d: give global_attention_mask", name, i, m.Config.SepTokenID, len(seps))
			}
			for j := 0; j < seps[0]; j++ {
				if mask[j] != model.MaskPad {
					mask[j] = model.MaskGlobal
				}
			}
		}
		st, err := m.Forward(in.InputIDs, mask, model.Options{})
		if err != nil {
			return nil, cmdutil.Usagef("%s: inputs[%d]: %v", name, i, err)
		}
		for _, x := range st.Hidden {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%s: inputs[%d]: the forward pass gave %v (are the weights finite?)", name, i, f)
			}
		}
		o := RunOutput{LastHiddenState: rows(st.Hidden, st.N, d)}
		if qa {
			start, end := m.QALogits(st)
			o.StartLogits, o.EndLogits = widen(start), widen(end)
		}
		if lm {
			o.Logits = rows(m.LMLogits(st), st.N, m.Config.VocabSize)
		}
		outs[i] = o
	}
	return outs, nil
}

func widen[T model.Float](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func rows[T model.Float](v []T, n, w int) [][]float64 {
	out := make([][]float64, n)
	for i := range n {
		out[i] = widen(v[i*w : (i+1)*w])
	}
	return out
}
