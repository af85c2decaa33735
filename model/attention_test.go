package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// denseAttention is the oracle: the Longformer's rules applied to the full
// n × n score matrix, written plainly.
func denseAttention(in *AttnInput[float64]) []float64 {
	n, H, dh, w2 := in.N, in.Heads, in.HeadDim, in.HalfWindow
	D := H * dh
	out := make([]float64, n*D)
	scale := 1 / math.Sqrt(float64(dh))
	for h := range H {
		for i := range n {
			if in.Mask[i] == MaskPad {
				continue
			}
			q, k, v := in.Q, in.K, in.V
			if in.Mask[i] == MaskGlobal {
				q, k, v = in.QG, in.KG, in.VG
			}
			scores := make([]float64, n)
			allowed := make([]bool, n)
			mx := math.Inf(-1)
			for j := range n {
				switch {
				case in.Mask[j] == MaskPad:
				case in.Mask[i] == MaskGlobal:
					allowed[j] = true
				case in.Mask[j] == MaskGlobal:
					allowed[j] = true
				case j-i <= w2 && i-j <= w2:
					allowed[j] = true
				}
				if !allowed[j] {
					continue
				}
				s := 0.0
				for d := range dh {
					s += q[i*D+h*dh+d] * k[j*D+h*dh+d]
				}
				scores[j] = s * scale
				mx = math.Max(mx, scores[j])
			}
			sum := 0.0
			for j := range n {
				if allowed[j] {
					scores[j] = math.Exp(scores[j] - mx)
					sum += scores[j]
				}
			}
			for j := range n {
				if !allowed[j] {
					continue
				}
				p := scores[j] / sum
				if in.Dropout > 0 {
					// Dropout on the probabilities, with the kernel's
					// decisions: the oracle checks where they are applied.
					if in.dropper().keep(h, i, j) {
						p /= 1 - in.Dropout
					} else {
						p = 0
					}
				}
				for d := range dh {
					out[i*D+h*dh+d] += p * v[j*D+h*dh+d]
				}
			}
		}
	}
	return out
}

func randomAttnInput(rng *rand.Rand, n, heads, dh, w2, globals, pad int, shared bool) *AttnInput[float64] {
	D := heads * dh
	r := func() []float64 {
		x := make([]float64, n*D)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		return x
	}
	in := &AttnInput[float64]{Q: r(), K: r(), V: r(), N: n, Heads: heads, HeadDim: dh, HalfWindow: w2, Mask: make([]int8, n)}
	if shared {
		in.QG, in.KG, in.VG = in.Q, in.K, in.V
	} else {
		in.QG, in.KG, in.VG = r(), r(), r()
	}
	for i := range in.Mask {
		in.Mask[i] = MaskLocal
	}
	for i := n - pad; i < n; i++ {
		in.Mask[i] = MaskPad
	}
	for range globals {
		in.Mask[rng.IntN(n-pad)] = MaskGlobal
	}
	return in
}

// TestAttentionMatchesDense checks the banded kernel against the dense
// oracle over random inputs, windows, lengths not a multiple of the
// window, global tokens at random positions and padding.
func TestAttentionMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct{ n, heads, dh, w2, globals, pad int }{
		{1, 1, 4, 1, 0, 0},
		{7, 2, 3, 2, 0, 0},
		{37, 2, 4, 4, 3, 5},
		{130, 3, 5, 8, 2, 17},
		{200, 2, 8, 16, 0, 9},
		{150, 1, 4, 64, 5, 0}, // window wider than the sequence
		{90, 2, 4, 3, 90, 0},  // every token global
	}
	for ci, c := range cases {
		for _, shared := range []bool{false, true} {
			in := randomAttnInput(rng, c.n, c.heads, c.dh, c.w2, c.globals, c.pad, shared)
			if ci%2 == 1 {
				in.Dropout, in.Seed, in.Stream = 0.3, uint64(ci), 7
			}
			in.block = []int{0, 4, 7}[ci%3] // several blocks of queries
			got := make([]float64, c.n*c.heads*c.dh)
			for i := range got {
				got[i] = math.NaN() // every element must be written
			}
			Attention(in, got, false)
			want := denseAttention(in)
			for i := range want {
				if d := math.Abs(got[i] - want[i]); d > 1e-10*math.Max(1, math.Abs(want[i])) || math.IsNaN(got[i]) {
					t.Fatalf("%+v shared=%v dropout=%g: element %d = %.15g, dense %.15g", c, shared, in.Dropout, i, got[i], want[i])
				}
			}
		}
	}
}

// TestAttentionBackward checks every input gradient against central finite
// differences of Σ out ⊙ R.
func TestAttentionBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, c := range []struct {
		n, heads, dh, w2, globals, pad int
		dropout                        float64
	}{
		{23, 2, 3, 3, 2, 4, 0},
		{16, 1, 4, 2, 0, 0, 0},
		{19, 2, 2, 4, 19, 2, 0},
		{23, 2, 3, 3, 2, 4, 0.25},
		{19, 2, 2, 4, 19, 2, 0.25},
		{41, 2, 3, 5, 3, 6, 0.2},
		{37, 1, 2, 2, 0, 3, 0},
	} {
		in := randomAttnInput(rng, c.n, c.heads, c.dh, c.w2, c.globals, c.pad, false)
		in.Dropout, in.Seed = c.dropout, 11
		in.block = c.n % 6 // several blocks of queries, some narrower than the window
		D := c.heads * c.dh
		r := make([]float64, c.n*D)
		for i := range r {
			r[i] = rng.NormFloat64()
		}
		loss := func() float64 {
			out := make([]float64, c.n*D)
			Attention(in, out, false)
			s := 0.0
			for i := range out {
				s += out[i] * r[i]
			}
			return s
		}
		out := make([]float64, c.n*D)
		cache := Attention(in, out, true)
		g := AttentionBackward(in, cache, r)
		for _, p := range []struct {
			name string
			x, g []float64
		}{{"Q", in.Q, g.Q}, {"K", in.K, g.K}, {"V", in.V, g.V}, {"QG", in.QG, g.QG}, {"KG", in.KG, g.KG}, {"VG", in.VG, g.VG}} {
			if p.g == nil { // no global tokens: no gradient
				p.g = make([]float64, len(p.x))
			}
			for i := range p.x {
				old := p.x[i]
				h := 1e-5
				p.x[i] = old + h
				fp := loss()
				p.x[i] = old - h
				fm := loss()
				p.x[i] = old
				fd := (fp - fm) / (2 * h)
				if math.Abs(fd-p.g[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
					t.Fatalf("%+v: d%s[%d] = %.10g, finite differences %.10g", c, p.name, i, p.g[i], fd)
				}
			}
		}
	}
}

// TestAttentionDropoutRate checks that the hash drops about the asked
// fraction of probabilities, differently for each seed and stream.
func TestAttentionDropoutRate(t *testing.T) {
	in := &AttnInput[float64]{N: 400, Dropout: 0.3, Seed: 1, Stream: 1000}
	other := *in
	other.Stream++
	d, o := in.dropper(), other.dropper()
	dropped, differ, total := 0, 0, 0
	for h := range 2 {
		for i := range in.N {
			for j := range in.N {
				k := d.keep(h, i, j)
				if !k {
					dropped++
				}
				if k != o.keep(h, i, j) {
					differ++
				}
				total++
			}
		}
	}
	// 320,000 draws: the standard error of the fraction is 8e-4.
	if f := float64(dropped) / float64(total); math.Abs(f-0.3) > 0.005 {
		t.Errorf("dropped fraction %.4f, want 0.3", f)
	}
	// Independent masks disagree on 2·0.3·0.7 = 42% of the draws.
	if f := float64(differ) / float64(total); math.Abs(f-0.42) > 0.005 {
		t.Errorf("streams disagree on %.4f of the draws, want 0.42", f)
	}
}
