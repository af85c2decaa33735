package train

import (
	"context"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/olc-toolkit/olc/internal/bom"

	"github.com/olc-toolkit/olc/internal/parallel"
	"github.com/olc-toolkit/olc/model"
)

// QAOptions set how a document is covered and answers decoded.
type QAOptions struct {
	// ContextLength is the model input length in tokens (the model's
	// maximum when 0).
	ContextLength int
	// Stride is the overlap of consecutive windows in tokens; when 0, 256
	// or half the document tokens a window holds, whichever is less. A
	// stride that leaves windows no room to advance is an error.
	Stride int
	// MaxAnswerLen bounds answers, in tokens (30 when 0).
	MaxAnswerLen int
	// NullThreshold: the answer is "no answer" when the no-answer score
	// beats the best span's by more than this.
	NullThreshold float64
	// Global puts global attention on the question (as the QA models are
	// trained).
	Global bool
	// Threads windows run at a time (1 when 0).
	Threads int
	// Pipeline answers as transformers' question-answering pipeline does
	// with a fast tokenizer (PipelineBest): windows of min(the tokenizer's
	// model_max_length, 384) tokens overlapping by min(half that, 128),
	// the question never truncated, answers of at most 15 tokens scored
	// by the product of start and end probabilities within their window,
	// widened to whole words; no "no answer". The options above that are
	// set override its defaults. For checkpoints that come with a Hugging
	// Face tokenizer.
	Pipeline bool
}

// QAAnswer is the answer to a question over a document.
type QAAnswer struct {
	Answer     string  `json:"answer"`
	Confidence float64 `json:"confidence"`
	// Context is the sentence (or sentences) of the document around the
	// answer.
	Context string `json:"context"`
	// Start and End are character (code point) offsets of the answer in
	// the document's text.
	Start    int  `json:"start"`
	End      int  `json:"end"`
	NoAnswer bool `json:"no_answer"`
	// Score is the best span's start + end logit; NullScore the no-answer
	// score.
	Score          float64 `json:"score"`
	NullScore      float64 `json:"null_score"`
	Windows        int     `json:"windows"`
	ProcessingTime float64 `json:"processing_time"` // seconds
}

// AnswerQuestion answers a question over a document of any length: the document
// is cut into windows of the context length overlapping by the stride,
// each window is read with the question, and the best span over all
// windows wins, unless the no-answer score wins (SQuAD v2.0 style). It
// stops when ctx is done.
func AnswerQuestion(ctx context.Context, m Model, tok model.Tokenizer, doc, question string, o QAOptions) (*QAAnswer, error) {
	t0 := time.Now()
	if strings.TrimSpace(question) == "" {
		return nil, fmt.Errorf("the question is empty")
	}
	if strings.TrimSpace(doc) == "" {
		return nil, fmt.Errorf("the document is empty")
	}
	n := o.ContextLength
	if n == 0 || n > m.MaxTokens() {
		if n > m.MaxTokens() {
			return nil, fmt.Errorf("context length %d exceeds the model's %d tokens", n, m.MaxTokens())
		}
		n = m.MaxTokens()
	}
	w := Window{MaxLen: n, Stride: o.Stride, Global: o.Global}
	q := len(tok.Encode(question).IDs)
	room := n - min(q, 64) - 4
	if o.Pipeline {
		if o.ContextLength == 0 {
			w.MaxLen = PipelineWindow(m, tok)
		}
		if o.Stride == 0 {
			w.Stride = min(w.MaxLen/2, 128)
		}
		w.Global, w.MaxQuestion = true, 1<<30
		room = w.MaxLen - q - 4
		if room <= w.Stride {
			return nil, fmt.Errorf("a %d-token question leaves %d tokens of a %d-token window for the document, not more than the stride of %d: use a shorter question or a smaller --stride", q, max(room, 0), w.MaxLen, w.Stride)
		}
	}
	if room < 16 {
		return nil, fmt.Errorf("a %d-token context leaves no room for the document after the question", w.MaxLen)
	}
	switch {
	case w.Stride == 0:
		w.Stride = min(256, room/2)
	case w.Stride >= room:
		return nil, fmt.Errorf("a stride of %d tokens must be less than the %d document tokens a %d-token window holds after the question: windows would not advance", w.Stride, room, w.MaxLen)
	}
	ex := Example{ID: "q", Question: question, Context: doc}
	feats, err := MakeFeatures(tok, &ex, 0, w)
	if err != nil {
		return nil, err
	}
	logits := make([][2][]float32, len(feats))
	errs := make([]error, len(feats))
	parallel.ForN(max(1, o.Threads), len(feats), func(k int) {
		if errs[k] = ctx.Err(); errs[k] != nil {
			return
		}
		s, e, err := m.QALogits(feats[k].IDs, feats[k].Mask)
		logits[k], errs[k] = [2][]float32{s, e}, err
	})
	if err := firstError(errs); err != nil {
		return nil, err
	}
	if o.Pipeline {
		a := &QAAnswer{Windows: len(feats), NullScore: math.Inf(1)}
		for k := range feats {
			a.NullScore = math.Min(a.NullScore, float64(logits[k][0][0]+logits[k][1][0]))
		}
		maxLen := o.MaxAnswerLen
		if maxLen == 0 {
			maxLen = 15
		}
		pa, ok := PipelineBest(feats, logits, maxLen)
		if !ok {
			a.NoAnswer = true
		} else {
			a.Answer = doc[pa.Start:pa.End]
			a.Start = utf8.RuneCountInString(doc[:pa.Start])
			a.End = a.Start + utf8.RuneCountInString(a.Answer)
			a.Context = sentenceAround(doc, pa.Start, pa.End)
			a.Confidence = pa.Score
			a.Score = pa.Logits
		}
		a.ProcessingTime = time.Since(t0).Seconds()
		return a, nil
	}
	sp := Decoder{MaxAnswerLen: o.MaxAnswerLen, AllowNoAnswer: true, NullThreshold: o.NullThreshold, SkipCutSpans: true}.Best(feats, logits)
	a := &QAAnswer{Confidence: sp.Prob, Score: sp.Score, NullScore: sp.NullScore, Windows: len(feats), NoAnswer: sp.NoAnswer}
	if !sp.NoAnswer {
		a.Answer = doc[sp.Start:sp.End]
		a.Start = utf8.RuneCountInString(doc[:sp.Start])
		a.End = a.Start + utf8.RuneCountInString(a.Answer)
		a.Context = sentenceAround(doc, sp.Start, sp.End)
	}
	a.ProcessingTime = time.Since(t0).Seconds()
	return a, nil
}

// PipelineWindow is the window of QAOptions.Pipeline, as transformers'
// pipeline sets max_seq_len: min(the tokenizer's model_max_length, 384),
// and at most the model's longest input.
func PipelineWindow(m Model, tok model.Tokenizer) int {
	n := min(m.MaxTokens(), 384)
	if r, ok := tok.(*model.Roberta); ok && r.MaxLength > 0 {
		n = min(n, r.MaxLength)
	}
	return n
}

// sentenceAround returns the sentence(s) of text holding bytes [s, e):
// from after the previous sentence end (". ", "! ", "? " or a blank line)
// to the next one, trimmed, at most about 400 bytes on each side.
func sentenceAround(text string, s, e int) string {
	lo := s
	for lo > 0 && s-lo < 400 {
		if lo >= 2 && (strings.HasPrefix(text[lo-2:], ". ") || strings.HasPrefix(text[lo-2:], "! ") || strings.HasPrefix(text[lo-2:], "? ") || strings.HasPrefix(text[lo-2:], "\n\n")) {
			break
		}
		lo--
	}
	hi := e
	for hi < len(text) && hi-e < 400 {
		if c := text[hi]; c == '.' || c == '!' || c == '?' {
			if hi+1 == len(text) || text[hi+1] == ' ' || text[hi+1] == '\n' {
				hi++
				break
			}
		}
		if strings.HasPrefix(text[hi:], "\n\n") {
			break
		}
		hi++
	}
	// Keep whole UTF-8 characters.
	for lo > 0 && !utf8.RuneStart(text[lo]) {
		lo--
	}
	for hi < len(text) && !utf8.RuneStart(text[hi]) {
		hi++
	}
	return strings.TrimSpace(text[lo:hi])
}

var (
	reDropBlock = regexp.MustCompile(`(?is)<(script|style|head|noscript)\b.*?</(script|style|head|noscript)\s*>`)
	reBlockTag  = regexp.MustCompile(`(?i)</?(p|div|br|li|ul|ol|h[1-6]|tr|table|section|article|blockquote|pre|hr)\b[^>]*>`)
	reTag       = regexp.MustCompile(`(?s)<!--.*?-->|<[^>]*>`)
	reSpaces    = regexp.MustCompile(`[ \t\r\f\v]+`)
	reBlank     = regexp.MustCompile(`\n\s*\n\s*`)
)

// StripHTML returns an HTML document's text: scripts, styles and the head
// dropped, block elements turned into paragraph breaks, other tags
// removed, entities decoded, white space collapsed.
func StripHTML(s string) string {
	s = reDropBlock.ReplaceAllString(s, " ")
	s = reBlockTag.ReplaceAllString(s, "\n\n")
	s = reTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = reSpaces.ReplaceAllString(s, " ")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	s = reBlank.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.TrimSpace(s)
}

// ReadDocument reads a document for question answering: plain text and
// Markdown as they are (answers' offsets point into the file), HTML
// (.html, .htm, or content starting with a tag) as its text (offsets point
// into that text). It must be UTF-8.
func ReadDocument(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read document: %w", err)
	}
	b = bom.Trim(b)
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%s: not UTF-8 text", path)
	}
	s := string(b)
	ext := strings.ToLower(filepath.Ext(path))
	head := strings.ToLower(strings.TrimSpace(s[:min(len(s), 100)]))
	if ext == ".html" || ext == ".htm" || strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html") {
		return StripHTML(s), nil
	}
	return s, nil
}
