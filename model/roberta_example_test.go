package model_test

import (
	"fmt"
	"log"

	"github.com/olc-toolkit/olc/model"
)

// A model folder's RoBERTa tokenizer: the pair a question-answering model
// reads, with character offsets into each text.
func ExampleLoadTokenizer() {
	tok, err := model.LoadTokenizer("testdata/roberta") // tokenizer.json, or vocab.json + merges.txt
	if err != nil {
		log.Fatal(err)
	}
	question, context := "Who?", "Beltagy et al., 2020 🎉"
	e, ctxStart := model.EncodePair(tok, question, context)
	fmt.Println(e.IDs)
	fmt.Println(model.CharOffsets(context, e.Offsets[ctxStart:]))
	fmt.Printf("%q\n", tok.Decode(e.IDs))
	// Output:
	// [0 1203 115 67 2 2 70 2124 367 125 2127 439 1543 1164 1242 36 244 163 146 141 2]
	// [[0 1] [1 4] [4 6] [6 7] [8 10] [11 13] [13 15] [16 18] [18 20] [21 21] [21 22] [21 22] [21 22] [21 22] [0 0]]
	// "Who?Beltagy et al., 2020 🎉"
}
