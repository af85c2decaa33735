package model

import (
	"fmt"
	"math/rand/v2"
	"runtime"
)

// A Param is one parameter tensor: its checkpoint name, shape, values W
// and gradient G (same length).
type Param[T Float] struct {
	Name  string
	Shape []int
	W, G  []T
}

// Size returns the number of elements.
func (p *Param[T]) Size() int { return len(p.W) }

// dense is a Linear layer: W (out × in) and B (out).
type dense[T Float] struct {
	W, B    *Param[T]
	In, Out int
}

// layer is one encoder layer's parameters. Absent parts (ablations) are
// nil.
type layer[T Float] struct {
	Q, K, V, QG, KG, VG dense[T]
	AttnOut             dense[T]
	LN1G, LN1B          *Param[T]
	Inter, Out          dense[T]
	LN2G, LN2B          *Param[T]
}

// Model is a Longformer with a question-answering head and a masked
// language-modelling head (tied to the word embeddings), over float32 or
// float64.
type Model[T Float] struct {
	Config  Config
	Word    *Param[T] // vocab × d
	Pos     *Param[T] // positions × d
	Type    *Param[T] // type_vocab × d
	EmbLNG  *Param[T]
	EmbLNB  *Param[T]
	Layers  []layer[T]
	QA      dense[T] // d → 2
	LMDense dense[T]
	LMLNG   *Param[T]
	LMLNB   *Param[T]
	LMBias  *Param[T] // vocab
	params  []*Param[T]
	byName  map[string]*Param[T]

	// Threads is how many goroutines one forward or backward pass runs
	// its kernels on; GOMAXPROCS when 0. Replicas copy it.
	Threads int
	// Profile, when set, times each operation of the passes (a
	// roofline: olc bench model).
	Profile *Profile
	// Precision is the arithmetic of the matrix products: float32 (or
	// float64, the model's own type) by default, or bfloat16 on the AMX
	// tile unit (SetPrecision checks it can run). Replicas copy it.
	Precision Precision

	bufs *bufPool[T] // arrays reused from one training pass to the next
}

// exec is how a pass runs its matrix products: on how many goroutines,
// and whether in bfloat16.
type exec struct {
	workers int
	bf16    bool
}

// bf16MinFLOPs is the smallest product that bf16 runs on the tile unit:
// below it, rounding and packing the factors costs more than the tile
// unit saves, and the product stays float32 (measured on passkey
// training, whose attention blocks of 64 queries × 128 keys × 32 values
// are 0.5 MFLOP: 21,700 tokens/s with them on the tile unit, 28,300
// without; longformer-base's are 2.6 MFLOP and faster on it).
const bf16MinFLOPs = 1 << 21

// tiles reports whether an m × n × k product runs on the tile unit.
func (e exec) tiles(m, n, k int) bool { return e.bf16 && 2*m*n*k >= bf16MinFLOPs }

func (m *Model[T]) exec() exec {
	return exec{workers: m.workers(), bf16: m.Precision == BF16}
}

// workers is the goroutines a pass's kernels use.
func (m *Model[T]) workers() int {
	if m.Threads > 0 {
		return m.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// New returns a model for cfg with every weight zero; Init or Load fill
// it. It panics on an invalid cfg (validate it first).
func New[T Float](cfg Config) *Model[T] {
	if err := cfg.Validate("config"); err != nil {
		panic("model: New: " + err.Error())
	}
	m := &Model[T]{Config: cfg, byName: map[string]*Param[T]{}, bufs: &bufPool[T]{}}
	d, I, V := cfg.HiddenSize, cfg.IntermediateSize, cfg.VocabSize
	m.Word = m.param("embeddings.word_embeddings.weight", V, d)
	m.Pos = m.param("embeddings.position_embeddings.weight", cfg.MaxPositionEmbeddings, d)
	m.Type = m.param("embeddings.token_type_embeddings.weight", cfg.TypeVocabSize, d)
	if cfg.LayerNorm {
		m.EmbLNG = m.param("embeddings.LayerNorm.weight", d)
		m.EmbLNB = m.param("embeddings.LayerNorm.bias", d)
	}
	for l := range cfg.NumHiddenLayers {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		var ly layer[T]
		ly.Q = m.dense(p+"attention.self.query", d, d)
		ly.K = m.dense(p+"attention.self.key", d, d)
		ly.V = m.dense(p+"attention.self.value", d, d)
		if cfg.GlobalAttention && cfg.SeparateGlobalProjections {
			ly.QG = m.dense(p+"attention.self.query_global", d, d)
			ly.KG = m.dense(p+"attention.self.key_global", d, d)
			ly.VG = m.dense(p+"attention.self.value_global", d, d)
		}
		ly.AttnOut = m.dense(p+"attention.output.dense", d, d)
		if cfg.LayerNorm {
			ly.LN1G = m.param(p+"attention.output.LayerNorm.weight", d)
			ly.LN1B = m.param(p+"attention.output.LayerNorm.bias", d)
		}
		if cfg.FeedForward {
			ly.Inter = m.dense(p+"intermediate.dense", d, I)
			ly.Out = m.dense(p+"output.dense", I, d)
			if cfg.LayerNorm {
				ly.LN2G = m.param(p+"output.LayerNorm.weight", d)
				ly.LN2B = m.param(p+"output.LayerNorm.bias", d)
			}
		}
		m.Layers = append(m.Layers, ly)
	}
	m.QA = m.dense("qa_outputs", d, 2)
	m.LMDense = m.dense("lm_head.dense", d, d)
	m.LMLNG = m.param("lm_head.layer_norm.weight", d)
	m.LMLNB = m.param("lm_head.layer_norm.bias", d)
	m.LMBias = m.param("lm_head.bias", V)
	return m
}

func (m *Model[T]) param(name string, shape ...int) *Param[T] {
	n := 1
	for _, s := range shape {
		n *= s
	}
	p := &Param[T]{Name: name, Shape: shape, W: make([]T, n), G: make([]T, n)}
	m.params = append(m.params, p)
	m.byName[name] = p
	return p
}

func (m *Model[T]) dense(name string, in, out int) dense[T] {
	return dense[T]{W: m.param(name+".weight", out, in), B: m.param(name+".bias", out), In: in, Out: out}
}

// Params returns every parameter tensor, in a fixed order.
func (m *Model[T]) Params() []*Param[T] { return m.params }

// Param returns the parameter called name, or nil.
func (m *Model[T]) Param(name string) *Param[T] { return m.byName[name] }

// NumParams returns the number of scalar parameters.
func (m *Model[T]) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Size()
	}
	return n
}

// ZeroGrad clears every gradient.
func (m *Model[T]) ZeroGrad() {
	for _, p := range m.params {
		clear(p.G)
	}
}

// Init fills the weights as BERT does: normal(0, 0.02) for weights and
// embeddings, zero biases, unit LayerNorm gains, and zero embedding rows
// for the padding id (word and position tables).
func (m *Model[T]) Init(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x10f0))
	for _, p := range m.params {
		switch {
		case hasSuffix(p.Name, "LayerNorm.weight"), hasSuffix(p.Name, "layer_norm.weight"):
			for i := range p.W {
				p.W[i] = 1
			}
		case hasSuffix(p.Name, ".bias") || p.Name == "lm_head.bias":
			clear(p.W)
		default:
			for i := range p.W {
				p.W[i] = T(0.02 * rng.NormFloat64())
			}
		}
	}
	d, pad := m.Config.HiddenSize, m.Config.PadTokenID
	clear(m.Word.W[pad*d : (pad+1)*d])
	clear(m.Pos.W[pad*d : (pad+1)*d])
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// Replica returns a model that shares m's weights and has gradients of
// its own, for data parallelism: replicas run forward and backward passes
// at the same time, and the trainer sums their gradients. Writing the
// weights of one writes them for all.
func (m *Model[T]) Replica() *Model[T] {
	r := New[T](m.Config)
	r.Threads = m.Threads
	r.Precision = m.Precision
	for i, p := range r.params {
		p.W = m.params[i].W
	}
	return r
}
