package train

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestGenerateTask: every task's answers sit at their offsets (the SQuAD
// validation passes), contexts have about the asked length, needles sit
// at the asked depth, and the same seed gives the same data.
func TestGenerateTask(t *testing.T) {
	for _, task := range Tasks {
		spec := SynthSpec{Task: task, Lengths: [][2]int{{512, 512}, {2048, 2048}}, Depths: []float64{0, 0.5, 1}, N: 4, Seed: 3}
		f, err := GenerateTask(spec)
		if err != nil {
			t.Fatalf("%s: %v", task, err)
		}
		ex, bad := Flatten(f)
		if len(bad) > 0 || len(ex) != 2*3*4 {
			t.Fatalf("%s: %d examples, invalid %v", task, len(ex), bad)
		}
		for _, e := range ex {
			m := e.Meta
			if m == nil || m.Task != task {
				t.Fatalf("%s: meta %+v", task, m)
			}
			if l := len(e.Context); l > m.Nominal+64 || l < m.Nominal*3/4 {
				t.Errorf("%s: context of %d bytes for length %d", task, l, m.Nominal)
			}
			pos := float64(e.Spans[0][0]) / float64(len(e.Context))
			if task != "kv" && task != "niah-multikey" && math.Abs(pos-m.Depth) > 0.15 {
				t.Errorf("%s: answer at %.2f of the context for depth %g", task, pos, m.Depth)
			}
			if m.Distance != e.Spans[0][0]+3 {
				t.Errorf("%s: distance %d, answer at byte %d", task, m.Distance, e.Spans[0][0])
			}
		}
		g, _ := GenerateTask(spec)
		if !reflect.DeepEqual(f, g) {
			t.Errorf("%s: the same seed gave different data", task)
		}
		spec.Seed = 4
		if h, _ := GenerateTask(spec); reflect.DeepEqual(f, h) {
			t.Errorf("%s: another seed gave the same data", task)
		}
	}
	// The multi-key question asks for one of several distinct needles.
	f, _ := GenerateTask(SynthSpec{Task: "niah-multikey", Lengths: [][2]int{{1024, 1024}}, N: 1, Keys: 5, Seed: 1})
	if n := strings.Count(f.Data[0].Paragraphs[0].Context, "special magic number"); n != 5 {
		t.Errorf("niah-multikey with 5 keys has %d needles", n)
	}
	for _, bad := range []SynthSpec{
		{Task: "nope", Lengths: [][2]int{{512, 512}}, N: 1},
		{Task: "passkey", Lengths: [][2]int{{10, 10}}, N: 1},
		{Task: "passkey", Lengths: [][2]int{{512, 512}}, N: 0},
		{Task: "passkey", Lengths: [][2]int{{512, 512}}, N: 1, Depths: []float64{1.5}},
	} {
		if _, err := GenerateTask(bad); err == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
}

// TestReadSQuADValidation: a wrong answer_start is reported by id, and
// --skip-invalid leaves it out; character offsets count code points.
func TestReadSQuADValidation(t *testing.T) {
	f := &SQuAD{Version: "v2.0", Data: []Article{{Paragraphs: []Paragraph{{
		Context: "Née à Paris, elle a 3 chats.",
		QAs: []Question{
			{ID: "ok", Question: "Où ?", Answers: []Answer{{Text: "Paris", AnswerStart: 6}}},
			{ID: "off", Question: "Combien ?", Answers: []Answer{{Text: "3", AnswerStart: 5}}},
			{ID: "none", Question: "Quoi ?", IsImpossible: true},
			{ID: "ok", Question: "dup", Answers: []Answer{{Text: "elle", AnswerStart: 13}}},
		},
	}}}}}
	dir := t.TempDir()
	path := dir + "/d.json"
	if err := WriteSQuAD(path, f); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := ReadSQuAD(path, false)
	de, ok := err.(*DataError)
	if !ok || len(de.Items) != 2 || de.Items[0].ID != "off" || de.Items[1].ID != "ok" || !strings.Contains(err.Error(), `reads " ", not "3"`) {
		t.Fatalf("error %v", err)
	}
	ex, _, skipped, err := ReadSQuAD(path, true)
	if err != nil || len(ex) != 2 || len(skipped) != 2 {
		t.Fatalf("skip-invalid: %d examples, %d skipped, %v", len(ex), len(skipped), err)
	}
	if c := ex[0].Context; c[ex[0].Spans[0][0]:ex[0].Spans[0][1]] != "Paris" {
		t.Errorf("byte span %v", ex[0].Spans[0])
	}
}
