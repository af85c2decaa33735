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
