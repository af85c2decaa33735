package model

// Group is a group of parameters and their count.
type Group struct {
	Name   string `json:"name"`
	Params int    `json:"params"`
}

// Groups counts the parameters of a model for cfg by group: embeddings,
// the layers' attention (local projections and output; global
// projections) and feed-forward blocks, and the heads.
func Groups(cfg Config) []Group {
	d, I, V, L := cfg.HiddenSize, cfg.IntermediateSize, cfg.VocabSize, cfg.NumHiddenLayers
	ln := 0
	if cfg.LayerNorm {
		ln = 2 * d
	}
	lin := func(in, out int) int { return in*out + out }
	var out []Group
	add := func(name string, n int) {
		if n > 0 {
			out = append(out, Group{name, n})
		}
	}
	add("embeddings", (V+cfg.MaxPositionEmbeddings+cfg.TypeVocabSize)*d+ln)
	add("attention (local projections, output, LayerNorm)", L*(4*lin(d, d)+ln))
	if cfg.GlobalAttention && cfg.SeparateGlobalProjections {
		add("attention (global projections)", L*3*lin(d, d))
	}
	if cfg.FeedForward {
		add("feed-forward (with its LayerNorm)", L*(lin(d, I)+lin(I, d)+ln))
	}
	add("question-answering head", lin(d, 2))
	add("masked-LM head (decoder tied to the word embeddings)", lin(d, d)+2*d+V)
	return out
}

// Memory is an estimate of the bytes a pass over one sequence needs.
type Memory struct {
	// SeqLen and Globals describe the sequence.
	SeqLen  int `json:"seq_len"`
	Globals int `json:"globals"`
	// Params is the weights' size.
	Params int64 `json:"params_bytes"`
	// Inference is the weights plus the buffers of the inference path.
	Inference int64 `json:"inference_bytes"`
	// Training adds the gradients, AdamW's two moments, every layer's
	// activations and attention probabilities, and the backward pass's
	// working set.
	Training int64 `json:"training_bytes"`
	// TrainingCheckpointed keeps only each layer's input, plus one
	// layer's activations during the backward pass.
	TrainingCheckpointed int64 `json:"training_checkpointed_bytes"`
}

// EstimateMemory estimates the memory of a forward pass and of training
// over n tokens, g of them global, with elements of elem bytes (4 for
// float32), counting the arrays the implementation allocates.
func EstimateMemory(cfg Config, n, g, elem int) Memory {
	d, I, H := int64(cfg.HiddenSize), int64(cfg.IntermediateSize), int64(cfg.NumAttentionHeads)
	N, G := int64(n), int64(g)
	P := int64(0)
	for _, gr := range Groups(cfg) {
		P += int64(gr.Params)
	}
	layer := func(l int) int64 { // floats of one layer's cache
		w := int64(cfg.Window(l))
		f := 3 * N * d // q, k, v
		if cfg.GlobalAttention && cfg.SeparateGlobalProjections {
			f += 3 * N * d
		}
		f += 2 * N * d // attention output, h1
		if cfg.LayerNorm {
			f += N*d + 2*N
		}
		if cfg.FeedForward {
			f += 2*N*I + N*d // u, f, h2
			if cfg.LayerNorm {
				f += N*d + 2*N
			}
		}
		if cfg.HiddenDropoutProb > 0 {
			f += 2 * N * d
		}
		return f + H*N*(w+1)
	}
	probs := func(l int) int64 { return H*N*(int64(cfg.Window(l))+1) + 2*H*N*G }
	maxLayer, all := int64(0), int64(0)
	for l := range cfg.NumHiddenLayers {
		maxLayer = max(maxLayer, layer(l)+probs(l))
		all += layer(l) + probs(l)
	}
	emb := 3 * N * d
	back := 6*N*d + 2*N*I // the backward pass's gradients of one layer
	e := int64(elem)
	// The inference path reuses six n·d buffers (three more with global
	// tokens and separate global projections) and one chunk of the
	// feed-forward block.
	inferAct := 6*N*d + int64(inferChunk)*I
	if g > 0 && cfg.GlobalAttention && cfg.SeparateGlobalProjections {
		inferAct += 3 * N * d
	}
	return Memory{
		SeqLen: n, Globals: g, Params: P * e,
		Inference:            (P + inferAct) * e,
		Training:             (4*P + emb + all + back) * e,
		TrainingCheckpointed: (4*P + emb + int64(cfg.NumHiddenLayers)*N*d + maxLayer + back) * e,
	}
}
