package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/olc-toolkit/olc/internal/bom"
	"github.com/olc-toolkit/olc/internal/parallel"

	"github.com/olc-toolkit/olc/internal/atomicfile"
	"github.com/olc-toolkit/olc/model"
)

// StepInfo reports one optimizer step.
type StepInfo struct {
	Step       int     `json:"step"`
	Steps      int     `json:"-"`
	Loss       float64 `json:"loss"`
	LR         float64 `json:"lr"`
	GradNorm   float64 `json:"grad_norm"`
	Tokens     int     `json:"tokens"`
	TokensPerS float64 `json:"tokens_per_s"`
	Seconds    float64 `json:"seconds"` // training time so far, across resumptions
}

// EvalInfo reports one evaluation.
type EvalInfo struct {
	Step       int     `json:"step"`
	Loss       float64 `json:"eval_loss"`
	Exact      float64 `json:"eval_exact,omitempty"`
	F1         float64 `json:"eval_f1,omitempty"`
	Perplexity float64 `json:"eval_perplexity,omitempty"`
	Seconds    float64 `json:"eval_seconds"`
}

// StopReason says why a run stopped; JSON and the store carry its text.
type StopReason string

// Why runs stop.
const (
	// StopDone: the run took all of train.steps.
	StopDone StopReason = "done"
	// StopEarly: the evaluation metric did not improve for
	// train.patience evaluations (the best model is kept).
	StopEarly StopReason = "early-stop"
	// StopTimeLimit: train.time_limit ran out.
	StopTimeLimit StopReason = "time-limit"
	// StopInterrupted: the context was cancelled (Ctrl-C, SIGTERM); a
	// checkpoint was saved and the run resumes from it.
	StopInterrupted StopReason = "interrupted"
)

// Result is a run's summary.
type Result struct {
	Name       string     `json:"name"`
	RunDir     string     `json:"run_dir"`
	Steps      int        `json:"steps"`
	Stopped    StopReason `json:"stopped"`
	Resumed    bool       `json:"resumed"`
	Seconds    float64    `json:"seconds"`
	Tokens     int        `json:"tokens"`
	TokensPerS float64    `json:"tokens_per_s"`
	FinalLoss  float64    `json:"final_loss"`
	Eval       *EvalInfo  `json:"eval,omitempty"`
	Best       *EvalInfo  `json:"best_eval,omitempty"`
	Losses     []float64  `json:"-"` // per step, this session's
	ModelDir   string     `json:"model_dir"`
}

// Hooks observe a run.
type Hooks struct {
	Step func(StepInfo)
	Eval func(EvalInfo)
	// StopAfter, when > 0, stops the run (with a checkpoint, as an
	// interruption) after this step: tests simulate a crash with it.
	StopAfter int
}

// Trainer runs a training config.
type Trainer struct {
	Cfg   *Config
	Tok   model.Tokenizer
	Model Model
	Data  *Data
	Hooks Hooks
}

// Data is a run's examples, ready for the model.
type Data struct {
	Window   Window
	Feats    []Feature // qa training windows
	Seqs     [][]int   // mlm training sequences (with <s> and </s>)
	EvalEx   []Example // qa evaluation
	EvalSeqs [][]int   // mlm evaluation
	Lengths  []int     // synthetic: nominal eval lengths
	Depths   []float64 // synthetic: eval depths (nil when random)
}

// LoadData builds a config's data: a synthetic task generated from the
// train seed (evaluation from another seed: held-out examples), SQuAD
// files, or text for mlm.
func LoadData(c *Config, tok model.Tokenizer) (*Data, error) {
	d := &c.Data
	maxLen := d.MaxLen
	if maxLen == 0 {
		maxLen = c.Model.MaxTokens()
	}
	out := &Data{Window: Window{MaxLen: maxLen, Stride: d.Stride, Global: c.Model.GlobalAttention}}
	if c.Train.Task == "mlm" {
		return out, loadText(c, tok, out, maxLen)
	}
	var ds Dataset = SQuADFiles{Train: c.Path(d.TrainFile), Eval: c.Path(d.EvalFile), SkipInvalid: d.SkipInvalid}
	if d.Task != "" {
		filler := ""
		if d.Filler != "" {
			b, err := os.ReadFile(c.Path(d.Filler))
			if err != nil {
				return nil, fmt.Errorf("%s: data.filler: %w", c.File, err)
			}
			filler = string(bom.Trim(b))
		}
		lengths, _ := ParseLengths(d.Lengths)
		el := lengths
		if d.EvalLengths != "" {
			el, _ = ParseLengths(d.EvalLengths)
		}
		var depths []float64
		if d.EvalDepths != "" {
			depths, _ = ParseDepths(d.EvalDepths)
		}
		spec := SynthSpec{Task: d.Task, Lengths: lengths, N: d.NTrain, Seed: c.Train.Seed, Filler: filler, Keys: d.Keys}
		evalSpec := spec
		evalSpec.Lengths, evalSpec.Depths, evalSpec.N, evalSpec.Seed = el, depths, max(1, d.NEval), c.Train.Seed+1_000_003
		ds = Synthetic{Spec: spec, EvalSpec: evalSpec}
	}
	data, err := FromDataset(ds, tok, out.Window)
	if err != nil {
		return nil, fmt.Errorf("%s: data: %w", c.File, err)
	}
	return data, nil
}

// loadText splits text files into sequences of maxLen tokens (<s> … </s>),
// the last HeldOut fraction of each file held out for evaluation.
func loadText(c *Config, tok model.Tokenizer, out *Data, maxLen int) error {
	body := maxLen - 2
	if body < 8 {
		return fmt.Errorf("%s: data.max_len: %d tokens leave no room for text", c.File, maxLen)
	}
	for _, f := range c.Data.TextFiles {
		b, err := os.ReadFile(c.Path(f))
		if err != nil {
			return fmt.Errorf("%s: data.text_files: %w", c.File, err)
		}
		ids := tok.Encode(string(bom.Trim(b))).IDs
		cut := int(float64(len(ids)) * (1 - c.Data.HeldOut))
		split := func(ids []int) [][]int {
			var seqs [][]int
			for lo := 0; lo < len(ids); lo += body {
				s := append([]int{tok.BOS()}, ids[lo:min(len(ids), lo+body)]...)
				seqs = append(seqs, append(s, tok.EOS()))
			}
			return seqs
		}
		out.Seqs = append(out.Seqs, split(ids[:cut])...)
		out.EvalSeqs = append(out.EvalSeqs, split(ids[cut:])...)
	}
	if len(out.Seqs) == 0 {
		return fmt.Errorf("%s: data.text_files: no text", c.File)
	}
	return nil
}

// ResumeError is a run that cannot start as asked: a checkpoint in the
// way of a fresh start, none to resume, or a config that changed.
type ResumeError struct{ Msg string }

func (e *ResumeError) Error() string { return e.Msg }

// trainState is what a checkpoint holds besides the weights and the
// optimizer's moments.
type trainState struct {
	Step      int       `json:"step"`
	Seconds   float64   `json:"seconds"`
	Tokens    int       `json:"tokens"`
	Best      *EvalInfo `json:"best,omitempty"`
	BadEvals  int       `json:"bad_evals"`
	Signature string    `json:"signature"`
}

// signature is the part of the config a resumed run must share with the
// checkpoint.
func (c *Config) signature() string {
	s := struct {
		M model.Config
		D DataConfig
		O OptimizerConfig
		S ScheduleConfig
		T [5]any
	}{c.Model, c.Data, c.Optimizer, c.Schedule, [5]any{c.Train.Task, c.Train.Batch, c.Train.Accumulate, c.Train.Seed, c.Train.Threads}}
	b, _ := json.Marshal(s)
	return string(b)
}

// adam is AdamW's state: first and second moments per parameter.
type adam struct{ m, v [][]float32 }

// Run trains: from scratch, from train.init, or (resume) from the run's
// last checkpoint, continuing bit-exactly. It evaluates every eval_every
// steps, checkpoints every checkpoint_every steps, writes metrics.jsonl,
// stops early on the stop metric, at the time limit or when ctx is done
// (saving a checkpoint first), and saves the final model in RunDir/model.
func (t *Trainer) Run(ctx context.Context, resume bool) (*Result, error) {
	c := t.Cfg
	dir := c.RunDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	params := t.Model.Params()
	opt := &adam{}
	for _, p := range params {
		opt.m = append(opt.m, make([]float32, p.Size()))
		opt.v = append(opt.v, make([]float32, p.Size()))
	}
	st := trainState{Signature: c.signature()}
	res := &Result{Name: c.Output.Name, RunDir: dir, ModelDir: filepath.Join(dir, "model")}
	if resume {
		got, err := loadCheckpoint(filepath.Join(dir, "checkpoint"), params, opt)
		if err != nil {
			return nil, err
		}
		if got.Signature != st.Signature {
			return nil, &ResumeError{fmt.Sprintf("%s: the config differs from the one the checkpoint in %s was made with (only train.steps, eval_every, checkpoint_every, patience, stop_metric, time_limit and [output] may change on resume)", c.File, dir)}
		}
		st = *got
		res.Resumed = true
		if err := truncateMetrics(filepath.Join(dir, "metrics.jsonl"), st.Step); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(filepath.Join(dir, "checkpoint")); err == nil {
		return nil, &ResumeError{fmt.Sprintf("%s holds a checkpoint of an earlier run: pass --resume to continue it, or choose another output.name", dir)}
	} else {
		os.Remove(filepath.Join(dir, "metrics.jsonl"))
	}
	metrics, err := os.OpenFile(filepath.Join(dir, "metrics.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer metrics.Close()
	logLine := func(v any) {
		b, _ := json.Marshal(v)
		metrics.Write(append(b, '\n'))
	}

	if p := c.Train.Precision; p != "" && p != string(model.Float32) {
		ps, ok := t.Model.(PrecisionSetter)
		if !ok {
			return nil, fmt.Errorf("%s: train.precision = %q: this model's products have no other precision", c.File, p)
		}
		if err := ps.SetPrecision(p); err != nil {
			return nil, fmt.Errorf("%s: train.precision: %w", c.File, err)
		}
	}
	R := c.Train.Threads
	reps := []Model{t.Model}
	for range R - 1 {
		reps = append(reps, t.Model.Replica())
	}
	// The replicas and the kernels inside them share the train.threads
	// cores: the replicas that a micro-batch keeps busy split them.
	for _, r := range reps {
		if ts, ok := r.(ThreadSetter); ok {
			ts.SetThreads(max(1, c.Train.Threads/min(R, c.Train.Batch)))
		}
	}
	zero := func() {
		for _, r := range reps {
			for _, p := range r.Params() {
				clear(p.G)
			}
		}
	}
	nItems := len(t.Data.Feats)
	if c.Train.Task == "mlm" {
		nItems = len(t.Data.Seqs)
	}
	order := newBatcher(c.Train.Seed, nItems, c.Train.Batch, func(i int) int {
		if c.Train.Task == "mlm" {
			return len(t.Data.Seqs[i])
		}
		return len(t.Data.Feats[i].IDs)
	})
	evaluate := func() (*EvalInfo, error) {
		t0 := time.Now()
		ev, err := t.Evaluate(ctx)
		if err != nil {
			return nil, err
		}
		ev.Step, ev.Seconds = st.Step, time.Since(t0).Seconds()
		logLine(ev)
		if t.Hooks.Eval != nil {
			t.Hooks.Eval(*ev)
		}
		return ev, nil
	}
	better := func(a, b *EvalInfo) bool {
		switch c.Train.StopMetric {
		case "exact":
			return a.Exact > b.Exact
		case "f1":
			return a.F1 > b.F1
		}
		return a.Loss < b.Loss
	}
	start := time.Now()
	base := st.Seconds
	res.Stopped = StopDone
	for st.Step < c.Train.Steps {
		if ctx.Err() != nil {
			res.Stopped = StopInterrupted
			break
		}
		if c.Train.TimeLimit > 0 && base+time.Since(start).Seconds() >= c.Train.TimeLimit {
			res.Stopped = StopTimeLimit
			break
		}
		zero()
		var loss float64
		tokens := 0
		for a := range c.Train.Accumulate {
			k := st.Step*c.Train.Accumulate + a
			batch := order.batch(k)
			l, n, err := t.microBatch(reps, batch, k)
			if err != nil {
				return nil, err
			}
			loss += l
			tokens += n
		}
		nEx := float64(c.Train.Batch * c.Train.Accumulate)
		loss /= nEx
		// Sum the replicas' gradients into the model's, in replica order.
		for r := 1; r < R; r++ {
			rp := reps[r].Params()
			for i, p := range params {
				g := p.G
				for j, v := range rp[i].G {
					g[j] += v
				}
			}
		}
		norm := 0.0
		for _, p := range params {
			for j := range p.G {
				p.G[j] /= float32(nEx)
				norm += float64(p.G[j]) * float64(p.G[j])
			}
		}
		norm = math.Sqrt(norm)
		if math.IsNaN(norm) || math.IsInf(norm, 0) {
			return nil, fmt.Errorf("step %d: the gradient is not finite (loss %g): lower optimizer.lr or turn on clipping", st.Step+1, loss)
		}
		scale := float32(1)
		if cn := c.Optimizer.ClipNorm; cn > 0 && norm > cn {
			scale = float32(cn / norm)
		}
		st.Step++
		lr := c.lr(st.Step)
		opt.step(params, c.Optimizer, lr, st.Step, scale)
		st.Tokens += tokens
		st.Seconds = base + time.Since(start).Seconds()
		info := StepInfo{Step: st.Step, Steps: c.Train.Steps, Loss: loss, LR: lr, GradNorm: norm, Tokens: st.Tokens, Seconds: st.Seconds}
		if st.Seconds > 0 {
			info.TokensPerS = float64(st.Tokens) / st.Seconds
		}
		res.Losses = append(res.Losses, loss)
		res.FinalLoss = loss
		logLine(info)
		if t.Hooks.Step != nil {
			t.Hooks.Step(info)
		}
		if e := c.Train.EvalEvery; e > 0 && st.Step%e == 0 && st.Step < c.Train.Steps {
			ev, err := evaluate()
			if errors.Is(err, context.Canceled) {
				res.Stopped = StopInterrupted
				break
			}
			if err != nil {
				return nil, err
			}
			res.Eval = ev
			if st.Best == nil || better(ev, st.Best) {
				st.Best, st.BadEvals = ev, 0
			} else {
				st.BadEvals++
			}
			if c.Train.Patience > 0 && st.BadEvals >= c.Train.Patience {
				res.Stopped = StopEarly
			}
		}
		if e := c.Train.CkptEvery; (e > 0 && st.Step%e == 0) || res.Stopped == StopEarly {
			if err := saveCheckpoint(filepath.Join(dir, "checkpoint"), t.Model, opt, &st); err != nil {
				return nil, err
			}
		}
		if res.Stopped == StopEarly {
			break
		}
		if t.Hooks.StopAfter > 0 && st.Step >= t.Hooks.StopAfter {
			res.Stopped = StopInterrupted
			break
		}
	}
	if err := saveCheckpoint(filepath.Join(dir, "checkpoint"), t.Model, opt, &st); err != nil {
		return nil, err
	}
	res.Steps, res.Seconds, res.Tokens = st.Step, st.Seconds, st.Tokens
	if st.Seconds > 0 {
		res.TokensPerS = float64(st.Tokens) / st.Seconds
	}
	if res.Stopped == StopInterrupted {
		return res, nil
	}
	// The final evaluation (uninterruptible by the run's own context: an
	// interruption during it still leaves the checkpoint).
	ev, err := evaluate()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			res.Stopped = StopInterrupted
			return res, nil
		}
		return nil, err
	}
	res.Eval = ev
	if st.Best == nil || better(ev, st.Best) {
		st.Best = ev
	}
	res.Best = st.Best
	if err := t.Model.Save(res.ModelDir); err != nil {
		return nil, err
	}
	return res, nil
}

// microBatch runs one batch of examples on the replicas (replica r takes
// examples r, r+R, …) and returns the summed loss and the tokens.
func (t *Trainer) microBatch(reps []Model, batch []int, k int) (float64, int, error) {
	R := len(reps)
	losses := make([]float64, len(batch))
	errs := make([]error, R)
	tokens := 0
	for _, i := range batch {
		if t.Cfg.Train.Task == "mlm" {
			tokens += len(t.Data.Seqs[i])
		} else {
			tokens += len(t.Data.Feats[i].IDs)
		}
	}
	// Replica r takes examples r, r+R, …: a fixed split, so that each
	// replica's gradient sums the same examples in the same order on any
	// schedule.
	parallel.ForN(R, R, func(r int) {
		for j := r; j < len(batch); j += R {
			seed := mixSeed(t.Cfg.Train.Seed, uint64(k), uint64(j))
			var err error
			if t.Cfg.Train.Task == "mlm" {
				ids, labels := maskTokens(t.Data.Seqs[batch[j]], t.Tok, t.Cfg.Train.MaskProb, seed)
				var l float64
				l, _, err = reps[r].MLMLoss(ids, nil, labels, true, seed)
				losses[j] = l
			} else {
				f := &t.Data.Feats[batch[j]]
				losses[j], err = reps[r].QAGrad(f.IDs, f.Mask, f.Start, f.End, seed)
			}
			if err != nil {
				errs[r] = err
				return
			}
		}
	})
	if err := firstError(errs); err != nil {
		return 0, 0, err
	}
	var sum float64
	for _, l := range losses {
		sum += l
	}
	return sum, tokens, nil
}

// mixSeed derives a seed from a run seed and counters (SplitMix64).
func mixSeed(vals ...uint64) uint64 {
	z := uint64(0x9e3779b97f4a7c15)
	for _, v := range vals {
		z ^= v + 0x9e3779b97f4a7c15 + z<<6 + z>>2
		z ^= z >> 30
		z *= 0xbf58476d1ce4e5b9
		z ^= z >> 27
		z *= 0x94d049bb133111eb
		z ^= z >> 31
	}
	return z
}

// maskTokens applies BERT's masking: each non-special token is chosen
// with probability p; a chosen token becomes <mask> 80% of the time, a
// random byte 10%, itself 10%; its label is the original id (−1 for the
// others).
func maskTokens(seq []int, tok model.Tokenizer, p float64, seed uint64) ([]int, []int) {
	rng := rand.New(rand.NewPCG(seed, 0x6d6c6d))
	ids := slices.Clone(seq)
	labels := make([]int, len(seq))
	for i, id := range seq {
		labels[i] = -1
		if id == tok.BOS() || id == tok.EOS() || id == tok.PAD() {
			continue
		}
		if rng.Float64() >= p {
			continue
		}
		labels[i] = id
		switch u := rng.Float64(); {
		case u < 0.8:
			ids[i] = tok.Mask()
		case u < 0.9:
			ids[i] = 4 + rng.IntN(tok.VocabSize()-4)
		}
	}
	return ids, labels
}

// lr is the learning rate at step t (1-based): linear warm-up, then the
// decay down to min_lr_ratio·lr at the last step.
func (c *Config) lr(t int) float64 {
	o, s := c.Optimizer, c.Schedule
	if t <= s.Warmup {
		return o.LR * float64(t) / float64(s.Warmup)
	}
	span := c.Train.Steps - s.Warmup
	p := 1.0
	if span > 0 {
		p = min(1, float64(t-s.Warmup)/float64(span))
	}
	f := 1.0
	switch s.Decay {
	case "cosine":
		f = s.MinLRRatio + (1-s.MinLRRatio)*0.5*(1+math.Cos(math.Pi*p))
	case "linear":
		f = 1 - (1-s.MinLRRatio)*p
	}
	return o.LR * f
}

// decays reports whether AdamW's weight decay applies to a parameter:
// not to biases and LayerNorm parameters, as is usual.
func decays(name string) bool {
	return !strings.HasSuffix(name, ".bias") && !strings.Contains(name, "LayerNorm") && !strings.Contains(name, "layer_norm")
}

// step applies AdamW with decoupled weight decay at step t, the gradients
// scaled by scale (clipping).
func (a *adam) step(params []*model.Param[float32], o OptimizerConfig, lr float64, t int, scale float32) {
	c1 := 1 - math.Pow(o.Beta1, float64(t))
	c2 := 1 - math.Pow(o.Beta2, float64(t))
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	for i, p := range params {
		m, v := a.m[i], a.v[i]
		wd := float32(0)
		if decays(p.Name) {
			wd = float32(lr * o.WeightDecay)
		}
		for j, g := range p.G {
			g *= scale
			m[j] = b1*m[j] + (1-b1)*g
			v[j] = b2*v[j] + (1-b2)*g*g
			upd := lr * (float64(m[j]) / c1) / (math.Sqrt(float64(v[j])/c2) + o.Eps)
			p.W[j] -= wd*p.W[j] + float32(upd)
		}
	}
}

// batcher orders examples: each epoch a permutation drawn from (seed,
// epoch), cut into groups of 32 batches whose examples are sorted by
// length (bucketing: the replicas of a batch get similar lengths), the
// batches of a group shuffled. Batch k is a pure function of (seed, k),
// so a resumed run sees the same batches.
type batcher struct {
	seed     uint64
	n, size  int
	length   func(int) int
	epoch    int
	batches  [][]int
	perEpoch int
}

func newBatcher(seed uint64, n, size int, length func(int) int) *batcher {
	return &batcher{seed: seed, n: n, size: size, length: length, epoch: -1, perEpoch: max(1, n/size)}
}

func (b *batcher) batch(k int) []int {
	e := k / b.perEpoch
	if e != b.epoch {
		b.epoch = e
		rng := rand.New(rand.NewPCG(b.seed, 0xba7c4+uint64(e)))
		perm := rng.Perm(b.n)
		for len(perm) < b.size { // fewer examples than a batch: repeat them
			perm = append(perm, rng.Perm(b.n)...)
		}
		b.batches = b.batches[:0]
		group := 32 * b.size
		for lo := 0; lo+b.size <= len(perm); lo += group {
			g := perm[lo:min(len(perm), lo+group)]
			g = g[:len(g)/b.size*b.size]
			sort.SliceStable(g, func(i, j int) bool { return b.length(g[i]) < b.length(g[j]) })
			var bs [][]int
			for i := 0; i < len(g); i += b.size {
				bs = append(bs, g[i:i+b.size])
			}
			rng.Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
			b.batches = append(b.batches, bs...)
		}
	}
	return b.batches[k%len(b.batches)]
}

// Evaluate scores the model on the evaluation data: SQuAD metrics for qa
// (and the mean loss of the labelled windows), perplexity for mlm.
func (t *Trainer) Evaluate(ctx context.Context) (*EvalInfo, error) {
	c := t.Cfg
	if c.Train.Task == "mlm" {
		var sum float64
		var count int
		for i, s := range t.Data.EvalSeqs {
			ids, labels := maskTokens(s, t.Tok, c.Train.MaskProb, mixSeed(c.Train.Seed, 0xe7a1, uint64(i)))
			l, n, err := t.Model.MLMLoss(ids, nil, labels, false, 0)
			if err != nil {
				return nil, err
			}
			sum += l * float64(n)
			count += n
		}
		ev := &EvalInfo{}
		if count > 0 {
			ev.Loss = sum / float64(count)
			ev.Perplexity = math.Exp(ev.Loss)
		}
		return ev, nil
	}
	if len(t.Data.EvalEx) == 0 {
		return &EvalInfo{}, nil
	}
	pr, err := Predict(ctx, t.Model, t.Tok, t.Data.EvalEx, t.Data.Window, Decoder{MaxAnswerLen: c.Train.MaxAnswerLen}, c.Train.Threads, nil)
	if err != nil {
		return nil, err
	}
	s := Evaluate(t.Data.EvalEx, PredictionMap(pr.Predictions), false)
	return &EvalInfo{Loss: pr.Loss, Exact: s.Exact, F1: s.F1}, nil
}

// saveCheckpoint writes the weights, the optimizer's moments and the
// state into a new folder and swaps it in for the old one, so that a
// crash at any moment leaves one whole checkpoint.
func saveCheckpoint(dir string, m Model, opt *adam, st *trainState) error {
	tmp := dir + ".new"
	os.RemoveAll(tmp)
	if err := m.Save(tmp); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	tensors := map[string]model.Tensor{}
	for i, p := range m.Params() {
		tensors["exp_avg."+p.Name] = model.F32Tensor(p.Shape, opt.m[i])
		tensors["exp_avg_sq."+p.Name] = model.F32Tensor(p.Shape, opt.v[i])
	}
	if err := model.WriteSafetensorsFile(filepath.Join(tmp, "optimizer.safetensors"), tensors, nil); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := atomicfile.Write(filepath.Join(tmp, "state.json"), b); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	old := dir + ".old"
	os.RemoveAll(old)
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("save checkpoint: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return os.RemoveAll(old)
}

// loadCheckpoint restores weights and moments into params and opt; a
// checkpoint left as .old by a crash during the swap is used when the
// main one is missing.
func loadCheckpoint(dir string, params []*model.Param[float32], opt *adam) (*trainState, error) {
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		if _, err2 := os.Stat(filepath.Join(dir+".old", "state.json")); err2 == nil {
			dir += ".old"
		} else {
			return nil, &ResumeError{fmt.Sprintf("resume: no checkpoint in %s", filepath.Dir(dir))}
		}
	}
	var st trainState
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("resume: %s: %w", filepath.Join(dir, "state.json"), err)
	}
	w, _, err := model.ReadSafetensorsFile(filepath.Join(dir, model.WeightsFile))
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	o, _, err := model.ReadSafetensorsFile(filepath.Join(dir, "optimizer.safetensors"))
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	for i, p := range params {
		for _, x := range []struct {
			t   map[string]model.Tensor
			key string
			dst []float32
		}{{w, p.Name, p.W}, {o, "exp_avg." + p.Name, opt.m[i]}, {o, "exp_avg_sq." + p.Name, opt.v[i]}} {
			tn, ok := x.t[x.key]
			if !ok {
				return nil, fmt.Errorf("resume: %s: no tensor %s", dir, x.key)
			}
			vals, err := tn.Float32s()
			if err != nil || len(vals) != len(x.dst) {
				return nil, fmt.Errorf("resume: %s: tensor %s does not fit the model (%v)", dir, x.key, err)
			}
			copy(x.dst, vals)
		}
	}
	return &st, nil
}

// truncateMetrics drops the lines of steps after step (written after the
// checkpoint a run resumes from).
func truncateMetrics(path string, step int) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []string
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		var v struct {
			Step int `json:"step"`
		}
		if json.Unmarshal([]byte(line), &v) == nil && v.Step <= step {
			keep = append(keep, line)
		}
	}
	out := strings.Join(keep, "\n")
	if out != "" {
		out += "\n"
	}
	return atomicfile.Write(path, []byte(out))
}
