package model

import (
	"math/rand/v2"
	"testing"
)

// benchmarkAttention times the banded attention kernel over n tokens, 4
// heads of 64, window 256, no global tokens: the forward pass, or with
// train a training forward pass and the backward pass.
func benchmarkAttention(b *testing.B, n int, train bool) {
	rng := rand.New(rand.NewPCG(1, 1))
	D := 256
	r := func() []float32 {
		x := make([]float32, n*D)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	in := &AttnInput[float32]{Q: r(), K: r(), V: r(), N: n, Heads: 4, HeadDim: 64, HalfWindow: 128, Mask: make([]int8, n)}
	in.QG, in.KG, in.VG = in.Q, in.K, in.V
	for i := range in.Mask {
		in.Mask[i] = MaskLocal
	}
	out := make([]float32, n*D)
	b.ReportAllocs()
	b.SetBytes(int64(n)) // "MB/s" reads as millions of tokens per second
	b.ResetTimer()
	for range b.N {
		c := Attention(in, out, train)
		if train {
			AttentionBackward(in, c, out)
		}
	}
}

func BenchmarkAttention1k(b *testing.B)          { benchmarkAttention(b, 1<<10, false) }
func BenchmarkAttention4k(b *testing.B)          { benchmarkAttention(b, 1<<12, false) }
func BenchmarkAttention16k(b *testing.B)         { benchmarkAttention(b, 1<<14, false) }
func BenchmarkAttentionBackward4k(b *testing.B)  { benchmarkAttention(b, 1<<12, true) }
func BenchmarkAttentionBackward16k(b *testing.B) { benchmarkAttention(b, 1<<14, true) }

// benchmarkForward times a forward pass (train selects the training
// path, which keeps activations, plus the backward pass) of the benchmark
// config: hidden 256, 4 heads, window 256, 2 layers.
func benchmarkForward(b *testing.B, n int, train bool) {
	c := DefaultConfig()
	c.VocabSize, c.HiddenSize, c.NumAttentionHeads, c.NumHiddenLayers, c.IntermediateSize = 260, 256, 4, 2, 1024
	c.AttentionWindow = Windows{PerLayer: []int{256}, Scalar: true}
	c.MaxPositionEmbeddings = n + 2
	c.HiddenDropoutProb = 0
	m := New[float32](c)
	m.Init(1)
	ids := make([]int, n)
	for i := range ids {
		ids[i] = 4 + i%256
	}
	b.ReportAllocs()
	b.SetBytes(int64(n))
	b.ResetTimer()
	for range b.N {
		st, err := m.Forward(ids, nil, Options{Train: train})
		if err != nil {
			b.Fatal(err)
		}
		if train {
			_, dh, _ := m.QALoss(st, 1, 2)
			m.Backward(st, dh)
		}
	}
}

func BenchmarkForward1k(b *testing.B)         { benchmarkForward(b, 1<<10, false) }
func BenchmarkForward4k(b *testing.B)         { benchmarkForward(b, 1<<12, false) }
func BenchmarkForwardBackward1k(b *testing.B) { benchmarkForward(b, 1<<10, true) }
func BenchmarkForwardBackward4k(b *testing.B) { benchmarkForward(b, 1<<12, true) }
