package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func tinyConfig() Config {
	c := DefaultConfig()
	c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads = 24, 8, 2, 2
	c.IntermediateSize, c.MaxPositionEmbeddings = 12, 40
	c.AttentionWindow = Windows{PerLayer: []int{4, 6}}
	c.HiddenDropoutProb, c.AttentionProbsDropoutProb = 0, 0
	return c
}

// tinyBatch is a sequence of 13 tokens: two global, two padding.
func tinyBatch() ([]int, []int8, []int) {
	ids := []int{0, 5, 2, 7, 9, 11, 3, 8, 14, 20, 2, 1, 1}
	mask := []int8{2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}
	labels := []int{-1, -1, -1, 4, -1, -1, 17, -1, -1, 6, -1, -1, -1}
	return ids, mask, labels
}

// totalLoss runs the model and returns QA + MLM loss, and with grad the
// gradients (parameters, and input embeddings returned).
func totalLoss(t *testing.T, m *Model[float64], embeds []float64, mask []int8, labels []int, opts Options, grad bool) (float64, []float64) {
	t.Helper()
	opts.Train = opts.Train || grad
	st, err := m.ForwardEmbeds(embeds, mask, opts)
	if err != nil {
		t.Fatal(err)
	}
	qa, dq, err := m.QALoss(st, 4, 6)
	if err != nil {
		t.Fatal(err)
	}
	mlm, _, dm, err := m.MLMLoss(st, labels)
	if err != nil {
		t.Fatal(err)
	}
	if !grad {
		return qa + mlm, nil
	}
	axpy(1, dm, dq)
	demb, err := m.Backward(st, dq)
	if err != nil {
		t.Fatal(err)
	}
	return qa + mlm, demb
}

// TestGradients checks the gradient of every parameter tensor and of the
// input embeddings against central finite differences (float64), for
// every ablation switch, with and without checkpointing.
func TestGradients(t *testing.T) {
	ids, mask, labels := tinyBatch()
	variants := []struct {
		name string
		edit func(*Config)
	}{
		{"full", func(*Config) {}},
		{"no global attention", func(c *Config) { c.GlobalAttention = false }},
		{"shared global projections", func(c *Config) { c.SeparateGlobalProjections = false }},
		{"no feed-forward", func(c *Config) { c.FeedForward = false }},
		{"no layer norm", func(c *Config) { c.LayerNorm = false }},
		{"dropout", func(c *Config) { c.HiddenDropoutProb, c.AttentionProbsDropoutProb = 0.2, 0.3 }},
	}
	for _, v := range variants {
		cfg := tinyConfig()
		v.edit(&cfg)
		m := New[float64](cfg)
		m.Init(3)
		// With dropout the finite differences run the training pass too:
		// its masks are fixed by the seed.
		base := Options{Train: cfg.HiddenDropoutProb > 0, Seed: 9}
		// Larger weights than BERT's init, so that every path carries
		// gradient well above rounding.
		rng := rand.New(rand.NewPCG(5, 6))
		for _, p := range m.Params() {
			for i := range p.W {
				p.W[i] += 0.3 * rng.NormFloat64()
			}
		}
		d := cfg.HiddenSize
		embeds := make([]float64, len(ids)*d)
		for i, id := range ids {
			copy(embeds[i*d:], m.Word.W[id*d:(id+1)*d])
		}
		var grads [][]float64
		var dembs [][]float64
		for _, ckpt := range []bool{false, true} {
			m.ZeroGrad()
			o := base
			o.Checkpoint = ckpt
			_, demb := totalLoss(t, m, embeds, mask, labels, o, true)
			var g []float64
			for _, p := range m.Params() {
				g = append(g, p.G...)
			}
			grads = append(grads, g)
			dembs = append(dembs, demb)
		}
		if !slices.Equal(grads[0], grads[1]) || !slices.Equal(dembs[0], dembs[1]) {
			t.Errorf("%s: checkpointing changed the gradients", v.name)
		}
		m.ZeroGrad()
		_, demb := totalLoss(t, m, embeds, mask, labels, base, true)
		check := func(name string, x []float64, g []float64, idx []int) {
			for _, i := range idx {
				old := x[i]
				h := 1e-5
				x[i] = old + h
				fp, _ := totalLoss(t, m, embeds, mask, labels, base, false)
				x[i] = old - h
				fm, _ := totalLoss(t, m, embeds, mask, labels, base, false)
				x[i] = old
				fd := (fp - fm) / (2 * h)
				if rel := math.Abs(fd-g[i]) / math.Max(1e-3, math.Max(math.Abs(fd), math.Abs(g[i]))); rel > 1e-6 {
					t.Errorf("%s: %s[%d]: gradient %.10g, finite differences %.10g (relative error %.2g)", v.name, name, i, g[i], fd, rel)
				}
			}
		}
		// Snapshot the gradients: a training pass's losses accumulate
		// into the heads' gradients, and the finite differences run them.
		var gs [][]float64
		for _, p := range m.Params() {
			gs = append(gs, slices.Clone(p.G))
		}
		for k, p := range m.Params() {
			if p == m.Word {
				continue // the embeddings are fed directly below
			}
			check(p.Name, p.W, gs[k], sample(rng, p.Size(), 6))
		}
		check("input embeddings", embeds, demb, sample(rng, len(embeds), 20))
		// The tied decoder's gradient on the word embeddings, alone.
		m.ZeroGrad()
		tr := base
		tr.Train = true
		st, _ := m.ForwardEmbeds(embeds, mask, tr)
		_, _, _, _ = m.MLMLoss(st, labels)
		wordG := slices.Clone(m.Word.G)
		mlmOnly := func() float64 {
			st, _ := m.ForwardEmbeds(embeds, mask, base)
			l, _, _, _ := m.MLMLoss(st, labels)
			return l
		}
		for _, i := range sample(rng, m.Word.Size(), 6) {
			old := m.Word.W[i]
			m.Word.W[i] = old + 1e-5
			fp := mlmOnly()
			m.Word.W[i] = old - 1e-5
			fm := mlmOnly()
			m.Word.W[i] = old
			fd := (fp - fm) / 2e-5
			if rel := math.Abs(fd-wordG[i]) / math.Max(1e-3, math.Abs(fd)); rel > 1e-6 {
				t.Errorf("%s: tied decoder: word embedding %d: gradient %.10g, finite differences %.10g", v.name, i, wordG[i], fd)
			}
		}
	}
}

// sample returns k distinct indices below n (all of them when n ≤ k).
func sample(rng *rand.Rand, n, k int) []int {
	if n <= k {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return rng.Perm(n)[:k]
}

// TestWordEmbeddingGradient checks the gradient the encoder sends to the
// word embedding rows of the input tokens, through Forward with ids.
func TestWordEmbeddingGradient(t *testing.T) {
	ids, mask, _ := tinyBatch()
	m := New[float64](tinyConfig())
	m.Init(1)
	loss := func(train bool) float64 {
		st, err := m.Forward(ids, mask, Options{Train: train})
		if err != nil {
			t.Fatal(err)
		}
		l, dh, _ := m.QALoss(st, 3, 5)
		if train {
			if _, err := m.Backward(st, dh); err != nil {
				t.Fatal(err)
			}
		}
		return l
	}
	m.ZeroGrad()
	loss(true)
	d := m.Config.HiddenSize
	for _, i := range []int{5*d + 1, 2*d + 3, 7*d + 7, 1*d + 2} { // tokens 5, 2 (twice), 7, and the pad row
		old := m.Word.W[i]
		m.Word.W[i] = old + 1e-6
		fp := loss(false)
		m.Word.W[i] = old - 1e-6
		fm := loss(false)
		m.Word.W[i] = old
		fd := (fp - fm) / 2e-6
		if math.Abs(fd-m.Word.G[i]) > 1e-6*math.Max(1e-3, math.Abs(fd)) {
			t.Errorf("word embedding %d: gradient %.10g, finite differences %.10g", i, m.Word.G[i], fd)
		}
	}
}

// TestPaddingInvariance: appending padding changes no real token's
// output, and padding positions get the pad position id.
func TestPaddingInvariance(t *testing.T) {
	m := New[float64](tinyConfig())
	m.Init(2)
	ids, mask, _ := tinyBatch()
	ids, mask = ids[:11], mask[:11]
	a, err := m.Forward(ids, mask, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, extra := range []int{1, 5, 17} {
		pid := append(slices.Clone(ids), make([]int, extra)...)
		pm := append(slices.Clone(mask), make([]int8, extra)...)
		for i := len(ids); i < len(pid); i++ {
			pid[i] = m.Config.PadTokenID
		}
		b, err := m.Forward(pid, pm, Options{})
		if err != nil {
			t.Fatal(err)
		}
		d := m.Config.HiddenSize
		for i := range len(ids) * d {
			if math.Abs(a.Hidden[i]-b.Hidden[i]) > 1e-12 {
				t.Fatalf("%d padding tokens changed hidden value %d: %g vs %g", extra, i, a.Hidden[i], b.Hidden[i])
			}
		}
		if b.pos[len(ids)] != m.Config.PadTokenID || b.pos[len(ids)-1] != m.Config.PadTokenID+len(ids) {
			t.Errorf("position ids %v", b.pos)
		}
	}
}

// TestDeterminism: the same model, inputs and seed give bit-identical
// outputs and gradients, with dropout.
func TestDeterminism(t *testing.T) {
	cfg := tinyConfig()
	cfg.HiddenDropoutProb = 0.2
	ids, mask, _ := tinyBatch()
	var outs [][]float32
	for range 2 {
		m := New[float32](cfg)
		m.Init(7)
		st, err := m.Forward(ids, mask, Options{Train: true, Seed: 11})
		if err != nil {
			t.Fatal(err)
		}
		_, dh, _ := m.QALoss(st, 2, 4)
		m.Backward(st, dh)
		outs = append(outs, append(slices.Clone(st.Hidden), m.Params()[5].G...))
	}
	if !slices.Equal(outs[0], outs[1]) {
		t.Error("two identical runs differ")
	}
}

func TestSmallFunctions(t *testing.T) {
	// LayerNorm of [1, 2, 3, 4]: mean 2.5, variance 1.25.
	y := make([]float64, 4)
	mu, rs := make([]float64, 1), make([]float64, 1)
	layerNorm(1, []float64{1, 2, 3, 4}, 1, 4, []float64{1, 1, 2, 1}, []float64{0, 0, 0, 0.5}, 0, y, mu, rs)
	s := 1 / math.Sqrt(1.25)
	want := []float64{-1.5 * s, -0.5 * s, 2 * 0.5 * s, 1.5*s + 0.5}
	for i := range y {
		if math.Abs(y[i]-want[i]) > 1e-15 {
			t.Errorf("layerNorm[%d] = %.17g, want %.17g", i, y[i], want[i])
		}
	}
	// GELU(1) = Φ(1) = 0.8413447460685429; GELU(−1) = −0.15865525393145707.
	if g := gelu(1.0); math.Abs(g-0.8413447460685429) > 1e-15 {
		t.Errorf("gelu(1) = %.17g", g)
	}
	if g := gelu(-1.0); math.Abs(g+0.15865525393145707) > 1e-15 {
		t.Errorf("gelu(-1) = %.17g", g)
	}
	// Cross-entropy of logits [0, ln 2, ln 3] at label 2: −log(3/6).
	grad := make([]float64, 3)
	if l := softmaxCE([]float64{0, math.Ln2, math.Log(3)}, 2, 1, grad); math.Abs(l-math.Ln2) > 1e-15 {
		t.Errorf("cross-entropy %.17g, want ln 2", l)
	}
	if want := []float64{1.0 / 6, 2.0 / 6, 3.0/6 - 1}; math.Abs(grad[0]-want[0]) > 1e-15 || math.Abs(grad[2]-want[2]) > 1e-15 {
		t.Errorf("cross-entropy gradient %v, want %v", grad, want)
	}
}

// TestGroupsCount: the analytic parameter count matches the model's
// tensors for every ablation.
func TestGroupsCount(t *testing.T) {
	for _, edit := range []func(*Config){
		func(*Config) {}, func(c *Config) { c.GlobalAttention = false }, func(c *Config) { c.SeparateGlobalProjections = false },
		func(c *Config) { c.FeedForward = false }, func(c *Config) { c.LayerNorm = false },
	} {
		cfg := tinyConfig()
		edit(&cfg)
		total := 0
		for _, g := range Groups(cfg) {
			total += g.Params
		}
		if n := New[float32](cfg).NumParams(); n != total {
			t.Errorf("%+v: groups count %d, the model has %d", cfg, total, n)
		}
	}
	// longformer-base-4096 has 148.7M parameters with its MLM head (the
	// published size is 149M).
	total := 0
	for _, g := range Groups(DefaultConfig()) {
		total += g.Params
	}
	if total < 148e6 || total > 150e6 {
		t.Errorf("longformer-base-4096: %d parameters", total)
	}
	m := EstimateMemory(tinyConfig(), 1000, 2, 4)
	if !(m.Inference < m.TrainingCheckpointed && m.TrainingCheckpointed < m.Training) {
		t.Errorf("memory estimate out of order: %+v", m)
	}
}

// TestInferenceMatchesTraining: the lean inference path gives the hidden
// states of the training path (no dropout), for every ablation.
func TestInferenceMatchesTraining(t *testing.T) {
	ids, mask, _ := tinyBatch()
	for _, edit := range []func(*Config){
		func(*Config) {}, func(c *Config) { c.GlobalAttention = false }, func(c *Config) { c.SeparateGlobalProjections = false },
		func(c *Config) { c.FeedForward = false }, func(c *Config) { c.LayerNorm = false },
	} {
		cfg := tinyConfig()
		edit(&cfg)
		m := New[float64](cfg)
		m.Init(9)
		a, _ := m.Forward(ids, mask, Options{Train: true})
		b, _ := m.Forward(ids, mask, Options{})
		for i := range a.Hidden {
			if math.Abs(a.Hidden[i]-b.Hidden[i]) > 1e-12 {
				t.Fatalf("%+v: hidden %d: training %g, inference %g", cfg, i, a.Hidden[i], b.Hidden[i])
			}
		}
	}
}

// TestErf32 checks the float32 erf against math.Erf over its range.
func TestErf32(t *testing.T) {
	worst := 0.0
	for x := -6.0; x <= 6; x += 1e-3 {
		worst = math.Max(worst, math.Abs(float64(erf32(float32(x)))-math.Erf(float64(float32(x)))))
	}
	t.Logf("erf32: worst absolute error %.3g", worst)
	if worst > 2e-7 {
		t.Errorf("erf32 is off by up to %g", worst)
	}
}

// TestExp32 checks the float32 exp against math.Exp: relative error
// within 2 ulp (2.4e-7) over the range where the result is normal, 0
// below it, +Inf above.
func TestExp32(t *testing.T) {
	worst := 0.0
	for x := -87.0; x <= 88.5; x += 7.3e-4 {
		f := float64(float32(x))
		want := math.Exp(f)
		worst = math.Max(worst, math.Abs(float64(exp32(float32(f)))-want)/want)
	}
	t.Logf("exp32: worst relative error %.3g", worst)
	if worst > 2.4e-7 {
		t.Errorf("exp32 is off by up to %g relative", worst)
	}
	for _, c := range []struct{ x, want float32 }{{0, 1}, {-100, 0}, {100, float32(math.Inf(1))}, {float32(math.Inf(-1)), 0}} {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if nan := exp32(float32(math.NaN())); nan == nan {
		t.Error("exp32(NaN) is not NaN")
	}
	if got := exp(float32(1)); math.Abs(float64(got)-math.E) > 3e-7 {
		t.Errorf("exp[float32](1) = %g", got)
	}
	if got := exp(1.0); got != math.E {
		t.Errorf("exp[float64](1) = %g, want math.E exactly", got)
	}
}

// TestTensorBoundary: the tensor views share memory with the model and
// carry the right shapes; ids come in as integer tensors.
func TestTensorBoundary(t *testing.T) {
	m := New[float32](tinyConfig())
	m.Init(1)
	ids, mask, _ := tinyBatch()
	idt, err := IDsFromTensor(tensor.New(tensor.WithShape(len(ids)), tensor.WithBacking(slices.Clone(ids))))
	if err != nil || !slices.Equal(idt, ids) {
		t.Fatalf("ids from a tensor: %v, %v", idt, err)
	}
	if _, err := IDsFromTensor(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]int{1, 2, 3, 4}))); err == nil {
		t.Error("a 2-d tensor of ids was accepted")
	}
	st, err := m.Forward(ids, mask, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := st.HiddenTensor()
	if !h.Shape().Eq(tensor.Shape{len(ids), 8}) {
		t.Fatalf("hidden tensor shape %v", h.Shape())
	}
	v, err := h.At(3, 5)
	if err != nil || v.(float32) != st.Hidden[3*8+5] {
		t.Errorf("hidden[3,5] = %v (%v), want %v", v, err, st.Hidden[3*8+5])
	}
	w := m.Param("qa_outputs.weight").Tensor()
	if !w.Shape().Eq(tensor.Shape{2, 8}) {
		t.Fatalf("qa_outputs.weight shape %v", w.Shape())
	}
	if err := w.SetAt(float32(42), 1, 7); err != nil || m.QA.W.W[15] != 42 {
		t.Errorf("writing through the tensor view: %v, weight %v", err, m.QA.W.W[15])
	}

	// ForwardTensor and BackwardTensor against the slice API.
	m64 := New[float64](tinyConfig())
	m64.Init(2)
	mk := make([]int32, len(mask))
	for i, v := range mask {
		mk[i] = int32(v)
	}
	idT := tensor.New(tensor.WithShape(len(ids)), tensor.WithBacking(slices.Clone(ids)))
	mkT := tensor.New(tensor.WithShape(len(mk)), tensor.WithBacking(mk))
	stT, err := m64.ForwardTensor(idT, mkT, Options{Train: true})
	if err != nil {
		t.Fatal(err)
	}
	st64, _ := m64.Forward(ids, mask, Options{Train: true})
	if !slices.Equal(stT.Hidden, st64.Hidden) {
		t.Error("ForwardTensor and Forward differ")
	}
	dh := make([]float64, len(st64.Hidden))
	for i := range dh {
		dh[i] = float64(i%7) - 3
	}
	dT, err := m64.BackwardTensor(stT, tensor.New(tensor.WithShape(len(ids), 8), tensor.WithBacking(slices.Clone(dh))))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m64.Backward(st64, dh)
	if !slices.Equal(dT.Data().([]float64), want) || !dT.Shape().Eq(tensor.Shape{len(ids), 8}) {
		t.Error("BackwardTensor and Backward differ")
	}
	bad := tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 5}))
	if _, err := m64.ForwardTensor(tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{4, 5})), bad, Options{}); err == nil || !strings.Contains(err.Error(), "mask[1] = 5") {
		t.Errorf("a mask value of 5: %v", err)
	}
	if _, err := m64.BackwardTensor(stT, tensor.New(tensor.WithShape(len(ids), 8), tensor.WithBacking(make([]float32, len(ids)*8)))); err == nil {
		t.Error("a float32 gradient for a float64 model was accepted")
	}
}

// TestFloat32Kernels checks the float32 fast paths against float64
// references: GELU (gelu32) and the softmax's shifted exp (expShift32),
// including masked −Inf entries and the returned sum.
func TestFloat32Kernels(t *testing.T) {
	// The scalar code; internal/vecmath tests its vectors, and the
	// model's tests run them.
	defer func(v bool) { useVec = v }(useVec)
	useVec = false
	var xs []float32
	for x := -10.0; x <= 10; x += 1e-3 {
		xs = append(xs, float32(x))
	}
	g := make([]float32, len(xs))
	gelu32(g, xs)
	for i, x := range xs {
		want := gelu(float64(x))
		if d := math.Abs(float64(g[i]) - want); d > 2e-7*math.Max(1, math.Abs(want)) {
			t.Fatalf("gelu32(%g) = %.9g, want %.9g", x, g[i], want)
		}
	}
	rng := rand.New(rand.NewPCG(4, 4))
	e := make([]float32, 300)
	for i := range e {
		e[i] = float32(rng.NormFloat64() * 30)
	}
	e[7], e[50] = float32(math.Inf(-1)), -200
	mx := slices.Max(e)
	orig := slices.Clone(e)
	sum := expShift(e, mx)
	want := 0.0
	for i, v := range orig {
		arg := float64(v - mx) // the float32 difference the kernel takes
		w := math.Exp(arg)
		if arg < -87.33654 {
			w = 0 // flushed: below float32's normal range
		}
		want += w
		if math.Abs(float64(e[i])-w) > 2.4e-7*w {
			t.Fatalf("expShift: e^(%g) = %g, want %g", v-mx, e[i], w)
		}
	}
	if math.Abs(float64(sum)-want) > 1e-6*want {
		t.Errorf("expShift sum %g, want %g", sum, want)
	}
	// GELU's derivative in float32 (rational erf, exp32) against the
	// float64 one.
	dy := make([]float32, len(xs))
	for i := range dy {
		dy[i] = 1
	}
	geluGrad32(xs, dy)
	for i, x := range xs {
		if want := geluGrad(float64(x)); math.Abs(float64(dy[i])-want) > 3e-7*math.Max(1, math.Abs(want)) {
			t.Fatalf("geluGrad32(%g) = %.9g, want %.9g", x, dy[i], want)
		}
	}
}

// TestElementwiseOverChunks checks the element-wise kernels that split
// rows over cores (and reduce over chunks of rows) against one row at a
// time: the residual + LayerNorm with dropout, its backward with the
// fused mask, and the column sums.
func TestElementwiseOverChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n, d = 3000, 17 // several chunks, the last one short
	rnd := func(k int) []float64 {
		x := make([]float64, k)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		return x
	}
	h, res, g, b, dy := rnd(n*d), rnd(n*d), rnd(d), rnd(d), rnd(n*d)
	mask := dropoutMask[float64](2, n*d, 0.25, 3, 1)
	dropped := 0
	for _, m := range mask {
		if m == 0 {
			dropped++
		} else if m != 1/0.75 {
			t.Fatalf("mask value %g", m)
		}
	}
	if f := float64(dropped) / float64(n*d); math.Abs(f-0.25) > 0.01 {
		t.Errorf("dropped %.4f of the values, want 0.25", f)
	}
	sum := slices.Clone(h)
	y, mu, rs := make([]float64, n*d), make([]float64, n), make([]float64, n)
	residualNorm(2, sum, res, mask, n, d, g, b, 1e-5, y, mu, rs)
	dg, db := make([]float64, d), make([]float64, d)
	dx, dm := layerNormBackward(2, sum, n, d, g, mu, rs, dy, dg, db, mask, nil, nil)
	wdg, wdb := make([]float64, d), make([]float64, d)
	for i := range n {
		r := func(x []float64) []float64 { return x[i*d : (i+1)*d] }
		s := make([]float64, d)
		for j := range d {
			s[j] = r(h)[j]*r(mask)[j] + r(res)[j]
		}
		yi, m1, r1 := make([]float64, d), make([]float64, 1), make([]float64, 1)
		layerNorm(1, s, 1, d, g, b, 1e-5, yi, m1, r1)
		dxi, _ := layerNormBackward(1, s, 1, d, g, m1, r1, r(dy), wdg, wdb, nil, nil, nil)
		for j := range d {
			if r(sum)[j] != s[j] || math.Abs(r(y)[j]-yi[j]) > 1e-14 || math.Abs(r(dx)[j]-dxi[j]) > 1e-14 || r(dm)[j] != r(dx)[j]*r(mask)[j] {
				t.Fatalf("row %d, column %d: sum %g/%g, y %g/%g, dx %g/%g", i, j, r(sum)[j], s[j], r(y)[j], yi[j], r(dx)[j], dxi[j])
			}
		}
	}
	for j := range d {
		if math.Abs(dg[j]-wdg[j]) > 1e-10 || math.Abs(db[j]-wdb[j]) > 1e-10 {
			t.Fatalf("column %d: dg %g, want %g; db %g, want %g", j, dg[j], wdg[j], db[j], wdb[j])
		}
	}
	cs := make([]float64, d)
	colSums(2, dy, n, d, cs)
	for j := range d {
		want := 0.0
		for i := range n {
			want += dy[i*d+j]
		}
		if math.Abs(cs[j]-want) > 1e-10 {
			t.Fatalf("column sum %d = %g, want %g", j, cs[j], want)
		}
	}
}

// TestLayerNormFloat32 checks the float32 residual + LayerNorm, its
// backward and the column sums (internal/vecmath's kernels where there is
// AVX-512, with a row length that leaves a tail past the last vector)
// against the float64 code on the same values.
func TestLayerNormFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	const n, d = 700, 40
	rnd := func(k int, mean float64) []float64 {
		x := make([]float64, k)
		for i := range x {
			x[i] = mean + rng.NormFloat64()
		}
		return x
	}
	h, res, g, b, dy := rnd(n*d, 2), rnd(n*d, 0), rnd(d, 1), rnd(d, 0), rnd(n*d, 0)
	mask := dropoutMask[float64](2, n*d, 0.25, 3, 1)
	f := func(x []float64) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(v)
		}
		return y
	}
	h32, g32, b32, dy32, mask32 := f(h), f(g), f(b), f(dy), f(mask)
	y, mu, rs := make([]float64, n*d), make([]float64, n), make([]float64, n)
	y32, mu32, rs32 := make([]float32, n*d), make([]float32, n), make([]float32, n)
	residualNorm(2, h, res, mask, n, d, g, b, 1e-5, y, mu, rs)
	residualNorm(2, h32, f(res), mask32, n, d, g32, b32, 1e-5, y32, mu32, rs32)
	dg, db := make([]float64, d), make([]float64, d)
	dg32, db32 := make([]float32, d), make([]float32, d)
	dx, dm := layerNormBackward(2, h, n, d, g, mu, rs, dy, dg, db, mask, nil, nil)
	dx32, dm32 := layerNormBackward(2, h32, n, d, g32, mu32, rs32, dy32, dg32, db32, mask32, nil, nil)
	cs, cs32 := make([]float64, d), make([]float32, d)
	colSums(2, dy, n, d, cs)
	colSums(2, dy32, n, d, cs32)
	for _, c := range []struct {
		name  string
		got   []float32
		want  []float64
		scale float64
	}{
		{"sum", h32, h, 1}, {"y", y32, y, 1}, {"mean", mu32, mu, 1}, {"rstd", rs32, rs, 1},
		{"dx", dx32, dx, 1}, {"dx masked", dm32, dm, 1}, {"dg", dg32, dg, n}, {"db", db32, db, n}, {"column sums", cs32, cs, n},
	} {
		for i, w := range c.want {
			if math.Abs(float64(c.got[i])-w) > 1e-5*math.Sqrt(c.scale)*math.Max(1, math.Abs(w)) {
				t.Fatalf("%s[%d]: float32 %g, float64 %g", c.name, i, c.got[i], w)
			}
		}
	}
}

// TestAttentionFloat32 runs the float32 kernel against the float64 dense
// oracle.
func TestAttentionFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	in := randomAttnInput(rng, 150, 2, 8, 16, 3, 7, false)
	in.Dropout, in.Seed = 0.1, 3
	want := denseAttention(in)
	f := func(x []float64) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(v)
		}
		return y
	}
	in32 := &AttnInput[float32]{Q: f(in.Q), K: f(in.K), V: f(in.V), QG: f(in.QG), KG: f(in.KG), VG: f(in.VG),
		Mask: in.Mask, N: in.N, Heads: in.Heads, HeadDim: in.HeadDim, HalfWindow: in.HalfWindow, Dropout: in.Dropout, Seed: in.Seed}
	got := make([]float32, len(want))
	Attention(in32, got, false)
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > 2e-5*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("element %d: float32 %g, dense float64 %g", i, got[i], want[i])
		}
	}
}

// Position ids follow the reference (create_position_ids_from_input_ids):
// from the ids, not the mask. A padding id among real tokens keeps the
// padding position and does not count; masked-out tokens with other ids
// count.
func TestPositionIDsFromInputIDs(t *testing.T) {
	m := New[float64](tinyConfig()) // pad_token_id 1
	for _, c := range []struct {
		name string
		ids  []int
		mask []int8
		want []int
	}{
		{"plain", []int{0, 5, 2}, nil, []int{2, 3, 4}},
		{"padding at the end", []int{0, 5, 1, 1}, []int8{1, 1, 0, 0}, []int{2, 3, 1, 1}},
		{"a padding id inside", []int{0, 1, 5, 2}, nil, []int{2, 1, 3, 4}},
		{"padding with another id", []int{0, 5, 0, 0}, []int8{1, 1, 0, 0}, []int{2, 3, 4, 5}},
		{"leading padding", []int{1, 1, 0, 5}, []int8{0, 0, 1, 1}, []int{1, 1, 2, 3}},
	} {
		st, err := m.newState(c.ids, c.mask, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(st.pos, c.want) {
			t.Errorf("%s: positions %v, want %v", c.name, st.pos, c.want)
		}
	}
}

// LMLogits are the scores MLMLoss takes the cross-entropy of.
func TestLMLogits(t *testing.T) {
	m := New[float64](tinyConfig())
	m.Init(3)
	ids, mask, _ := tinyBatch()
	st, err := m.Forward(ids, mask, Options{})
	if err != nil {
		t.Fatal(err)
	}
	labels := make([]int, len(ids))
	for i := range labels {
		labels[i] = -1
	}
	labels[3], labels[7] = 5, 17
	loss, k, _, err := m.MLMLoss(st, labels)
	if err != nil || k != 2 {
		t.Fatal(err, k)
	}
	V := m.Config.VocabSize
	logits := m.LMLogits(st)
	if len(logits) != len(ids)*V {
		t.Fatalf("%d logits for %d tokens × %d", len(logits), len(ids), V)
	}
	var want float64
	for _, i := range []int{3, 7} {
		row := logits[i*V : (i+1)*V]
		mx := slices.Max(row)
		var z float64
		for _, v := range row {
			z += math.Exp(v - mx)
		}
		want += (mx + math.Log(z) - row[labels[i]]) / 2
	}
	if math.Abs(loss-want) > 1e-12 {
		t.Errorf("MLMLoss %v, cross-entropy of LMLogits %v", loss, want)
	}
}

// TestProfileCoversThePasses: a profiled forward (inference and
// training) and backward pass records every operation, FLOPs that add up
// to ForwardFLOPs (inference) and, for training, the forward's plus twice
// it for the backward pass, and positive times; a profile changes no
// result.
func TestProfileCoversThePasses(t *testing.T) {
	cfg := DefaultConfig()
	cfg.VocabSize, cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads, cfg.IntermediateSize = 260, 16, 2, 2, 32
	cfg.MaxPositionEmbeddings, cfg.AttentionWindow = 130, Windows{PerLayer: []int{8, 4}}
	m := New[float64](cfg)
	m.Init(1)
	n := 100
	ids, mask := make([]int, n), make([]int8, n)
	for i := range ids {
		ids[i], mask[i] = 4+i%200, MaskLocal
	}
	mask[0], mask[5] = MaskGlobal, MaskGlobal
	plain, err := m.Forward(ids, mask, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Profile = NewProfile()
	st, err := m.Forward(ids, mask, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Hidden, plain.Hidden) {
		t.Fatal("profiling changed the forward pass")
	}
	want := ForwardFLOPs(cfg, n, 2)
	total := func(ops []OpTime) (f float64) {
		for _, o := range ops {
			f += o.FLOPs
		}
		return f
	}
	if got := total(m.Profile.Ops()); math.Abs(got-want) > 1e-9*want {
		t.Errorf("inference FLOPs %g, ForwardFLOPs %g", got, want)
	}
	m.Profile = NewProfile()
	st, err = m.Forward(ids, mask, Options{Train: true})
	if err != nil {
		t.Fatal(err)
	}
	// Training projects the global queries of every row, not only of
	// the global ones (ForwardFLOPs counts what inference does).
	train := want
	if cfg.SeparateGlobalProjections {
		d := float64(cfg.HiddenSize)
		train += float64(cfg.NumHiddenLayers) * 2 * float64(n-2) * d * d
	}
	if got := total(m.Profile.Ops()); math.Abs(got-train) > 1e-9*train {
		t.Errorf("training forward FLOPs %g, want %g", got, train)
	}
	dh := make([]float64, len(st.Hidden))
	for i := range dh {
		dh[i] = 1
	}
	if _, err := m.Backward(st, dh); err != nil {
		t.Fatal(err)
	}
	ops := m.Profile.Ops()
	if got := total(ops); math.Abs(got-3*train) > 1e-9*train {
		t.Errorf("forward + backward FLOPs %g, 3 × the forward's %g", got, 3*train)
	}
	names := map[string]bool{}
	for _, o := range ops {
		names[o.Op] = true
		if o.Seconds <= 0 || o.Calls == 0 {
			t.Errorf("%s: %g s in %d calls", o.Op, o.Seconds, o.Calls)
		}
	}
	for _, op := range []string{OpProjections, OpAttention, OpFeedForward, OpGELU, OpNorm, OpProjectionsBack, OpAttentionBack, OpFeedForwardBack, OpGELUBack, OpNormBack} {
		if !names[op] {
			t.Errorf("no %s in the profile", op)
		}
	}
}

// TestGemmSplits checks the matrix product, split over cores by rows or
// by columns as the OpenBLAS build does, against the triple loop, for
// every transposition and shapes that do not divide evenly.
func TestGemmSplits(t *testing.T) {
	defer func(v bool) { cBLAS = v }(cBLAS)
	rng := rand.New(rand.NewPCG(6, 6))
	const m, n, k = 131, 257, 19
	for _, split := range []bool{false, true} {
		cBLAS = split
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				a, b, c := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
				for _, x := range [][]float64{a, b, c} {
					for i := range x {
						x[i] = rng.NormFloat64()
					}
				}
				lda, ldb := k, n
				at := func(i, p int) float64 { return a[i*k+p] }
				bt := func(p, j int) float64 { return b[p*n+j] }
				if tA {
					lda, at = m, func(i, p int) float64 { return a[p*m+i] }
				}
				if tB {
					ldb, bt = k, func(p, j int) float64 { return b[j*k+p] }
				}
				want := slices.Clone(c)
				for i := range m {
					for j := range n {
						s := 0.0
						for p := range k {
							s += at(i, p) * bt(p, j)
						}
						want[i*n+j] = 0.5*s + 2*want[i*n+j]
					}
				}
				gemm(exec{workers: 3}, tA, tB, m, n, k, 0.5, a, lda, b, ldb, 2, c, n)
				for i := range c {
					if math.Abs(c[i]-want[i]) > 1e-12 {
						t.Fatalf("split %v, tA %v, tB %v: C[%d] = %g, want %g", split, tA, tB, i, c[i], want[i])
					}
				}
			}
		}
	}
}
