package train_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/train"
	"github.com/olc-toolkit/olc/train/traintest"
)

func TestAnswerQuestion(t *testing.T) {
	pre := strings.Repeat("Ça va très bien. ", 80) // multi-byte characters before the answer
	doc := pre + "The code is 31337. It opens the door. " + strings.Repeat("Nothing here. ", 60)
	a, err := train.AnswerQuestion(context.Background(), traintest.DigitModel{Max: 200}, model.ByteTokenizer{}, doc, "What is the code?", train.QAOptions{Stride: 40, Threads: 2})
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
	b, err := train.AnswerQuestion(context.Background(), traintest.DigitModel{Max: 200}, model.ByteTokenizer{}, strings.Repeat("No code. ", 100), "What is the code?", train.QAOptions{})
	if err != nil || !b.NoAnswer || b.Answer != "" {
		t.Errorf("no-answer case: %+v, %v", b, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := train.AnswerQuestion(ctx, traintest.DigitModel{Max: 200}, model.ByteTokenizer{}, doc, "What?", train.QAOptions{}); err == nil {
		t.Error("a cancelled context was ignored")
	}
	if _, err := train.AnswerQuestion(context.Background(), traintest.DigitModel{Max: 200}, model.ByteTokenizer{}, doc, " ", train.QAOptions{}); err == nil {
		t.Error("an empty question was accepted")
	}
}

func TestStripHTML(t *testing.T) {
	in := `<!DOCTYPE html><html><head><title>T</title><style>p{}</style></head><body>
<h1>Title</h1><p>First &amp; <b>bold</b> para.</p><script>var x = "<p>";</script><p>Second</p></body></html>`
	want := "Title\n\nFirst & bold para.\n\nSecond"
	if got := train.StripHTML(in); got != want {
		t.Errorf("StripHTML = %q, want %q", got, want)
	}
}
