// Package modelcmd implements 'olc model': creating model folders and
// describing them.
package modelcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/model"
)

// NewCmdModel returns 'olc model'.
func NewCmdModel(ios *cmdutil.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Create and describe Longformer models (config.json + model.safetensors folders)",
		Args:  cmdutil.NoArgs,
		RunE:  cmdutil.ShowHelp,
	}
	cmd.AddCommand(newCmdInit(ios, nil), newCmdInfo(ios, nil), newCmdRun(ios, nil), newCmdConvert(ios, nil))
	return cmd
}

// InitOptions are the options of 'olc model init'.
type InitOptions struct {
	IO     *cmdutil.IOStreams
	Config string
	Out    string
	Seed   uint64
	Force  bool
}

func newCmdInit(ios *cmdutil.IOStreams, runF func(context.Context, *InitOptions) error) *cobra.Command {
	opts := &InitOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "init --config model.toml|config.json --out DIR",
		Short: "Write a randomly initialized model folder",
		Long: `Write DIR/config.json and DIR/model.safetensors, the layout of a Hugging Face
model folder, for the configuration given: olc's TOML, whose unset fields
take longformer-base-4096's values, or a config.json with
LongformerConfig's field names, whose unset fields take LongformerConfig's
defaults as in transformers. Weights are initialized as in BERT: normal(0, 0.02), zero biases,
unit LayerNorm gains.`,
		Example: `  olc model init --config model.toml --out models/tiny --seed 1`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Config == "" || opts.Out == "" {
				return cmdutil.Usagef("--config and --out are required")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runInit(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Config, "config", "c", "", "the model's configuration, TOML or config.json (required)")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "the folder to write (required)")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed of the initialization")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite a model folder that exists")
	return cmd
}

func runInit(_ context.Context, opts *InitOptions) error {
	cfg, err := model.LoadConfig(opts.Config)
	if err != nil {
		var ce *model.ConfigError
		if errors.As(err, &ce) || errors.Is(err, os.ErrNotExist) {
			return &cmdutil.UsageError{Err: err}
		}
		return err
	}
	if _, err := os.Stat(filepath.Join(opts.Out, model.WeightsFile)); err == nil && !opts.Force {
		return cmdutil.Usagef("%s already holds a model; pass --force to overwrite it", opts.Out)
	}
	m := model.New[float32](*cfg)
	m.Init(opts.Seed)
	if err := m.Save(opts.Out); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "wrote %s/{%s,%s}: %d parameters (%s)\n", opts.Out, model.ConfigFile, model.WeightsFile, m.NumParams(), bytes(int64(m.NumParams())*4))
	return nil
}

// InfoOptions are the options of 'olc model info'.
type InfoOptions struct {
	IO      *cmdutil.IOStreams
	Dir     string
	SeqLen  int
	Globals int
	JSON    bool
}

func newCmdInfo(ios *cmdutil.IOStreams, runF func(context.Context, *InfoOptions) error) *cobra.Command {
	opts := &InfoOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "info DIR",
		Short: "Parameters by group and the memory a sequence length needs",
		Long: `Describe a model folder (or a config file): its configuration, its
parameters by group, and the memory one sequence of --seq-len tokens
(--globals of them global) needs in float32 for inference and for training
(weights, gradients, AdamW's moments, activations and attention
probabilities), with and without gradient checkpointing.`,
		Example: `  olc model info models/tiny --seq-len 16384`,
		Args:    cmdutil.ExactArgs(1, "a model folder or a config file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if opts.SeqLen < 1 || opts.Globals < 0 || opts.Globals > opts.SeqLen {
				return cmdutil.Usagef("--seq-len must be positive and --globals between 0 and it")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runInfo(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.SeqLen, "seq-len", 4096, "sequence length for the memory estimate")
	cmd.Flags().IntVar(&opts.Globals, "globals", 0, "global tokens in that sequence")
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

// InfoJSON is what 'olc model info --json' prints.
type InfoJSON struct {
	Config model.Config  `json:"config"`
	Groups []model.Group `json:"groups"`
	Total  int           `json:"total_params"`
	Memory model.Memory  `json:"memory"`
	BLAS   string        `json:"blas"`
}

func runInfo(_ context.Context, opts *InfoOptions) error {
	path := opts.Dir
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, model.ConfigFile)
	}
	cfg, err := model.LoadConfig(path)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	info := InfoJSON{Config: *cfg, Groups: model.Groups(*cfg), Memory: model.EstimateMemory(*cfg, opts.SeqLen, opts.Globals, 4), BLAS: model.Backend}
	for _, g := range info.Groups {
		info.Total += g.Params
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, info)
	}
	w := opts.IO.Out
	c := cfg
	var ablations []string
	for _, a := range []struct {
		on   bool
		name string
	}{{c.GlobalAttention, "global attention"}, {c.SeparateGlobalProjections, "separate global projections"}, {c.FeedForward, "feed-forward"}, {c.LayerNorm, "layer norm"}} {
		if !a.on {
			ablations = append(ablations, "no "+a.name)
		}
	}
	fmt.Fprintf(w, "Longformer: %d layers, hidden %d, %d heads, intermediate %d, window %v, vocabulary %d, %d positions\n",
		c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize, c.AttentionWindow.PerLayer, c.VocabSize, c.MaxTokens())
	if len(ablations) > 0 {
		fmt.Fprintf(w, "ablations: %s\n", strings.Join(ablations, ", "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "parameters\tgroup\t")
	for _, g := range info.Groups {
		fmt.Fprintf(tw, "%d\t%s\t\n", g.Params, g.Name)
	}
	fmt.Fprintf(tw, "%d\ttotal (%s in float32)\t\n", info.Total, bytes(int64(info.Total)*4))
	tw.Flush()
	m := info.Memory
	fmt.Fprintf(w, "\nmemory for one sequence of %d tokens (%d global), float32:\n", m.SeqLen, m.Globals)
	fmt.Fprintf(w, "  inference                          %s\n", bytes(m.Inference))
	fmt.Fprintf(w, "  training                           %s\n", bytes(m.Training))
	fmt.Fprintf(w, "  training, gradient checkpointing   %s\n", bytes(m.TrainingCheckpointed))
	return nil
}

func bytes(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
