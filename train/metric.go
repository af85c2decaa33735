package train

import (
	"strings"
	"unicode"
)

// NormalizeAnswer is the official SQuAD normalization: lower case, ASCII
// punctuation removed, the words a, an and the removed, white space
// collapsed.
func NormalizeAnswer(s string) string {
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		if r < 128 && strings.ContainsRune(asciiPunct, r) {
			return -1
		}
		return r
	}, s)
	s = removeArticles(s)
	return strings.Join(strings.Fields(s), " ")
}

const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// isWord is Python's \w for str patterns: Unicode letters and digits and
// the underscore.
func isWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r)
}

// removeArticles replaces every whole word a, an or the (word boundaries as
// Python's \b) with a space, as re.sub(r'\b(a|an|the)\b', ' ', s) does.
func removeArticles(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		if i == 0 || !isWord(rs[i-1]) {
			matched := 0
			for _, w := range []string{"a", "an", "the"} {
				wr := []rune(w)
				if i+len(wr) <= len(rs) && string(rs[i:i+len(wr)]) == w && (i+len(wr) == len(rs) || !isWord(rs[i+len(wr)])) {
					matched = len(wr)
					break
				}
			}
			if matched > 0 {
				b.WriteByte(' ')
				i += matched
				continue
			}
		}
		b.WriteRune(rs[i])
		i++
	}
	return b.String()
}

// ExactMatch is 1 when the normalized strings are equal, else 0.
func ExactMatch(prediction, gold string) float64 {
	if NormalizeAnswer(prediction) == NormalizeAnswer(gold) {
		return 1
	}
	return 0
}

// F1 is the official token-level F1 of a prediction against one gold
// answer (v2.0's rule for empty answers: 1 when both are empty, 0 when one
// is).
func F1(prediction, gold string) float64 {
	p, g := strings.Fields(NormalizeAnswer(prediction)), strings.Fields(NormalizeAnswer(gold))
	if len(p) == 0 || len(g) == 0 {
		if len(p) == len(g) {
			return 1
		}
		return 0
	}
	counts := map[string]int{}
	for _, t := range g {
		counts[t]++
	}
	same := 0
	for _, t := range p {
		if counts[t] > 0 {
			counts[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	prec, rec := float64(same)/float64(len(p)), float64(same)/float64(len(g))
	return 2 * prec * rec / (prec + rec)
}

// Scores are the official script's results, in percent. The HasAns and
// NoAns parts are set when the data has such questions.
type Scores struct {
	Exact       float64               `json:"exact"`
	F1          float64               `json:"f1"`
	Total       int                   `json:"total"`
	HasAnsExact *float64              `json:"HasAns_exact,omitempty"`
	HasAnsF1    *float64              `json:"HasAns_f1,omitempty"`
	HasAnsTotal *int                  `json:"HasAns_total,omitempty"`
	NoAnsExact  *float64              `json:"NoAns_exact,omitempty"`
	NoAnsF1     *float64              `json:"NoAns_f1,omitempty"`
	NoAnsTotal  *int                  `json:"NoAns_total,omitempty"`
	Missing     int                   `json:"missing_predictions"`
	PerQuestion map[string][2]float64 `json:"-"` // id → (exact, f1) in [0, 1]
}

// Evaluate scores predictions (question id → answer text, "" for no
// answer) against the examples as the official scripts do: per question
// the best exact match and F1 over the gold answers (the only gold answer
// of an unanswerable question is ""), averaged over every question, a
// missing prediction counting 0. v2 adds the HasAns/NoAns parts; it is
// set for v2.0 data (or any data with unanswerable questions).
func Evaluate(examples []Example, predictions map[string]string, v2 bool) Scores {
	var s Scores
	s.PerQuestion = map[string][2]float64{}
	var hasE, hasF, noE, noF float64
	var hasN, noN int
	for _, ex := range examples {
		golds := []string{""}
		if !ex.IsImpossible {
			golds = golds[:0]
			for _, a := range ex.Answers {
				if NormalizeAnswer(a.Text) != "" {
					golds = append(golds, a.Text)
				}
			}
			if len(golds) == 0 { // as the v2.0 script: answers that normalize to nothing count as ""
				golds = []string{""}
			}
		}
		pred, ok := predictions[ex.ID]
		var em, f1 float64
		if ok {
			for _, g := range golds {
				em = max(em, ExactMatch(pred, g))
				f1 = max(f1, F1(pred, g))
			}
		} else {
			s.Missing++
		}
		s.PerQuestion[ex.ID] = [2]float64{em, f1}
		s.Exact += em
		s.F1 += f1
		s.Total++
		if ex.IsImpossible {
			noE, noF, noN = noE+em, noF+f1, noN+1
		} else {
			hasE, hasF, hasN = hasE+em, hasF+f1, hasN+1
		}
	}
	pct := func(x float64, n int) *float64 { v := 100 * x / float64(n); return &v }
	if s.Total > 0 {
		s.Exact, s.F1 = 100*s.Exact/float64(s.Total), 100*s.F1/float64(s.Total)
	}
	if v2 && hasN > 0 {
		s.HasAnsExact, s.HasAnsF1, s.HasAnsTotal = pct(hasE, hasN), pct(hasF, hasN), &hasN
	}
	if v2 && noN > 0 {
		s.NoAnsExact, s.NoAnsF1, s.NoAnsTotal = pct(noE, noN), pct(noF, noN), &noN
	}
	return s
}
