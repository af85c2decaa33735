package train

import (
	"fmt"

	"github.com/olc-toolkit/olc/model"
)

// Dataset is a source of question-answering examples, so that a
// researcher's own data plugs into the trainer and the evaluation.
type Dataset interface {
	// Split returns the examples of a split: "train" or "eval" (nil when
	// the data set has no such split).
	Split(name string) ([]Example, error)
}

// SQuADFiles is a Dataset of SQuAD-format files.
type SQuADFiles struct {
	Train, Eval string
	// SkipInvalid leaves invalid questions out instead of failing.
	SkipInvalid bool
}

// Split implements Dataset.
func (s SQuADFiles) Split(name string) ([]Example, error) {
	path := s.Train
	if name == "eval" {
		path = s.Eval
	}
	if path == "" {
		return nil, nil
	}
	ex, _, _, err := ReadSQuAD(path, s.SkipInvalid)
	return ex, err
}

// Synthetic is a Dataset of a synthetic task: the train split from Spec,
// the eval split from EvalSpec (another seed: held-out examples).
type Synthetic struct {
	Spec, EvalSpec SynthSpec
}

// Split implements Dataset.
func (s Synthetic) Split(name string) ([]Example, error) {
	spec := s.Spec
	if name == "eval" {
		spec = s.EvalSpec
	}
	f, err := GenerateTask(spec)
	if err != nil {
		return nil, err
	}
	ex, bad := Flatten(f)
	if len(bad) > 0 {
		return nil, fmt.Errorf("train: synthetic %s: %v", spec.Task, bad[0])
	}
	return ex, nil
}

// FromDataset tokenizes a data set's splits into training windows and
// evaluation examples.
func FromDataset(ds Dataset, tok model.Tokenizer, w Window) (*Data, error) {
	train, err := ds.Split("train")
	if err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, fmt.Errorf("train: the data set has no training examples")
	}
	eval, err := ds.Split("eval")
	if err != nil {
		return nil, err
	}
	d := &Data{Window: w, EvalEx: eval}
	for i := range train {
		fs, err := MakeFeatures(tok, &train[i], i, w)
		if err != nil {
			return nil, err
		}
		d.Feats = append(d.Feats, fs...)
	}
	return d, nil
}
