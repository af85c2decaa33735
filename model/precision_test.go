package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/internal/amx"
)

// TestPrecisionRefused checks the names and the refusals: an unknown
// precision, bf16 on a float64 model, and bf16 where the tile unit is
// missing (on this machine, if it is).
func TestPrecisionRefused(t *testing.T) {
	if _, err := ParsePrecision("fp8"); err == nil || !strings.Contains(err.Error(), "allowed are float32 and bf16") {
		t.Errorf("fp8: %v", err)
	}
	if p, err := ParsePrecision(""); p != Float32 || err != nil {
		t.Errorf("\"\": %v %v", p, err)
	}
	m64 := New[float64](tinyConfig())
	if err := m64.SetPrecision(BF16); err == nil {
		t.Error("bf16 accepted for a float64 model")
	}
	_, err := ParsePrecision("bf16")
	if amx.Available() != (err == nil) {
		t.Errorf("AMX available %v, bf16: %v", amx.Available(), err)
	}
	if err != nil && !strings.Contains(err.Error(), "not available here") {
		t.Errorf("bf16 refused without saying why: %v", err)
	}
}

// TestBF16MatchesFloat32 runs a model of longformer-like width in float32
// and in bf16 (AMX) and compares the hidden states, the QA loss and the
// gradients: bfloat16 keeps 8 significant bits, so each product's factors
// are off by up to 2⁻⁹ relatively, and the outputs by about 2⁻⁸ of their
// scale after two layers; the test bounds the relative RMS difference by
// 3·2⁻⁸ and checks that it is not 0 (the tile unit did run).
func TestBF16MatchesFloat32(t *testing.T) {
	if !amx.Available() {
		t.Skip("AMX not available here: " + amx.Unavailable())
	}
	cfg := DefaultConfig()
	cfg.VocabSize, cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads = 260, 64, 2, 4
	cfg.IntermediateSize, cfg.MaxPositionEmbeddings = 256, 400
	cfg.AttentionWindow = Windows{PerLayer: []int{32}, Scalar: true}
	cfg.HiddenDropoutProb, cfg.AttentionProbsDropoutProb = 0, 0
	m := New[float32](cfg)
	m.Init(12)
	rng := rand.New(rand.NewPCG(3, 4))
	n := 300
	ids, mask := make([]int, n), make([]int8, n)
	for i := range ids {
		ids[i], mask[i] = 3+rng.IntN(250), MaskLocal
	}
	mask[0], mask[5] = MaskGlobal, MaskGlobal
	run := func(p Precision) ([]float32, float32, []float32) {
		if err := m.SetPrecision(p); err != nil {
			t.Fatal(err)
		}
		m.ZeroGrad()
		st, err := m.Forward(ids, mask, Options{Train: true})
		if err != nil {
			t.Fatal(err)
		}
		loss, dh, err := m.QALoss(st, 7, 9)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Backward(st, dh); err != nil {
			t.Fatal(err)
		}
		var g []float32
		for _, p := range m.Params() {
			g = append(g, p.G...)
		}
		return append([]float32(nil), st.Hidden...), loss, g
	}
	h32, l32, g32 := run(Float32)
	h16, l16, g16 := run(BF16)
	bound := 3 * math.Pow(2, -8)
	if r := relRMS(h32, h16); r > bound || r == 0 {
		t.Errorf("hidden states: relative RMS difference %.3g, want in (0, %.3g]", r, bound)
	}
	if r := math.Abs(float64(l16-l32)) / math.Abs(float64(l32)); r > bound {
		t.Errorf("loss %g in bf16, %g in float32 (relative %.3g)", l16, l32, r)
	}
	// Gradients go back through as many products again.
	if r := relRMS(g32, g16); r > 2*bound || r == 0 {
		t.Errorf("gradients: relative RMS difference %.3g, want in (0, %.3g]", r, 2*bound)
	}
	t.Logf("bf16 against float32: hidden %.3g, loss %.3g, gradients %.3g", relRMS(h32, h16), math.Abs(float64(l16-l32))/math.Abs(float64(l32)), relRMS(g32, g16))
}

// TestAttentionBF16 runs the attention (forward and backward, with global
// tokens and padding) with its large products in bf16 against float32: scores
// and outputs whose factors keep 8 significant bits come out within a few
// 2⁻⁸ of float32's, relative to their RMS.
func TestAttentionBF16(t *testing.T) {
	if !amx.Available() {
		t.Skip("AMX not available here: " + amx.Unavailable())
	}
	rng := rand.New(rand.NewPCG(11, 11))
	// Longformer-base's head size and a 256-token window: the blocks'
	// score and output products are 2.6 MFLOP, above bf16MinFLOPs.
	in := randomAttnInput(rng, 600, 2, 64, 128, 3, 7, false)
	f := func(x []float64) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(v)
		}
		return y
	}
	in32 := &AttnInput[float32]{Q: f(in.Q), K: f(in.K), V: f(in.V), QG: f(in.QG), KG: f(in.KG), VG: f(in.VG), Mask: in.Mask,
		N: in.N, Heads: in.Heads, HeadDim: in.HeadDim, HalfWindow: in.HalfWindow}
	D := in.Heads * in.HeadDim
	dout := make([]float32, in.N*D)
	for i := range dout {
		dout[i] = float32(rng.NormFloat64())
	}
	run := func(bf16 bool) ([]float32, *AttnGrad[float32]) {
		in32.BF16 = bf16
		out := make([]float32, in.N*D)
		c := Attention(in32, out, true)
		return out, AttentionBackward(in32, c, dout)
	}
	o32, g32 := run(false)
	in32.BF16 = true
	if newBandTiles(in32, attnBlock, 0.125) == nil {
		t.Fatal("the blocks do not multiply factors packed once a layer")
	}
	o16, g16 := run(true)
	// Packed once a layer or block by block, the same values meet in the
	// same order, in the blocks 1–7 of 64 queries whose products are
	// large enough for the tile unit block by block too (block 0 reaches
	// 192 keys, 1.6 MFLOP; the last two stop at the sequence's end).
	useBandTiles = false
	ob, _ := run(true)
	useBandTiles = true
	if r0, r1 := 64*D, 512*D; !slices.Equal(o16[r0:r1], ob[r0:r1]) {
		t.Errorf("the output with the factors packed once a layer differs from packing them block by block (relative RMS %.3g)", relRMS(o16[r0:r1], ob[r0:r1]))
	}
	bound := 4 * math.Pow(2, -8)
	// The global queries' products (3 rows) are below bf16MinFLOPs: their
	// gradients may come out the same.
	for _, c := range []struct {
		name  string
		a, b  []float32
		moved bool
	}{{"output", o32, o16, true}, {"dQ", g32.Q, g16.Q, true}, {"dK", g32.K, g16.K, true}, {"dV", g32.V, g16.V, true},
		{"dQG", g32.QG, g16.QG, false}, {"dKG", g32.KG, g16.KG, false}, {"dVG", g32.VG, g16.VG, false}} {
		if r := relRMS(c.a, c.b); r > bound || (c.moved && r == 0) {
			t.Errorf("%s: relative RMS difference %.3g, want at most %.3g (and not 0: %v)", c.name, r, bound, c.moved)
		}
	}
}

// relRMS is the RMS of a − b relative to a's.
func relRMS(a, b []float32) float64 {
	var d, s float64
	for i := range a {
		d += (float64(a[i]) - float64(b[i])) * (float64(a[i]) - float64(b[i]))
		s += float64(a[i]) * float64(a[i])
	}
	return math.Sqrt(d / s)
}
