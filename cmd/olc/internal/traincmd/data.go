package traincmd

import (
	"context"
	"fmt"
	"os"

	"github.com/olc-toolkit/olc/internal/bom"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/train"
)

// NewCmdData returns 'olc data'.
func NewCmdData(ios *cmdutil.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Generate synthetic long-context data sets (SQuAD-format JSON)",
		Args:  cmdutil.NoArgs,
		RunE:  cmdutil.ShowHelp,
	}
	cmd.AddCommand(newCmdGenerate(ios, nil))
	return cmd
}

// GenerateOptions are the options of 'olc data generate'.
type GenerateOptions struct {
	IO                  *cmdutil.IOStreams
	Task, Length, Depth string
	N, Keys             int
	Seed                uint64
	Out, Filler         string
}

func newCmdGenerate(ios *cmdutil.IOStreams, runF func(context.Context, *GenerateOptions) error) *cobra.Command {
	o := &GenerateOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "generate --task passkey --length 4096 --out FILE",
		Short: "Write a synthetic task as SQuAD-format JSON",
		Long: `Write a synthetic long-context task as extractive question answering in
SQuAD-format JSON, so that training and evaluation read every data set the
same way. Tasks: passkey (Mohtashami & Jaggi's passkey retrieval), niah (a
needle in a haystack, RULER's wording), niah-multikey (--keys needles, one
asked for), kv (key-value retrieval over a JSON object of UUIDs), vt
(variable tracking: a chain of --keys assignments; the answer is the value
at its root).

--length takes lengths in bytes, a list (1024,2048) or ranges (1024-2048,
each example's length drawn uniformly); --depth a list of needle depths
(fractions of the context; random per example when omitted); --n examples
are made for each length and depth. Each question records its length,
depth and the needle's distance from the question under "olc_meta". The
same flags and seed give the same file.`,
		Example: `  olc data generate --task passkey --length 4096 --depth 0.5 --n 1000 --seed 1 --out passkey.json
  olc data generate --task niah-multikey --keys 4 --length 1024,2048,4096 --depth 0,0.25,0.5,0.75,1 --n 20 --out grid.json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Out == "" {
				return cmdutil.Usagef("--out is required")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runGenerate(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Task, "task", "passkey", "the task: passkey, niah, niah-multikey, kv, vt")
	f.StringVar(&o.Length, "length", "4096", "context lengths in bytes: a list, or ranges lo-hi")
	f.StringVar(&o.Depth, "depth", "", "needle depths, fractions of the context (random when omitted)")
	f.IntVar(&o.N, "n", 100, "examples per length and depth")
	f.IntVar(&o.Keys, "keys", 4, "needles (niah-multikey), chain length (vt)")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed")
	f.StringVar(&o.Filler, "filler", "", "a text file for the haystack (default: the passkey paper's sentences)")
	f.StringVarP(&o.Out, "out", "o", "", "the file to write (required)")
	return cmd
}

func runGenerate(_ context.Context, o *GenerateOptions) error {
	lengths, err := train.ParseLengths(o.Length)
	if err != nil {
		return cmdutil.Usagef("--length: %v", err)
	}
	var depths []float64
	if o.Depth != "" {
		if depths, err = train.ParseDepths(o.Depth); err != nil {
			return cmdutil.Usagef("--depth: %v", err)
		}
	}
	filler := ""
	if o.Filler != "" {
		b, err := os.ReadFile(o.Filler)
		if err != nil {
			return cmdutil.Usagef("--filler: %v", err)
		}
		filler = string(bom.Trim(b))
	}
	f, err := train.GenerateTask(train.SynthSpec{Task: o.Task, Lengths: lengths, Depths: depths, N: o.N, Seed: o.Seed, Filler: filler, Keys: o.Keys})
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	if err := train.WriteSQuAD(o.Out, f); err != nil {
		return err
	}
	n := 0
	for _, p := range f.Data[0].Paragraphs {
		n += len(p.QAs)
	}
	fmt.Fprintf(o.IO.ErrOut, "wrote %d questions to %s\n", n, o.Out)
	return nil
}
