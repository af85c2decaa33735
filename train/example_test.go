package train_test

import (
	"context"
	"fmt"

	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/train"
)

// memory is a researcher's own data set: examples built in code.
type memory struct{ train, eval []train.Example }

func (m memory) Split(name string) ([]train.Example, error) {
	if name == "eval" {
		return m.eval, nil
	}
	return m.train, nil
}

// A Dataset of your own goes through the same path as SQuAD files and the
// synthetic tasks: windows of the model's length, answers mapped to
// tokens.
func ExampleDataset() {
	ctx := "Ada Lovelace wrote the first program in 1843."
	ex := train.Example{ID: "q1", Question: "When?", Context: ctx,
		Answers: []train.Answer{{Text: "1843", AnswerStart: 40}}, Spans: [][2]int{{40, 44}}}
	data, err := train.FromDataset(memory{train: []train.Example{ex}}, model.ByteTokenizer{}, train.Window{MaxLen: 64, Global: true})
	if err != nil {
		panic(err)
	}
	f := data.Feats[0]
	fmt.Println(len(data.Feats), "window;", "answer tokens:", model.ByteTokenizer{}.Decode(f.IDs[f.Start:f.End+1]))
	// Output: 1 window; answer tokens: 1843
}

// yearModel is a model of your own: it answers with the first
// four-digit number. Any type with these methods trains with the trainer
// and answers with AnswerQuestion.
type yearModel struct{}

func digit(id int) bool { return id >= '0'+4 && id <= '9'+4 }

func (yearModel) QALogits(ids []int, mask []int8) ([]float32, []float32, error) {
	s, e := make([]float32, len(ids)), make([]float32, len(ids))
	for i := 1; i+3 < len(ids); i++ {
		if !digit(ids[i-1]) && digit(ids[i]) && digit(ids[i+3]) {
			s[i], e[i+3] = 10, 10
			break
		}
	}
	return s, e, nil
}
func (yearModel) QAGrad([]int, []int8, int, int, uint64) (float64, error) { return 0, nil }
func (yearModel) MLMLoss([]int, []int8, []int, bool, uint64) (float64, int, error) {
	return 0, 0, nil
}
func (yearModel) Params() []*model.Param[float32] { return nil }
func (m yearModel) Replica() train.Model          { return m }
func (yearModel) Save(string) error               { return nil }
func (yearModel) MaxTokens() int                  { return 512 }

// AnswerQuestion reads a document window by window with any Model.
func ExampleModel() {
	doc := "Charles Babbage designed the Analytical Engine. Ada Lovelace wrote the first program for it in 1843."
	a, err := train.AnswerQuestion(context.Background(), yearModel{}, model.ByteTokenizer{}, doc, "When was the first program written?", train.QAOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s [%d, %d): %s\n", a.Answer, a.Start, a.End, a.Context)
	// Output: 1843 [95, 99): Ada Lovelace wrote the first program for it in 1843.
}

// Evaluate scores predictions as the official SQuAD script does.
func ExampleEvaluate() {
	ex := []train.Example{
		{ID: "a", Answers: []train.Answer{{Text: "Denver Broncos"}}},
		{ID: "b", Answers: []train.Answer{{Text: "Santa Clara, California"}}},
	}
	s := train.Evaluate(ex, map[string]string{"a": "the Denver Broncos!", "b": "Santa Clara"}, false)
	fmt.Printf("exact %.1f f1 %.1f total %d\n", s.Exact, s.F1, s.Total)
	// Output: exact 50.0 f1 90.0 total 2
}
