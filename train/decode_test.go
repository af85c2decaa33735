package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDecoderBruteForce checks Best against enumerating every span of
// every window, and its probability against the explicit softmax.
func TestDecoderBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 20 {
		var fs []Feature
		var lg [][2][]float32
		for k := range 1 + rng.IntN(3) {
			n := 3 + rng.IntN(12)
			f := Feature{CtxStart: 4}
			for i := range n {
				f.Offsets = append(f.Offsets, [2]int{100*k + i, 100*k + i + 1})
			}
			s, e := make([]float32, n+5), make([]float32, n+5)
			for i := range s {
				s[i], e[i] = float32(rng.NormFloat64()*2), float32(rng.NormFloat64()*2)
			}
			fs, lg = append(fs, f), append(lg, [2][]float32{s, e})
		}
		d := Decoder{MaxAnswerLen: 4, AllowNoAnswer: trial%2 == 0}
		got := d.Best(fs, lg)
		best, bs, be, bk := math.Inf(-1), 0, 0, 0
		null, nk := math.Inf(1), 0
		z := make([]float64, len(fs)) // each window's softmax denominator
		for k, f := range fs {
			s, e := lg[k][0], lg[k][1]
			nv := float64(s[0]) + float64(e[0])
			if nv < null {
				null, nk = nv, k
			}
			if d.AllowNoAnswer {
				z[k] += math.Exp(nv)
			}
			for i := range f.Offsets {
				for j := i; j < len(f.Offsets) && j < i+4; j++ {
					v := float64(s[4+i]) + float64(e[4+j])
					z[k] += math.Exp(v)
					if v > best {
						best, bs, be, bk = v, f.Offsets[i][0], f.Offsets[j][1], k
					}
				}
			}
		}
		if d.AllowNoAnswer && null > best {
			if !got.NoAnswer || math.Abs(got.Prob-math.Exp(null)/z[nk]) > 1e-9 {
				t.Fatalf("trial %d: want no answer (prob %g), got %+v", trial, math.Exp(null)/z[nk], got)
			}
			continue
		}
		if got.NoAnswer || got.Start != bs || got.End != be || math.Abs(got.Score-best) > 1e-9 || math.Abs(got.Prob-math.Exp(best)/z[bk]) > 1e-9 {
			t.Fatalf("trial %d: got %+v, want [%d, %d) score %g prob %g", trial, got, bs, be, best, math.Exp(best)/z[bk])
		}
	}
}

// TestDecoderSkipCutSpans: two windows overlap over "key 40917 end";
// the second starts inside the number, and its logits favour the cut "917"
// at its first token. The reference decoding takes it; SkipCutSpans takes
// the whole number from the first window.
func TestDecoderSkipCutSpans(t *testing.T) {
	doc := "key 40917 end"
	win := func(lo, hi int) Feature {
		f := Feature{CtxStart: 2}
		for i := lo; i < hi; i++ {
			f.Offsets = append(f.Offsets, [2]int{i, i + 1})
		}
		return f
	}
	w1, w2 := win(0, 9), win(6, 13) // w1 ends after "40917"; w2 starts at "917"
	logits := func(f Feature, s, e int, v float32) [2][]float32 {
		st, en := make([]float32, len(f.Offsets)+3), make([]float32, len(f.Offsets)+3)
		st[f.CtxStart+s], en[f.CtxStart+e] = v, v
		return [2][]float32{st, en}
	}
	fs := []Feature{w1, w2}
	lg := [][2][]float32{logits(w1, 4, 8, 5), logits(w2, 0, 2, 6)}
	ref := Decoder{}.Best(fs, lg)
	if got := doc[ref.Start:ref.End]; got != "917" {
		t.Fatalf("reference decoding: %q", got)
	}
	// w1's span ends at its last token, which cuts the document too: with
	// SkipCutSpans, only a span inside both edges counts.
	lg[0] = logits(w1, 4, 8, 5)
	sk := Decoder{SkipCutSpans: true}.Best(fs, lg)
	if got := doc[sk.Start:sk.End]; got == "917" {
		t.Fatalf("SkipCutSpans took the cut span %q", got)
	}
	w1 = win(0, 10) // now w1 holds "40917 " whole, its cut edge after the blank
	fs[0] = w1
	lg[0] = logits(w1, 4, 8, 5)
	sk = Decoder{SkipCutSpans: true}.Best(fs, lg)
	if got := doc[sk.Start:sk.End]; got != "40917" || sk.Prob <= 0 || sk.Prob > 1 {
		t.Errorf("SkipCutSpans: %q (prob %g), want 40917", got, sk.Prob)
	}
	// One window covering the whole document has no cut edge.
	one := win(0, len(doc))
	sk = Decoder{SkipCutSpans: true}.Best([]Feature{one}, [][2][]float32{logits(one, 0, 2, 5)})
	if got := doc[sk.Start:sk.End]; got != "key" {
		t.Errorf("a single window: %q, want key", got)
	}
}
