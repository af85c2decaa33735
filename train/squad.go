package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/olc-toolkit/olc/internal/bom"

	"github.com/olc-toolkit/olc/internal/atomicfile"
)

// SQuAD is a SQuAD-format file (v1.1 or v2.0): the format of SQuAD,
// TriviaQA-in-SQuAD-form and of the synthetic tasks.
type SQuAD struct {
	Version string    `json:"version"`
	Data    []Article `json:"data"`
}

// Article is a titled list of paragraphs.
type Article struct {
	Title      string      `json:"title"`
	Paragraphs []Paragraph `json:"paragraphs"`
}

// Paragraph is a context and the questions about it.
type Paragraph struct {
	Context string     `json:"context"`
	QAs     []Question `json:"qas"`
}

// Question is one question with its gold answers; in v2.0 an
// unanswerable question has IsImpossible set and no answers.
type Question struct {
	ID           string   `json:"id"`
	Question     string   `json:"question"`
	Answers      []Answer `json:"answers"`
	IsImpossible bool     `json:"is_impossible,omitempty"`
	// Meta carries a synthetic task's coordinates (context length, needle
	// depth), for accuracy tables; absent in SQuAD itself.
	Meta *Meta `json:"olc_meta,omitempty"`
}

// Meta describes where a synthetic example's needle sits.
type Meta struct {
	Task   string `json:"task"`
	Length int    `json:"length"` // context length in bytes
	// Nominal is the length asked for (the context is cut at a word
	// boundary, so Length may be a little less).
	Nominal int     `json:"nominal_length"`
	Depth   float64 `json:"depth"` // the needle's position as a fraction of the context
	// Distance is the needle's distance in bytes from the end of the
	// question in the encoded pair (question first), which decides
	// whether local attention alone can connect the two.
	Distance int `json:"distance"`
}

// Answer is a gold answer: its text and its start in the context as a
// character (Unicode code point) offset, as in the official files.
type Answer struct {
	Text        string `json:"text"`
	AnswerStart int    `json:"answer_start"`
}

// Example is one question with its context, flattened from a SQuAD file,
// with the answers' byte offsets into the context.
type Example struct {
	ID, Question, Context string
	Answers               []Answer
	// Spans are the answers' byte ranges [start, end) in Context.
	Spans        [][2]int
	IsImpossible bool
	Meta         *Meta
}

// ItemError is one invalid item of a SQuAD file.
type ItemError struct {
	ID  string
	Msg string
}

func (e ItemError) Error() string { return fmt.Sprintf("question %q: %s", e.ID, e.Msg) }

// DataError lists a file's invalid items.
type DataError struct {
	File  string
	Items []ItemError
}

func (e *DataError) Error() string {
	s := fmt.Sprintf("%s: %d invalid question(s)", e.File, len(e.Items))
	for i, it := range e.Items {
		if i == 10 {
			s += fmt.Sprintf("\n  … and %d more", len(e.Items)-10)
			break
		}
		s += "\n  " + it.Error()
	}
	return s + "\n(pass --skip-invalid to leave them out and go on)"
}

// ReadSQuAD reads a SQuAD-format file and flattens it into examples. Every
// answer_start must point at its text in the context (in characters, as
// the official files count); the invalid items are returned in a
// *DataError, and with skipInvalid they are left out instead and listed in
// skipped.
func ReadSQuAD(path string, skipInvalid bool) (examples []Example, version string, skipped []ItemError, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("read data: %w", err)
	}
	var f SQuAD
	if err := json.Unmarshal(bom.Trim(data), &f); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, "", nil, fmt.Errorf("%s: not valid JSON at byte %d: %w", path, se.Offset, err)
		}
		return nil, "", nil, fmt.Errorf("%s: not a SQuAD-format file: %w", path, err)
	}
	if f.Data == nil {
		return nil, "", nil, fmt.Errorf("%s: not a SQuAD-format file: no \"data\" list", path)
	}
	examples, bad := Flatten(&f)
	if len(bad) > 0 && !skipInvalid {
		return nil, "", nil, &DataError{File: path, Items: bad}
	}
	return examples, f.Version, bad, nil
}

// Flatten validates a SQuAD file and returns its valid examples and the
// invalid items.
func Flatten(f *SQuAD) ([]Example, []ItemError) {
	var out []Example
	var bad []ItemError
	seen := map[string]bool{}
	for _, a := range f.Data {
		for _, p := range a.Paragraphs {
			// Code point offsets → byte offsets.
			byteAt := make([]int, 0, len(p.Context)+1)
			for i := range p.Context {
				byteAt = append(byteAt, i)
			}
			byteAt = append(byteAt, len(p.Context))
			for _, q := range p.QAs {
				ex := Example{ID: q.ID, Question: q.Question, Context: p.Context, Answers: q.Answers, IsImpossible: q.IsImpossible, Meta: q.Meta}
				msg := ""
				switch {
				case q.ID == "":
					msg = "no id"
				case seen[q.ID]:
					msg = "duplicate id"
				case !utf8.ValidString(p.Context) || !utf8.ValidString(q.Question):
					msg = "not valid UTF-8"
				case q.IsImpossible && len(q.Answers) > 0:
					msg = "is_impossible with answers"
				case !q.IsImpossible && len(q.Answers) == 0:
					msg = "no answers (and not is_impossible)"
				}
				for k, ans := range q.Answers {
					if msg != "" {
						break
					}
					n := utf8.RuneCountInString(ans.Text)
					if ans.AnswerStart < 0 || ans.AnswerStart+n >= len(byteAt) {
						msg = fmt.Sprintf("answer %d: answer_start %d is outside the context (%d characters)", k, ans.AnswerStart, len(byteAt)-1)
						break
					}
					s, e := byteAt[ans.AnswerStart], byteAt[ans.AnswerStart+n]
					if p.Context[s:e] != ans.Text {
						msg = fmt.Sprintf("answer %d: the context at answer_start %d reads %q, not %q", k, ans.AnswerStart, p.Context[s:e], ans.Text)
						break
					}
					ex.Spans = append(ex.Spans, [2]int{s, e})
				}
				if q.ID != "" {
					seen[q.ID] = true
				}
				if msg != "" {
					bad = append(bad, ItemError{ID: q.ID, Msg: msg})
					continue
				}
				out = append(out, ex)
			}
		}
	}
	return out, bad
}

// WriteSQuAD writes a SQuAD-format file atomically.
func WriteSQuAD(path string, f *SQuAD) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}
