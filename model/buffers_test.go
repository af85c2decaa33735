package model

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBuffersReused runs training steps on sequences of two lengths in
// turn on one model, with inference passes between them, whose later passes run on the arrays of the earlier
// ones, and checks every step's gradients and hidden states against a
// fresh model's to the bit, for every ablation, with dropout, global
// tokens and checkpointing: a recycled array that a pass reads before
// writing all of it would show. It also checks that Backward leaves the
// state's output alone and refuses a state it has consumed.
func TestBuffersReused(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	seq := func(n int) ([]int, []int8) {
		ids, mask := make([]int, n), make([]int8, n)
		for i := range ids {
			ids[i], mask[i] = 3+rng.IntN(40), MaskLocal
		}
		mask[0], mask[n/2] = MaskGlobal, MaskGlobal
		return ids, mask
	}
	idsA, maskA := seq(300)
	idsB, maskB := seq(270)
	for _, tc := range []struct {
		name string
		edit func(*Config)
		ckpt bool
	}{
		{"default", func(*Config) {}, false},
		{"dropout", func(c *Config) { c.HiddenDropoutProb, c.AttentionProbsDropoutProb = 0.1, 0.1 }, false},
		{"checkpointing", func(*Config) {}, true},
		{"checkpointing, dropout", func(c *Config) { c.HiddenDropoutProb, c.AttentionProbsDropoutProb = 0.1, 0.1 }, true},
		{"shared global projections", func(c *Config) { c.SeparateGlobalProjections = false }, false},
		{"no feed-forward", func(c *Config) { c.FeedForward = false }, false},
		{"no layer norm", func(c *Config) { c.LayerNorm = false }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.VocabSize, cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads = 48, 32, 2, 4
			cfg.IntermediateSize, cfg.MaxPositionEmbeddings = 64, 320
			cfg.AttentionWindow = Windows{PerLayer: []int{32, 48}}
			cfg.HiddenDropoutProb, cfg.AttentionProbsDropoutProb = 0, 0
			tc.edit(&cfg)
			base := New[float32](cfg)
			base.Init(3)
			fresh := func() *Model[float32] {
				m := New[float32](cfg)
				for i, p := range m.params {
					copy(p.W, base.params[i].W)
				}
				return m
			}
			step := func(m *Model[float32], ids []int, mask []int8, seed uint64) (grads, hidden []float32) {
				m.ZeroGrad()
				st, err := m.Forward(ids, mask, Options{Train: true, Checkpoint: tc.ckpt, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				_, dh, err := m.QALoss(st, 5, 9)
				if err != nil {
					t.Fatal(err)
				}
				hidden = slices.Clone(st.Hidden)
				if _, err := m.Backward(st, dh); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(hidden, st.Hidden) {
					t.Fatal("Backward changed the state's hidden states")
				}
				if _, err := m.Backward(st, dh); err == nil {
					t.Fatal("a second Backward on the same state was accepted")
				}
				for _, p := range m.Params() {
					grads = append(grads, p.G...)
				}
				return grads, hidden
			}
			m := fresh()
			for k, s := range []struct {
				ids  []int
				mask []int8
			}{{idsA, maskA}, {idsB, maskB}, {idsA, maskA}, {idsA, maskA}} {
				seed := uint64(k + 1)
				g, h := step(m, s.ids, s.mask, seed)
				wg, wh := step(fresh(), s.ids, s.mask, seed)
				if !slices.Equal(h, wh) || !slices.Equal(g, wg) {
					t.Fatalf("step %d (%d tokens): the model with recycled arrays differs from a fresh one", k, len(s.ids))
				}
				if m.bufs.held() == 0 {
					t.Fatalf("step %d: the pool holds nothing", k)
				}
				// An inference pass in between, on the arrays of the
				// training step.
				other := idsB
				if len(s.ids) == len(idsB) {
					other = idsA
				}
				a, err := m.Forward(other, nil, Options{})
				if err != nil {
					t.Fatal(err)
				}
				b, _ := fresh().Forward(other, nil, Options{})
				if !slices.Equal(a.Hidden, b.Hidden) {
					t.Fatalf("step %d: inference on recycled arrays differs from a fresh model's", k)
				}
			}
			m.ReleaseBuffers()
			if m.bufs.held() != 0 {
				t.Error("ReleaseBuffers left arrays in the pool")
			}
		})
	}
}

// TestSizeClass checks the pool's classes: at least the length, at most
// an eighth above it, and a class is its own class.
func TestSizeClass(t *testing.T) {
	for n := 1; n < 1<<20; n += 1 + n/97 {
		c := sizeClass(n)
		if c < n || float64(c) > float64(n)*1.125+1 || sizeClass(c) != c {
			t.Fatalf("sizeClass(%d) = %d", n, c)
		}
	}
}

// TestPoolTrim checks what the pool keeps: the arrays the larger of the
// last two passes took, by size class, and recycled arrays come back.
func TestPoolTrim(t *testing.T) {
	var p bufPool[float32]
	pass := func(k, n int) {
		var bufs [][]float32
		for range k {
			bufs = append(bufs, p.get(n))
		}
		p.put(nil, bufs...)
		p.trim()
	}
	const n = 5000
	c := sizeClass(n)
	pass(3, n)
	if p.held() != 3*c {
		t.Fatalf("after a pass of 3 arrays the pool holds %d values, want %d", p.held(), 3*c)
	}
	pass(1, n)
	if p.held() != 3*c {
		t.Fatalf("after a pass of 1 the pool holds %d values, want the 3 arrays of the pass before (%d)", p.held(), 3*c)
	}
	pass(1, n)
	if p.held() != c {
		t.Fatalf("after two passes of 1 the pool holds %d values, want %d", p.held(), c)
	}
	a := p.get(n)
	a[0] = 42
	p.put([][]float32{a}, a) // kept by the caller: not taken back
	if p.held() != 0 {
		t.Fatalf("an array the caller keeps went into the pool")
	}
	p.put(nil, a, a)
	if b := p.get(n - 7); &b[0] != &a[0] || len(b) != n-7 || p.held() != 0 {
		t.Fatal("the pool did not hand back its array, once, for a length of the same class")
	}
	if b := p.get(100); cap(b) != 100 {
		t.Errorf("a short array came from the pool (cap %d)", cap(b))
	}
}
