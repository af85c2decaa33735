package serve_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/serve"
	"github.com/olc-toolkit/olc/train"
)

// passkeyDoc is a document of about n bytes (the byte tokenizer's tokens)
// with a pass key at the given fraction of its length.
func passkeyDoc(n int, depth float64, key string) string {
	filler := "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
	var b strings.Builder
	for float64(b.Len()) < depth*float64(n) {
		b.WriteString(filler)
	}
	b.WriteString("The pass key is " + key + ". Remember it. " + key + " is the pass key. ")
	for b.Len()+len(filler) <= n {
		b.WriteString(filler)
	}
	return b.String()
}

// TestTutorial is the documentation's flow with the tiny Longformer
// shipped under testdata (2 layers, hidden 64, global attention on the
// question, trained by olc train on pass keys in 256- to 4096-byte
// documents read in 512-token windows; testdata/passkey-model/README.md):
// register, log in, upload 4k-token documents as text, HTML and PDF, list
// them, and get each pass key back, the model's own answer.
func TestTutorial(t *testing.T) {
	lf, err := train.LoadLongformer("testdata/passkey-model", model.HeadQA, false)
	if err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, serve.Options{Model: lf, ModelPath: "testdata/passkey-model"})
	tok := ts.user("ada")
	docs := []struct {
		name string
		data []byte
		key  string
		kind string
	}{
		{"report.txt", []byte(passkeyDoc(4096, 0.6, "40917")), "40917", "text"},
		{"page.html", []byte("<!DOCTYPE html><html><head><script>var key = 11111;</script></head><body><p>" + passkeyDoc(4096, 0.3, "61093") + "</p></body></html>"), "61093", "html"},
		{"paper.pdf", makePDF(t, passkeyDoc(1800, 0.5, "73306"), passkeyDoc(1800, 0.9, "99999")[:600]), "73306", "pdf"},
	}
	for _, d := range docs {
		r, up := ts.upload(tok, d.name, d.data)
		if r.Status != 201 || up.Kind != d.kind || up.Filename != d.name {
			t.Fatalf("upload %s: %d %s", d.name, r.Status, r.Body)
		}
		var a struct {
			Answer, Context string
			Confidence      float64
			ProcessingTime  float64 `json:"processing_time"`
			ContextLength   int     `json:"context_length"`
			Note            string
		}
		r = ts.do("POST", "/api/v1/qa/ask", tok, map[string]any{"question": "What is the pass key?", "doc_id": up.DocID, "context_length": 512})
		r.json(t, &a)
		if r.Status != 200 || a.Answer != d.key || !strings.Contains(a.Context, d.key) || a.Confidence <= 0 || a.ProcessingTime <= 0 || a.ContextLength != 512 || a.Note != "" {
			t.Errorf("%s: %d %s", d.name, r.Status, r.Body)
		}
		// The server's answer is the model's own on the extracted text.
		_, text, err := serve.Extract(d.name, d.data)
		if err != nil {
			t.Fatal(err)
		}
		want, err := train.AnswerQuestion(context.Background(), lf, model.ByteTokenizer{}, text, "What is the pass key?", train.QAOptions{ContextLength: 512, Global: true})
		if err != nil || want.Answer != a.Answer || math.Abs(want.Confidence-a.Confidence) > 1e-9 {
			t.Errorf("%s: the server answered %q (%g), the model alone %q (%g)", d.name, a.Answer, a.Confidence, want.Answer, want.Confidence)
		}
	}
	var list struct {
		Documents []struct {
			DocID    string `json:"doc_id"`
			Filename string `json:"filename"`
		} `json:"documents"`
	}
	ts.do("GET", "/api/v1/documents", tok, nil).json(t, &list)
	if len(list.Documents) != 3 || list.Documents[0].Filename != "paper.pdf" {
		t.Errorf("list (newest first): %+v", list.Documents)
	}
}
