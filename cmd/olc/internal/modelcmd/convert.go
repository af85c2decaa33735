package modelcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/model"
)

// ConvertOptions are the options of 'olc model convert'.
type ConvertOptions struct {
	IO    *cmdutil.IOStreams
	In    string
	Out   string
	Force bool
}

// folderFiles are the files of a Hugging Face model folder that convert
// copies beside the weights: the config and the tokenizer's.
var folderFiles = append([]string{model.ConfigFile}, model.TokenizerFiles...)

func newCmdConvert(ios *cmdutil.IOStreams, runF func(context.Context, *ConvertOptions) error) *cobra.Command {
	opts := &ConvertOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "convert --in DIR --out DIR",
		Short: "Write a model folder's PyTorch checkpoint as safetensors",
		Long: `Read the model folder --in (config.json and pytorch_model.bin, or
model.safetensors) and write --out with the same tensors, names and dtypes
in model.safetensors, and config.json and the tokenizer's files copied.
The pickle of pytorch_model.bin is interpreted, never run: a file that
names anything but tensors and plain containers is refused. The result is
checked: it must load as its config describes.`,
		Example: `  olc model convert --in ~/models/longformer-base-4096 --out models/longformer-base`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.In == "" || opts.Out == "" {
				return cmdutil.Usagef("--in and --out are required")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runConvert(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.In, "in", "", "the model folder to read (required)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "the folder to write (required)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite a model folder that exists")
	return cmd
}

func runConvert(_ context.Context, opts *ConvertOptions) error {
	cfg, err := model.LoadConfig(filepath.Join(opts.In, model.ConfigFile))
	if err != nil {
		return &cmdutil.UsageError{Err: fmt.Errorf("--in: %w", err)}
	}
	if abs(opts.In) == abs(opts.Out) {
		return cmdutil.Usagef("--out must be another folder than --in")
	}
	if _, err := os.Stat(filepath.Join(opts.Out, model.WeightsFile)); err == nil && !opts.Force {
		return cmdutil.Usagef("%s already holds a model; pass --force to overwrite it", opts.Out)
	}
	src := filepath.Join(opts.In, model.PytorchFile)
	tensors, err := model.ReadPytorchFile(src)
	if errors.Is(err, os.ErrNotExist) {
		src = filepath.Join(opts.In, model.WeightsFile)
		tensors, _, err = model.ReadSafetensorsFile(src)
	}
	if errors.Is(err, os.ErrNotExist) {
		return cmdutil.Usagef("--in: no %s or %s in %s", model.PytorchFile, model.WeightsFile, opts.In)
	}
	if err != nil {
		return &cmdutil.UsageError{Err: fmt.Errorf("--in: %w", err)}
	}
	// The tensors must be the model the config describes (heads may be
	// missing: a base model has none).
	if _, err := model.New[float32](*cfg).LoadTensors(src, tensors); err != nil {
		return &cmdutil.UsageError{Err: fmt.Errorf("--in: %w", err)}
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return err
	}
	var copied []string
	for _, name := range folderFiles {
		if err := copyFile(filepath.Join(opts.In, name), filepath.Join(opts.Out, name)); errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		copied = append(copied, name)
	}
	if err := model.WriteSafetensorsFile(filepath.Join(opts.Out, model.WeightsFile), tensors, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	var size int64
	dtypes := map[string]int{}
	for _, t := range tensors {
		size += int64(len(t.Data))
		dtypes[t.DType]++
	}
	kinds := make([]string, 0, len(dtypes))
	for k := range dtypes {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	fmt.Fprintf(opts.IO.Out, "wrote %s/%s from %s: %d tensors (%v), %s; copied %v\n", opts.Out, model.WeightsFile, src, len(tensors), kinds, bytes(size), copied)
	return nil
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
