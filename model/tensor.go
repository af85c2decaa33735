package model

import (
	"fmt"
	"slices"

	"gorgonia.org/tensor"
)

// The package's boundary speaks gorgonia.org/tensor: these views share
// memory with the model (no copy), so a caller can read activations and
// parameters, or write weights, as tensors, while the hot loops work on
// the backing slices.

// HiddenTensor returns the final hidden states as an n × hidden_size
// tensor backed by the state's memory.
func (s *State[T]) HiddenTensor() *tensor.Dense {
	return tensor.New(tensor.WithShape(s.N, len(s.Hidden)/max(s.N, 1)), tensor.WithBacking(s.Hidden))
}

// Tensor returns the parameter's values as a tensor of its shape, backed
// by the parameter's memory.
func (p *Param[T]) Tensor() *tensor.Dense {
	return tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.W))
}

// GradTensor returns the parameter's gradient as a tensor of its shape,
// backed by the gradient's memory.
func (p *Param[T]) GradTensor() *tensor.Dense {
	return tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.G))
}

// IDsFromTensor reads token ids from a one-dimensional integer tensor
// (Int, Int64 or Int32), for Forward.
func IDsFromTensor(t *tensor.Dense) ([]int, error) {
	if t.Dims() != 1 {
		return nil, errShape("token ids", t.Shape())
	}
	switch d := t.Data().(type) {
	case []int:
		return append([]int(nil), d...), nil
	case []int64:
		out := make([]int, len(d))
		for i, v := range d {
			out[i] = int(v)
		}
		return out, nil
	case []int32:
		out := make([]int, len(d))
		for i, v := range d {
			out[i] = int(v)
		}
		return out, nil
	}
	return nil, errDType(t.Dtype().String())
}

// ForwardTensor is Forward with tensors: ids is a one-dimensional integer
// tensor of token ids; mask, which may be nil (every token local), a
// one-dimensional integer tensor of MaskPad, MaskLocal and MaskGlobal
// values. The state's HiddenTensor is the output.
func (m *Model[T]) ForwardTensor(ids, mask *tensor.Dense, opts Options) (*State[T], error) {
	x, err := IDsFromTensor(ids)
	if err != nil {
		return nil, err
	}
	var mk []int8
	if mask != nil {
		v, err := IDsFromTensor(mask)
		if err != nil {
			return nil, fmt.Errorf("model: attention mask: %w", err)
		}
		mk = make([]int8, len(v))
		for i, b := range v {
			if b < int(MaskPad) || b > int(MaskGlobal) {
				return nil, fmt.Errorf("model: attention mask[%d] = %d: must be 0 (padding), 1 (local) or 2 (global)", i, b)
			}
			mk[i] = int8(b)
		}
	}
	return m.Forward(x, mk, opts)
}

// BackwardTensor is Backward with tensors: dHidden is the n × hidden_size
// gradient of the final hidden states (of the model's element type); the
// result is the gradient of the input embeddings, of the same shape.
func (m *Model[T]) BackwardTensor(st *State[T], dHidden *tensor.Dense) (*tensor.Dense, error) {
	d := m.Config.HiddenSize
	if !dHidden.Shape().Eq(tensor.Shape{st.N, d}) {
		return nil, fmt.Errorf("model: the hidden states' gradient must have shape (%d, %d), not %v", st.N, d, dHidden.Shape())
	}
	g, ok := dHidden.Data().([]T)
	if !ok {
		return nil, fmt.Errorf("model: the hidden states' gradient must be %T, not %s", g, dHidden.Dtype())
	}
	demb, err := m.Backward(st, slices.Clone(g))
	if err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(st.N, d), tensor.WithBacking(demb)), nil
}
