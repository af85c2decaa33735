package model

import (
	"sort"
	"sync"
	"time"
)

// A Profile accumulates the wall time and floating-point operations of a
// model's operations (projections, attention, feed-forward, GELU,
// residual and LayerNorm, forward and backward), for a roofline: set
// Model.Profile, run passes, read Ops. Operations run one after another
// (each on all of a pass's goroutines), so their times add up to the
// pass's, less what no operation covers (embeddings, heads, loss).
type Profile struct {
	mu  sync.Mutex
	ops map[string]*OpTime
}

// OpTime is one operation's total over the passes profiled.
type OpTime struct {
	Op      string  `json:"op"`
	Seconds float64 `json:"seconds"`
	// FLOPs counts multiply-adds as two; 0 for element-wise operations,
	// which are bound by memory, not arithmetic.
	FLOPs float64 `json:"flops"`
	Calls int     `json:"calls"`
}

// NewProfile returns an empty profile.
func NewProfile() *Profile { return &Profile{ops: map[string]*OpTime{}} }

func (p *Profile) add(op string, secs, flops float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.ops[op]
	if o == nil {
		o = &OpTime{Op: op}
		p.ops[op] = o
	}
	o.Seconds += secs
	o.FLOPs += flops
	o.Calls++
}

// Ops returns the operations, the longest first.
func (p *Profile) Ops() []OpTime {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]OpTime, 0, len(p.ops))
	for _, o := range p.ops {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Seconds != out[j].Seconds {
			return out[i].Seconds > out[j].Seconds
		}
		return out[i].Op < out[j].Op
	})
	return out
}

// Operation names of a Profile.
const (
	OpProjections     = "projections"
	OpAttention       = "attention"
	OpFeedForward     = "feed-forward matmuls"
	OpGELU            = "GELU"
	OpNorm            = "residual + LayerNorm"
	OpProjectionsBack = "projections (backward)"
	OpAttentionBack   = "attention (backward)"
	OpFeedForwardBack = "feed-forward matmuls (backward)"
	OpGELUBack        = "GELU (backward)"
	OpNormBack        = "residual + LayerNorm (backward)"
)

// timed runs f, adding its time and flops to m.Profile when there is one.
func (m *Model[T]) timed(op string, flops float64, f func()) {
	if m.Profile == nil {
		f()
		return
	}
	t0 := time.Now()
	f()
	m.Profile.add(op, time.Since(t0).Seconds(), flops)
}

// linearFLOPs counts a rows × in by in × out product.
func linearFLOPs(rows, in, out int) float64 { return 2 * float64(rows) * float64(in) * float64(out) }

// attnFLOPs counts layer l's attention over n tokens, g of them global,
// as ForwardFLOPs does.
func (m *Model[T]) attnFLOPs(l int, mask []int8) float64 {
	n, d := float64(len(mask)), float64(m.Config.HiddenSize)
	w := float64(m.Config.Window(l) / 2)
	f := 4 * n * (2*w + 1) * d
	g := 0
	for _, v := range mask {
		if v == MaskGlobal {
			g++
		}
	}
	if g > 0 && m.Config.GlobalAttention {
		f += 8 * n * float64(g) * d
	}
	return f
}
