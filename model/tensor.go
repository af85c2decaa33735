package model

import "gorgonia.org/tensor"

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
