package model

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/olc-toolkit/olc/internal/atomicfile"
)

// File names of a model folder, as in a Hugging Face model repository.
const (
	ConfigFile  = "config.json"
	WeightsFile = "model.safetensors"
)

// Save writes the model folder dir: config.json and model.safetensors
// with the reference parameter names (float32 models as F32, float64 as
// F64, so that a round trip is exact). Both files are written through
// synced temporary files renamed into place.
func (m *Model[T]) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	cfg, err := m.Config.JSON()
	if err != nil {
		return err
	}
	tensors := map[string]Tensor{}
	for _, p := range m.params {
		switch w := any(p.W).(type) {
		case []float32:
			tensors[p.Name] = F32Tensor(p.Shape, w)
		case []float64:
			tensors[p.Name] = F64Tensor(p.Shape, w)
		}
	}
	if err := WriteSafetensorsFile(filepath.Join(dir, WeightsFile), tensors, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, ConfigFile), cfg); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// A LoadError lists everything wrong between a checkpoint and the model
// its config describes.
type LoadError struct {
	File       string
	Missing    []string
	Unexpected []string
	Mismatched []string // "name: shape [a b] in the file, [c d] expected"
}

func (e *LoadError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("missing %d tensor(s): %s", len(e.Missing), strings.Join(e.Missing, ", ")))
	}
	if len(e.Unexpected) > 0 {
		parts = append(parts, fmt.Sprintf("unexpected %d tensor(s): %s", len(e.Unexpected), strings.Join(e.Unexpected, ", ")))
	}
	if len(e.Mismatched) > 0 {
		parts = append(parts, strings.Join(e.Mismatched, "; "))
	}
	return fmt.Sprintf("%s does not fit its config: %s", e.File, strings.Join(parts, "; "))
}

// isHead reports whether a parameter belongs to a task head, which a
// checkpoint trained for another task lacks (a base model has no
// qa_outputs; a QA model no lm_head).
func isHead(name string) bool {
	return strings.HasPrefix(name, "qa_outputs.") || strings.HasPrefix(name, "lm_head.")
}

// canonical strips the prefixes checkpoints put before the reference
// names, and says whether the tensor is one to ignore (the pooler, the
// position-id buffer, the tied decoder's copy of the word embeddings).
func canonical(name string) (string, bool) {
	for _, p := range []string{"longformer.", "roberta."} {
		name = strings.TrimPrefix(name, p)
	}
	switch {
	case strings.HasPrefix(name, "pooler."), strings.HasSuffix(name, "position_ids"), name == "lm_head.decoder.weight":
		return name, false
	case name == "lm_head.decoder.bias":
		return "lm_head.bias", true
	}
	return name, true
}

// LoadTensors sets the model's weights from checkpoint tensors. Every
// encoder tensor must be present with the expected shape and a
// floating-point dtype; heads may be missing (they keep their values and
// are returned). Anything else is a *LoadError that lists every problem.
func (m *Model[T]) LoadTensors(file string, tensors map[string]Tensor) (missingHeads []string, err error) {
	le := &LoadError{File: file}
	seen := map[string]bool{}
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, raw := range names {
		name, keep := canonical(raw)
		if !keep {
			continue
		}
		p := m.byName[name]
		if p == nil {
			le.Unexpected = append(le.Unexpected, raw)
			continue
		}
		t := tensors[raw]
		seen[name] = true // present, if perhaps wrong: not also "missing"
		if !slices.Equal(t.Shape, p.Shape) {
			le.Mismatched = append(le.Mismatched, fmt.Sprintf("%s: shape %v in the file, %v expected", raw, t.Shape, p.Shape))
			continue
		}
		var conv error
		switch w := any(p.W).(type) {
		case []float32:
			var v []float32
			if v, conv = t.Float32s(); conv == nil {
				copy(w, v)
			}
		case []float64:
			var v []float64
			if v, conv = t.Float64s(); conv == nil {
				copy(w, v)
			}
		}
		if conv != nil {
			le.Mismatched = append(le.Mismatched, fmt.Sprintf("%s: %v", raw, conv))
		}
	}
	// The decoder of the masked-LM head is the word embeddings (tied);
	// a checkpoint whose decoder differs would be read wrongly.
	var dec, word *Tensor
	for raw, tt := range tensors {
		switch name, _ := canonical(raw); name {
		case "lm_head.decoder.weight":
			dec = &tt
		case "embeddings.word_embeddings.weight":
			word = &tt
		}
	}
	if dec != nil && word != nil && (dec.DType != word.DType || !slices.Equal(dec.Shape, word.Shape) || !bytes.Equal(dec.Data, word.Data)) {
		le.Mismatched = append(le.Mismatched, "lm_head.decoder.weight differs from embeddings.word_embeddings.weight: olc's masked-LM head decodes with the word embeddings (tie_word_embeddings); an untied decoder is not supported")
	}
	for _, p := range m.params {
		if seen[p.Name] {
			continue
		}
		if isHead(p.Name) {
			missingHeads = append(missingHeads, p.Name)
			continue
		}
		le.Missing = append(le.Missing, p.Name)
	}
	if len(le.Missing)+len(le.Unexpected)+len(le.Mismatched) > 0 {
		return missingHeads, le
	}
	return missingHeads, nil
}

// A Head is a task head on top of the encoder, named by its tensors'
// prefix in checkpoints.
type Head string

// The heads.
const (
	// HeadQA is LongformerForQuestionAnswering's span head (qa_outputs).
	HeadQA Head = "qa_outputs"
	// HeadLM is LongformerForMaskedLM's language-model head (lm_head).
	HeadLM Head = "lm_head"
)

// describe names a head for messages.
func (h Head) describe() string {
	switch h {
	case HeadQA:
		return "question-answering head (qa_outputs)"
	case HeadLM:
		return "masked-LM head (lm_head)"
	}
	return string(h)
}

// LoadOptions say which heads a caller will use.
type LoadOptions struct {
	// Heads are the heads the caller will use: a checkpoint without one
	// is refused with a *MissingHeadError, unless FreshHeads.
	Heads []Head
	// FreshHeads lets needed heads the checkpoint lacks start from BERT's
	// initialization (seed 0), for training a new head on a pretrained
	// encoder; Load returns their names.
	FreshHeads bool
}

// A MissingHeadError is returned by Load when a checkpoint lacks a head
// the caller needs and did not ask for a fresh one: its values would be
// random.
type MissingHeadError struct {
	Dir  string
	Head Head
}

func (e *MissingHeadError) Error() string {
	return fmt.Sprintf("%s: the checkpoint has no %s; use a checkpoint with one, or start a new head by training from this one (train.init)", e.Dir, e.Head.describe())
}

// Load reads a model folder (config.json and model.safetensors, or
// pytorch_model.bin when there is no safetensors file). Every
// encoder tensor must be in the checkpoint; of the heads, those in
// opts.Heads must be too, unless opts.FreshHeads, in which case those it
// lacks start from BERT's initialization from seed 0 and are returned.
// Heads the caller does not use may be missing: they are initialized, never
// read.
func Load[T Float](dir string, opts LoadOptions) (*Model[T], []string, error) {
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, nil, err
	}
	// model.safetensors, else pytorch_model.bin (read, never executed).
	path := filepath.Join(dir, WeightsFile)
	tensors, _, err := ReadSafetensorsFile(path)
	if errors.Is(err, os.ErrNotExist) {
		path = filepath.Join(dir, PytorchFile)
		tensors, err = ReadPytorchFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("load model: no %s or %s in %s", WeightsFile, PytorchFile, dir)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load model: %w", err)
	}
	m := New[T](*cfg)
	m.Init(0)
	missing, err := m.LoadTensors(path, tensors)
	if err != nil {
		return nil, nil, err
	}
	var fresh []string
	for _, h := range opts.Heads {
		var lacks []string
		for _, name := range missing {
			if strings.HasPrefix(name, string(h)+".") {
				lacks = append(lacks, name)
			}
		}
		if len(lacks) == 0 {
			continue
		}
		if !opts.FreshHeads {
			return nil, nil, &MissingHeadError{Dir: dir, Head: h}
		}
		fresh = append(fresh, lacks...)
	}
	return m, fresh, nil
}
