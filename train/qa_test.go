package train

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/olc-toolkit/olc/model"
)

// digitModel is a Model whose QA head is known: it starts answers at the
// first digit of a run of digits and ends them at its last, and puts 5 on
// <s> (the no-answer score is 10). It tests the windowing and decoding of
// AnswerQuestion without training anything.
type digitModel struct{ max int }

func isDigitID(id int) bool { return id >= '0'+4 && id <= '9'+4 }

func (d digitModel) QALogits(ids []int, mask []int8) ([]float32, []float32, error) {
	s, e := make([]float32, len(ids)), make([]float32, len(ids))
	s[0], e[0] = 5, 5
	for i, id := range ids {
		if !isDigitID(id) {
			continue
		}
		if i == 0 || !isDigitID(ids[i-1]) {
			s[i] = 8
		}
		if i+1 == len(ids) || !isDigitID(ids[i+1]) {
			e[i] = 8
		}
	}
	return s, e, nil
}
func (d digitModel) QAGrad([]int, []int8, int, int, uint64) (float64, error) { return 0, nil }
func (d digitModel) MLMLoss([]int, []int8, []int, bool, uint64) (float64, int, error) {
	return 0, 0, nil
}
func (d digitModel) Params() []*model.Param[float32] { return nil }
func (d digitModel) Replica() Model                  { return d }
func (d digitModel) Save(string) error               { return nil }
func (d digitModel) MaxTokens() int                  { return d.max }

func TestAnswerQuestion(t *testing.T) {
	pre := strings.Repeat("Ça va très bien. ", 80) // multi-byte characters before the answer
	doc := pre + "The code is 31337. It opens the door. " + strings.Repeat("Nothing here. ", 60)
	a, err := AnswerQuestion(context.Background(), digitModel{max: 200}, model.ByteTokenizer{}, doc, "What is the code?", QAOptions{Stride: 40, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if a.NoAnswer || a.Answer != "31337" {
		t.Fatalf("answer %+v", a)
	}
	runes := []rune(doc)
	if string(runes[a.Start:a.End]) != "31337" || a.Start != utf8.RuneCountInString(pre)+len("The code is ") {
		t.Errorf("character offsets [%d, %d) read %q", a.Start, a.End, string(runes[a.Start:a.End]))
	}
	if a.Context != "The code is 31337." {
		t.Errorf("context %q", a.Context)
	}
	if a.Windows < 10 || a.Confidence <= 0.5 || a.Confidence > 1 {
		t.Errorf("%d windows, confidence %g", a.Windows, a.Confidence)
	}
	// No digits: the no-answer score (10) beats every span (0).
	b, err := AnswerQuestion(context.Background(), digitModel{max: 200}, model.ByteTokenizer{}, strings.Repeat("No code. ", 100), "What is the code?", QAOptions{})
	if err != nil || !b.NoAnswer || b.Answer != "" {
		t.Errorf("no-answer case: %+v, %v", b, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := AnswerQuestion(ctx, digitModel{max: 200}, model.ByteTokenizer{}, doc, "What?", QAOptions{}); err == nil {
		t.Error("a cancelled context was ignored")
	}
	if _, err := AnswerQuestion(context.Background(), digitModel{max: 200}, model.ByteTokenizer{}, doc, " ", QAOptions{}); err == nil {
		t.Error("an empty question was accepted")
	}
}

func TestStripHTML(t *testing.T) {
	in := `<!DOCTYPE html><html><head><title>T</title><style>p{}</style></head><body>
<h1>Title</h1><p>First &amp; <b>bold</b> para.</p><script>var x = "<p>";</script><p>Second</p></body></html>`
	want := "Title\n\nFirst & bold para.\n\nSecond"
	if got := StripHTML(in); got != want {
		t.Errorf("StripHTML = %q, want %q", got, want)
	}
}
