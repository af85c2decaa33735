// Package qafixture reads model/testdata/parity/qa-pipeline, the
// question-answering pipeline fixture that pipeline.py writes with
// transformers' own code, for the tests of every package that answers
// questions with it.
package qafixture

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Window is one window the pipeline read: its tokens and logits.
type Window struct {
	InputIDs    []int     `json:"input_ids"`
	StartLogits []float64 `json:"start_logits"`
	EndLogits   []float64 `json:"end_logits"`
}

// Answer is the pipeline's answer: its score, character offsets into the
// context and text.
type Answer struct {
	Score      float64
	Start, End int
	Answer     string
}

// Case is one question over one context.
type Case struct {
	Question, Context string
	Windows           []Window
	Answer            Answer
}

// Load returns the fixture's folder (absolute) and its cases.
func Load(t testing.TB) (string, []Case) {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("qafixture: no caller information")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "model", "testdata", "parity", "qa-pipeline")
	data, err := os.ReadFile(filepath.Join(dir, "outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct{ Cases []Case }
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 4 {
		t.Fatalf("qafixture: %d cases", len(ref.Cases))
	}
	return dir, ref.Cases
}
