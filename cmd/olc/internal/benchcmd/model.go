package benchcmd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/model"
)

// ModelOptions are the options of 'olc bench model'.
type ModelOptions struct {
	IO           *cmdutil.IOStreams
	Lengths      []int
	lengths      string
	Hidden       int
	Heads        int
	Window       int
	Layers       int
	Backward     bool
	Long         int
	CheckpointAt int
	Roofline     bool
	Precision    string
	Repeats      int
	JSON         bool
}

func newCmdModel(ios *cmdutil.IOStreams, runF func(context.Context, *ModelOptions) error) *cobra.Command {
	opts := &ModelOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Longformer forward and backward speed, GFLOP/s against sgemm, and peak memory",
		Long: `Time the Longformer's forward pass, and forward + backward, at each sequence
length for a small config (default hidden 256, 4 heads, window 256, 2 layers,
intermediate 4·hidden, byte vocabulary): tokens/s, GFLOP/s counted from the
model's FLOPs (model.ForwardFLOPs; backward counted as twice the forward),
the BLAS backend's sgemm GFLOP/s measured in the same run, their ratio, and
the peak heap of each pass. The passes at a length take turns, --repeats
rounds (default 3), and each one's median time is reported, with the ratio
of forward + backward to forward. --long N adds one forward pass over N tokens of
a hidden-128 model; --checkpoint-at N compares the peak training memory with
and without gradient checkpointing, and checks that the gradients are
identical. The roofline (on by default) profiles one forward pass and one
training step at 4,096 tokens, or the longest length below: each
operation's time, share of the pass and GFLOP/s, against the peaks
measured in the same run (a plain-Go float32 multiply-add loop on every
core, sgemm at its best shape, and the bf16 products' best where the AMX
tile unit is), so the next bottleneck shows. --precision bf16 runs the
products in bfloat16 on the tile unit (refused, with the reason, where it
is missing). The header names the kernels that ran: BLAS, olc's SIMD
level, the bf16 route.`,
		Example: `  olc bench model
  olc bench model --lengths 4096 --long 1048576 --checkpoint-at 16384 --json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Lengths = nil
			for _, f := range strings.Split(opts.lengths, ",") {
				if f = strings.TrimSpace(f); f == "" {
					continue
				}
				n, err := strconv.Atoi(f)
				if err != nil || n < 1 {
					return cmdutil.Usagef("--lengths: %q is not a positive length", f)
				}
				opts.Lengths = append(opts.Lengths, n)
			}
			if opts.Hidden%opts.Heads != 0 || opts.Window%2 != 0 || opts.Layers < 1 {
				return cmdutil.Usagef("--hidden must be a multiple of --heads, --window even, --layers positive")
			}
			if opts.Repeats < 1 {
				return cmdutil.Usagef("--repeats must be at least 1, not %d", opts.Repeats)
			}
			if _, err := model.ParsePrecision(opts.Precision); err != nil {
				return cmdutil.Usagef("--precision: %v", err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runModel(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.lengths, "lengths", "1024,4096,16384,65536", "sequence lengths")
	f.IntVar(&opts.Hidden, "hidden", 256, "hidden size")
	f.IntVar(&opts.Heads, "heads", 4, "attention heads")
	f.IntVar(&opts.Window, "window", 256, "attention window (w/2 on each side)")
	f.IntVar(&opts.Layers, "layers", 2, "layers")
	f.BoolVar(&opts.Backward, "backward", true, "also time forward + backward")
	f.IntVar(&opts.Long, "long", 0, "also run one forward pass over this many tokens with hidden 128 (e.g. 1048576)")
	f.IntVar(&opts.CheckpointAt, "checkpoint-at", 0, "compare training memory with and without checkpointing at this length")
	f.BoolVar(&opts.Roofline, "roofline", true, "profile a forward pass and a training step at 4096 tokens (or the nearest length below): each operation's time, share and GFLOP/s against the measured peaks")
	f.StringVar(&opts.Precision, "precision", "float32", "arithmetic of the matrix products: float32, or bf16 (bfloat16 on the AMX tile unit, float32 sums)")
	f.IntVar(&opts.Repeats, "repeats", 3, "runs of each pass; the median time is reported")
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

// ModelRow is one measured pass.
type ModelRow struct {
	Pass    string  `json:"pass"` // forward | forward+backward
	SeqLen  int     `json:"seq_len"`
	Seconds float64 `json:"seconds"` // median of the repeats
	// PerForward is a forward+backward pass's time over the forward
	// pass's at the same length (0 on forward rows).
	PerForward float64 `json:"per_forward,omitempty"`
	TokensPS   float64 `json:"tokens_per_s"`
	NsPerTok   float64 `json:"ns_per_token"`
	GFLOPS     float64 `json:"gflops"`
	OfSgemm    float64 `json:"fraction_of_sgemm"`
	PeakHeapB  int64   `json:"peak_heap_bytes"`
}

// ModelBench is what 'olc bench model --json' prints.
type ModelBench struct {
	BLAS        string     `json:"blas"`
	SIMD        string     `json:"simd"`
	BF16Route   string     `json:"bf16_route"`
	Precision   string     `json:"precision"`
	Cores       int        `json:"cores"`
	SgemmGFLOPS float64    `json:"sgemm_gflops"`
	Config      string     `json:"config"`
	Rows        []ModelRow `json:"rows"`
	Long        *ModelRow  `json:"long,omitempty"`
	Checkpoint  *CkptRow   `json:"checkpoint,omitempty"`
	Roofline    *Roofline  `json:"roofline,omitempty"`
}

// Roofline is where a pass's time goes: this machine's measured peaks and
// each operation's achieved rate and share of the pass.
type Roofline struct {
	SeqLen int `json:"seq_len"`
	// ScalarGFLOPS is a plain-Go float32 multiply-add loop on every core
	// (the ceiling of the element-wise kernels); SgemmPeakGFLOPS the best
	// of sgemm at the projections' shape and at 1024³.
	ScalarGFLOPS    float64 `json:"scalar_gflops"`
	SgemmPeakGFLOPS float64 `json:"sgemm_peak_gflops"`
	// BF16PeakGFLOPS is the bfloat16 route's best rate (0 without one).
	BF16PeakGFLOPS float64  `json:"bf16_peak_gflops,omitempty"`
	Forward        []RoofOp `json:"forward"`
	Step           []RoofOp `json:"training_step"`
	ForwardSeconds float64  `json:"forward_seconds"`
	StepSeconds    float64  `json:"training_step_seconds"`
}

// RoofOp is one operation of a profiled pass ("other": what no operation
// covers: embeddings, heads, loss, allocation).
type RoofOp struct {
	Op      string  `json:"op"`
	Seconds float64 `json:"seconds"`
	Share   float64 `json:"share"`
	GFLOPS  float64 `json:"gflops,omitempty"` // 0 for element-wise operations
	OfPeak  float64 `json:"fraction_of_sgemm_peak,omitempty"`
}

// CkptRow compares training with and without gradient checkpointing.
type CkptRow struct {
	SeqLen         int     `json:"seq_len"`
	PeakPlainB     int64   `json:"peak_plain_bytes"`
	PeakCkptB      int64   `json:"peak_checkpointed_bytes"`
	Ratio          float64 `json:"ratio"`
	IdenticalGrads bool    `json:"identical_gradients"`
	// The same comparison with the collector at GOGC=20, where the peak
	// heap is close to the peak of live memory (what checkpointing saves,
	// and what a memory-bound run gets with GOGC or GOMEMLIMIT set).
	PeakPlainTightB int64   `json:"peak_plain_bytes_gogc20"`
	PeakCkptTightB  int64   `json:"peak_checkpointed_bytes_gogc20"`
	RatioTight      float64 `json:"ratio_gogc20"`
}

func benchConfig(hidden, heads, window, layers, maxTokens int) model.Config {
	c := model.DefaultConfig()
	c.VocabSize, c.HiddenSize, c.NumAttentionHeads, c.NumHiddenLayers = 260, hidden, heads, layers
	c.IntermediateSize = 4 * hidden
	c.AttentionWindow = model.Windows{PerLayer: []int{window}, Scalar: true}
	c.MaxPositionEmbeddings = maxTokens + c.PadTokenID + 1
	c.HiddenDropoutProb, c.AttentionProbsDropoutProb = 0, 0
	return c
}

// peakHeap runs fn and returns the largest heap (live and not yet swept
// objects) seen while it ran, sampled every 2 ms, above the heap before.
func peakHeap(fn func()) int64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 { metrics.Read(sample); return int64(sample[0].Value.Uint64()) }
	base := read()
	var peak int64
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				v := read()
				mu.Lock()
				peak = max(peak, v)
				mu.Unlock()
			}
		}
	}()
	fn()
	close(done)
	mu.Lock()
	defer mu.Unlock()
	return max(peak, read()) - base
}

func randomIDs(n int, seed uint64) ([]int, []int8) {
	rng := rand.New(rand.NewPCG(seed, 1))
	ids := make([]int, n)
	mask := make([]int8, n)
	for i := range ids {
		ids[i] = 4 + rng.IntN(256)
		mask[i] = model.MaskLocal
	}
	return ids, mask
}

func runModel(_ context.Context, opts *ModelOptions) error {
	prec, err := model.ParsePrecision(opts.Precision)
	if err != nil {
		return err
	}
	out := ModelBench{BLAS: model.Backend, SIMD: model.SIMD(), BF16Route: model.BF16Route(), Precision: string(prec), Cores: runtime.GOMAXPROCS(0)}
	maxLen := slices.Max(append(slices.Clone(opts.Lengths), opts.CheckpointAt, 1))
	cfg := benchConfig(opts.Hidden, opts.Heads, opts.Window, opts.Layers, maxLen)
	out.Config = fmt.Sprintf("hidden %d, %d heads, window %d, %d layers, intermediate %d", cfg.HiddenSize, cfg.NumAttentionHeads, opts.Window, cfg.NumHiddenLayers, cfg.IntermediateSize)
	// sgemm at the shape of the projections at n = 4096, the way the model
	// runs it.
	out.SgemmGFLOPS = model.GemmGFLOPS(4096, cfg.HiddenSize, cfg.HiddenSize, 500*time.Millisecond)
	m := model.New[float32](cfg)
	m.Init(1)
	if err := m.SetPrecision(prec); err != nil {
		return err
	}
	for _, n := range opts.Lengths {
		ids, mask := randomIDs(n, uint64(n))
		flops := model.ForwardFLOPs(cfg, n, 0)
		passes := []func(){func() {
			if _, err := m.Forward(ids, mask, model.Options{}); err != nil {
				panic(err)
			}
		}}
		if opts.Backward {
			passes = append(passes, func() { trainStep(m, ids, mask, false) })
		}
		// The passes take turns, so that both medians come from the same
		// stretch of a noisy machine's time.
		secs, peaks := timeRuns(opts.Repeats, m.ReleaseBuffers, passes...)
		out.Rows = append(out.Rows, modelRow("forward", n, secs[0], flops, out.SgemmGFLOPS, peaks[0]))
		if opts.Backward {
			r := modelRow("forward+backward", n, secs[1], 3*flops, out.SgemmGFLOPS, peaks[1])
			r.PerForward = secs[1] / secs[0]
			out.Rows = append(out.Rows, r)
		}
	}
	if opts.Long > 0 {
		lc := benchConfig(128, 4, opts.Window, 2, opts.Long)
		lm := model.New[float32](lc)
		lm.Init(2)
		lm.Precision = m.Precision
		ids, mask := randomIDs(opts.Long, 3)
		var secs float64
		peak := peakHeap(func() {
			t0 := time.Now()
			if _, err := lm.Forward(ids, mask, model.Options{}); err != nil {
				panic(err)
			}
			secs = time.Since(t0).Seconds()
		})
		r := modelRow("forward, hidden 128", opts.Long, secs, model.ForwardFLOPs(lc, opts.Long, 0), out.SgemmGFLOPS, peak)
		out.Long = &r
		lm = nil
	}
	if n := opts.CheckpointAt; n > 0 {
		ids, mask := randomIDs(n, 5)
		var g1, g2 []float32
		// Each from an empty pool: what a step needs, not what the pool
		// kept of the steps before.
		m.ReleaseBuffers()
		p1 := peakHeap(func() { trainStep(m, ids, mask, false) })
		g1 = grads(m)
		m.ReleaseBuffers()
		p2 := peakHeap(func() { trainStep(m, ids, mask, true) })
		g2 = grads(m)
		c := &CkptRow{SeqLen: n, PeakPlainB: p1, PeakCkptB: p2, Ratio: float64(p1) / float64(p2), IdenticalGrads: slices.Equal(g1, g2)}
		old := debug.SetGCPercent(20)
		m.ReleaseBuffers()
		c.PeakPlainTightB = peakHeap(func() { trainStep(m, ids, mask, false) })
		m.ReleaseBuffers()
		c.PeakCkptTightB = peakHeap(func() { trainStep(m, ids, mask, true) })
		debug.SetGCPercent(old)
		c.RatioTight = float64(c.PeakPlainTightB) / float64(c.PeakCkptTightB)
		c.IdenticalGrads = c.IdenticalGrads && slices.Equal(g1, g2)
		out.Checkpoint = c
	}
	if opts.Roofline && len(opts.Lengths) > 0 {
		out.Roofline = roofline(m, opts.Lengths, out.SgemmGFLOPS)
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, out)
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "Longformer %s; %s products; BLAS %s, SIMD %s, bf16 %s; %d cores; sgemm (4096×%d×%d) %.1f GFLOP/s\n\n",
		out.Config, out.Precision, out.BLAS, out.SIMD, out.BF16Route, out.Cores, cfg.HiddenSize, cfg.HiddenSize, out.SgemmGFLOPS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pass\ttokens\ttime (s)\t÷ forward\ttokens/s\tns/token\tGFLOP/s\tof sgemm\tpeak heap (MiB)\t")
	rows := out.Rows
	if out.Long != nil {
		rows = append(rows, *out.Long)
	}
	for _, r := range rows {
		per := ""
		if r.PerForward > 0 {
			per = fmt.Sprintf("%.2f", r.PerForward)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%s\t%.0f\t%.0f\t%.2f\t%.0f%%\t%.0f\t\n", r.Pass, r.SeqLen, r.Seconds, per, r.TokensPS, r.NsPerTok, r.GFLOPS, 100*r.OfSgemm, float64(r.PeakHeapB)/(1<<20))
	}
	tw.Flush()
	if c := out.Checkpoint; c != nil {
		fmt.Fprintf(w, "\ntraining at %d tokens: peak heap %.0f MiB without checkpointing, %.0f MiB with (%.2f× less); gradients identical: %v\n",
			c.SeqLen, float64(c.PeakPlainB)/(1<<20), float64(c.PeakCkptB)/(1<<20), c.Ratio, c.IdenticalGrads)
		fmt.Fprintf(w, "with GOGC=20 (peak heap ≈ peak live memory): %.0f MiB without, %.0f MiB with (%.2f× less)\n",
			float64(c.PeakPlainTightB)/(1<<20), float64(c.PeakCkptTightB)/(1<<20), c.RatioTight)
	}
	if r := out.Roofline; r != nil {
		fmt.Fprintf(w, "\nroofline at %d tokens: peaks %.1f GFLOP/s for a plain-Go float32 multiply-add loop on %d cores, %.1f for sgemm (best shape)",
			r.SeqLen, r.ScalarGFLOPS, out.Cores, r.SgemmPeakGFLOPS)
		if r.BF16PeakGFLOPS > 0 {
			fmt.Fprintf(w, ", %.1f for bf16 products on the tile unit", r.BF16PeakGFLOPS)
		}
		fmt.Fprintln(w)
		if prec == model.BF16 {
			fmt.Fprintln(w, "(the products' \"of peak\" is of the bf16 peak)")
		}
		for _, part := range []struct {
			name string
			secs float64
			ops  []RoofOp
		}{{"forward", r.ForwardSeconds, r.Forward}, {"training step (forward + backward)", r.StepSeconds, r.Step}} {
			fmt.Fprintf(w, "\n%s, %.3f s:\n", part.name, part.secs)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "operation\ttime (s)\tshare\tGFLOP/s\tof sgemm peak\t")
			for _, o := range part.ops {
				rate, of := "—", "—"
				if o.GFLOPS > 0 {
					rate, of = fmt.Sprintf("%.2f", o.GFLOPS), fmt.Sprintf("%.0f%%", 100*o.OfPeak)
				}
				fmt.Fprintf(tw, "%s\t%.3f\t%.1f%%\t%s\t%s\t\n", o.Op, o.Seconds, 100*o.Share, rate, of)
			}
			tw.Flush()
		}
	}
	return nil
}

// roofline profiles one forward pass and one training step at 4,096
// tokens (or the longest length below it, or the shortest) and measures
// the peaks.
func roofline(m *model.Model[float32], lengths []int, sgemm float64) *Roofline {
	n := slices.Min(lengths)
	for _, l := range lengths {
		if l <= 4096 && l > n {
			n = l
		}
	}
	d := m.Config.HiddenSize
	r := &Roofline{SeqLen: n, ScalarGFLOPS: model.ScalarGFLOPS(300 * time.Millisecond),
		SgemmPeakGFLOPS: max(sgemm, model.GemmGFLOPS(1024, 1024, 1024, 500*time.Millisecond), model.GemmGFLOPS(4096, d, d, 300*time.Millisecond)),
		BF16PeakGFLOPS:  max(model.BF16GemmGFLOPS(1024, 1024, 1024, 500*time.Millisecond), model.BF16GemmGFLOPS(4096, 4*d, d, 300*time.Millisecond))}
	peak := r.SgemmPeakGFLOPS
	if m.Precision == model.BF16 {
		peak = r.BF16PeakGFLOPS
	}
	ids, mask := randomIDs(n, 7)
	ops := func(f func()) ([]RoofOp, float64) {
		m.Profile = model.NewProfile()
		defer func() { m.Profile = nil }()
		t0 := time.Now()
		f()
		total := time.Since(t0).Seconds()
		var out []RoofOp
		covered := 0.0
		for _, o := range m.Profile.Ops() {
			ro := RoofOp{Op: o.Op, Seconds: o.Seconds, Share: o.Seconds / total}
			if o.FLOPs > 0 {
				ro.GFLOPS = o.FLOPs / o.Seconds / 1e9
				ro.OfPeak = ro.GFLOPS / peak
			}
			covered += o.Seconds
			out = append(out, ro)
		}
		return append(out, RoofOp{Op: "other", Seconds: max(0, total-covered), Share: max(0, total-covered) / total}), total
	}
	r.Forward, r.ForwardSeconds = ops(func() {
		if _, err := m.Forward(ids, mask, model.Options{}); err != nil {
			panic(err)
		}
	})
	r.Step, r.StepSeconds = ops(func() { trainStep(m, ids, mask, false) })
	return r
}

func modelRow(pass string, n int, secs, flops, sgemm float64, peak int64) ModelRow {
	g := flops / secs / 1e9
	return ModelRow{Pass: pass, SeqLen: n, Seconds: secs, TokensPS: float64(n) / secs, NsPerTok: 1e9 * secs / float64(n), GFLOPS: g, OfSgemm: g / sgemm, PeakHeapB: peak}
}

// trainStep runs a training forward pass, the QA loss and the backward
// pass.
func trainStep(m *model.Model[float32], ids []int, mask []int8, ckpt bool) {
	m.ZeroGrad()
	st, err := m.Forward(ids, mask, model.Options{Train: true, Checkpoint: ckpt})
	if err != nil {
		panic(err)
	}
	_, dh, err := m.QALoss(st, 1, 2)
	if err != nil {
		panic(err)
	}
	if _, err := m.Backward(st, dh); err != nil {
		panic(err)
	}
}

// grads returns a copy of the model's gradients.
func grads(m *model.Model[float32]) []float32 {
	var g []float32
	for _, p := range m.Params() {
		g = append(g, p.G...)
	}
	return g
}

// timeRuns runs the passes in turn, n rounds, and returns each one's
// median time in seconds and its peak heap in the first round, where
// each pass runs after empty() (the model's pool of arrays emptied, so
// that the peak is what the pass needs).
func timeRuns(n int, empty func(), passes ...func()) ([]float64, []int64) {
	secs := make([][]float64, len(passes))
	peaks := make([]int64, len(passes))
	for r := range n {
		for i, fn := range passes {
			var t0 time.Time
			if r == 0 {
				empty()
				peaks[i] = peakHeap(func() { t0 = time.Now(); fn() })
			} else {
				runtime.GC()
				t0 = time.Now()
				fn()
			}
			secs[i] = append(secs[i], time.Since(t0).Seconds())
		}
	}
	med := make([]float64, len(passes))
	for i, s := range secs {
		slices.Sort(s)
		med[i] = (s[(n-1)/2] + s[n/2]) / 2
	}
	return med, peaks
}
