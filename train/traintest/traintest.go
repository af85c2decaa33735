// Package traintest holds models for tests of code that answers
// questions with a [train.Model], as net/http/httptest does for servers.
package traintest

import (
	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/train"
)

// DigitModel is a train.Model whose question-answering head is known, for
// the byte tokenizer: it starts an answer at the first digit of each run
// of digits (logit 8) and ends it at the run's last, and puts 5 on <s> (a
// no-answer score of 10), so a window with digits answers its run of
// digits and a window without answers nothing. It trains nothing.
type DigitModel struct {
	// Max is the longest input.
	Max int
}

var _ train.Model = DigitModel{}

func isDigitID(id int) bool { return id >= '0'+4 && id <= '9'+4 }

// QALogits implements train.Model.
func (d DigitModel) QALogits(ids []int, mask []int8) ([]float32, []float32, error) {
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

// QAGrad implements train.Model: it learns nothing.
func (d DigitModel) QAGrad([]int, []int8, int, int, uint64) (float64, error) { return 0, nil }

// MLMLoss implements train.Model: it has no language-model head.
func (d DigitModel) MLMLoss([]int, []int8, []int, bool, uint64) (float64, int, error) {
	return 0, 0, nil
}

// Params implements train.Model: it has none.
func (d DigitModel) Params() []*model.Param[float32] { return nil }

// Replica implements train.Model.
func (d DigitModel) Replica() train.Model { return d }

// Save implements train.Model: there is nothing to save.
func (d DigitModel) Save(string) error { return nil }

// MaxTokens implements train.Model.
func (d DigitModel) MaxTokens() int { return d.Max }
