package train

import (
	"fmt"
	"strings"

	"github.com/olc-toolkit/olc/model"
)

// Model is what the trainer, the evaluation and the question answering
// need of a model, so that a researcher's own model plugs in. Parameters
// are float32 tensors with their gradients.
type Model interface {
	// QALogits runs inference on one input and returns its start and end
	// logits.
	QALogits(ids []int, mask []int8) (start, end []float32, err error)
	// QAGrad runs a training pass (dropout drawn from seed) on one input
	// with its answer's token span, adds the gradients of the loss to the
	// parameters' and returns the loss.
	QAGrad(ids []int, mask []int8, start, end int, seed uint64) (float64, error)
	// MLMLoss returns the mean masked-LM cross-entropy over the positions
	// with a label ≥ 0, and their number; with train it runs a training
	// pass (dropout from seed) and adds the gradients.
	MLMLoss(ids []int, mask []int8, labels []int, train bool, seed uint64) (float64, int, error)
	// Params lists the parameters, in a fixed order.
	Params() []*model.Param[float32]
	// Replica returns a model sharing these weights, with gradients of its
	// own, for data-parallel training.
	Replica() Model
	// Save writes the model folder dir.
	Save(dir string) error
	// MaxTokens is the longest input.
	MaxTokens() int
}

// A ThreadSetter is a [Model] whose passes can be held to a number of
// goroutines; the [Trainer] sets it so that its replicas share the cores
// of train.threads without changing GOMAXPROCS.
type ThreadSetter interface {
	SetThreads(n int)
}

// Longformer adapts *model.Model[float32] to Model.
type Longformer struct {
	M *model.Model[float32]
	// Checkpoint turns on gradient checkpointing.
	Checkpoint bool
	// FreshHeads names the head tensors LoadLongformer started afresh
	// because the checkpoint lacked them.
	FreshHeads []string
	// Tok is the tokenizer of the folder it was loaded from
	// (model.FolderTokenizer): the byte tokenizer for a model olc trained
	// from scratch.
	Tok model.Tokenizer
	// Source is the folder it was loaded from; Save copies its tokenizer
	// files.
	Source string
}

var _ Model = (*Longformer)(nil)

// PrecisionSetter is a model whose matrix products can run in another
// precision (train.precision).
type PrecisionSetter interface {
	SetPrecision(p string) error
}

// SetPrecision implements PrecisionSetter.
func (l *Longformer) SetPrecision(p string) error { return l.M.SetPrecision(model.Precision(p)) }

// SetThreads implements ThreadSetter: each pass runs its kernels on n
// goroutines (GOMAXPROCS when 0).
func (l *Longformer) SetThreads(n int) { l.M.Threads = n }

// QALogits implements Model.
func (l *Longformer) QALogits(ids []int, mask []int8) ([]float32, []float32, error) {
	st, err := l.M.Forward(ids, mask, model.Options{})
	if err != nil {
		return nil, nil, err
	}
	s, e := l.M.QALogits(st)
	return s, e, nil
}

// QAGrad implements Model.
func (l *Longformer) QAGrad(ids []int, mask []int8, start, end int, seed uint64) (float64, error) {
	st, err := l.M.Forward(ids, mask, model.Options{Train: true, Checkpoint: l.Checkpoint, Seed: seed})
	if err != nil {
		return 0, err
	}
	loss, dh, err := l.M.QALoss(st, start, end)
	if err != nil {
		return 0, err
	}
	if _, err := l.M.Backward(st, dh); err != nil {
		return 0, err
	}
	return float64(loss), nil
}

// MLMLoss implements Model.
func (l *Longformer) MLMLoss(ids []int, mask []int8, labels []int, train bool, seed uint64) (float64, int, error) {
	st, err := l.M.Forward(ids, mask, model.Options{Train: train, Checkpoint: train && l.Checkpoint, Seed: seed})
	if err != nil {
		return 0, 0, err
	}
	loss, count, dh, err := l.M.MLMLoss(st, labels)
	if err != nil || !train {
		return float64(loss), count, err
	}
	if count > 0 {
		if _, err := l.M.Backward(st, dh); err != nil {
			return 0, 0, err
		}
	}
	return float64(loss), count, nil
}

// Params implements Model.
func (l *Longformer) Params() []*model.Param[float32] { return l.M.Params() }

// Replica implements Model.
func (l *Longformer) Replica() Model { return &Longformer{M: l.M.Replica(), Checkpoint: l.Checkpoint} }

// Save implements Model.
func (l *Longformer) Save(dir string) error {
	if err := l.M.Save(dir); err != nil {
		return err
	}
	if l.Source != "" {
		if err := model.CopyTokenizer(l.Source, dir); err != nil {
			return fmt.Errorf("save model: %w", err)
		}
	}
	return nil
}

// MaxTokens implements Model.
func (l *Longformer) MaxTokens() int { return l.M.Config.MaxTokens() }

// LoadLongformer loads a model folder (config.json, model.safetensors)
// for the task whose head is given (model.HeadQA, model.HeadLM). A
// checkpoint without that head is an error unless fresh, which starts a
// new head (for training one on a pretrained encoder); so is, for
// question answering without fresh, a checkpoint whose config says it
// was trained for another task (its head would be untrained).
func LoadLongformer(dir string, head model.Head, fresh bool) (*Longformer, error) {
	m, freshHeads, err := model.Load[float32](dir, model.LoadOptions{Heads: []model.Head{head}, FreshHeads: fresh})
	if err != nil {
		return nil, err
	}
	if trained, known := m.Config.TrainedFor(model.ArchQA); head == model.HeadQA && !fresh && known && !trained {
		return nil, fmt.Errorf("%s was trained for %s, not question answering: its question-answering head is untrained (train one with train.task = \"qa\")", dir, strings.Join(m.Config.Architectures, ", "))
	}
	tok, err := model.FolderTokenizer(dir, &m.Config)
	if err != nil {
		return nil, err
	}
	return &Longformer{M: m, FreshHeads: freshHeads, Tok: tok, Source: dir}, nil
}
