package model

import (
	"fmt"

	"gorgonia.org/tensor"
)

// An Encoding is a tokenized text: token ids and, for each, the byte range
// [start, end) of the text it came from (special tokens have none: [0, 0)).
type Encoding struct {
	IDs     []int
	Offsets [][2]int
	// Words holds, for each token, the index of the word (pre-tokenizer
	// piece or added token) it belongs to, -1 for the special tokens put
	// around a text; nil when the tokenizer has no words (bytes).
	Words []int
}

// A Tokenizer maps text to token ids with byte offsets back into it.
type Tokenizer interface {
	// Encode tokenizes text without special tokens.
	Encode(text string) Encoding
	// Decode returns the text of ids, skipping special tokens.
	Decode(ids []int) string
	// VocabSize is the number of ids.
	VocabSize() int
	// Special ids.
	BOS() int
	PAD() int
	EOS() int
	Mask() int
}

// ByteTokenizer makes every byte a token, after four special tokens <s>
// (0), <pad> (1), </s> (2) and <mask> (3), the RoBERTa layout: byte b is id
// b+4, so the vocabulary has 260 ids. It is lossless on any byte string,
// valid UTF-8 or not, and needs no vocabulary file: the tokenizer for
// models trained from scratch.
type ByteTokenizer struct{}

var _ Tokenizer = ByteTokenizer{}

const byteOffset = 4

// Encode implements Tokenizer.
func (ByteTokenizer) Encode(text string) Encoding {
	e := Encoding{IDs: make([]int, len(text)), Offsets: make([][2]int, len(text))}
	for i := 0; i < len(text); i++ {
		e.IDs[i] = int(text[i]) + byteOffset
		e.Offsets[i] = [2]int{i, i + 1}
	}
	return e
}

// Decode implements Tokenizer.
func (ByteTokenizer) Decode(ids []int) string {
	b := make([]byte, 0, len(ids))
	for _, id := range ids {
		if id >= byteOffset && id < byteOffset+256 {
			b = append(b, byte(id-byteOffset))
		}
	}
	return string(b)
}

// VocabSize implements Tokenizer.
func (ByteTokenizer) VocabSize() int { return byteOffset + 256 }

// BOS implements Tokenizer.
func (ByteTokenizer) BOS() int { return 0 }

// PAD implements Tokenizer.
func (ByteTokenizer) PAD() int { return 1 }

// EOS implements Tokenizer.
func (ByteTokenizer) EOS() int { return 2 }

// Mask implements Tokenizer.
func (ByteTokenizer) Mask() int { return 3 }

// EncodeSingle encodes one text as the model reads it, <s> text </s>;
// the special tokens have no offsets and word -1.
func EncodeSingle(t Tokenizer, text string) Encoding {
	e := t.Encode(text)
	out := Encoding{IDs: make([]int, 0, len(e.IDs)+2), Offsets: make([][2]int, 0, len(e.IDs)+2)}
	out.IDs = append(append(append(out.IDs, t.BOS()), e.IDs...), t.EOS())
	out.Offsets = append(append(append(out.Offsets, [2]int{}), e.Offsets...), [2]int{})
	if e.Words != nil {
		out.Words = append(append(append(make([]int, 0, len(e.IDs)+2), -1), e.Words...), -1)
	}
	return out
}

// EncodePair encodes a question and a context as RoBERTa does,
// <s> question </s></s> context </s>, and returns the encoding and the
// index of the context's first token. Offsets of context tokens point into
// context.
func EncodePair(t Tokenizer, question, context string) (Encoding, int) {
	q, c := t.Encode(question), t.Encode(context)
	var e Encoding
	add := func(id int, off [2]int) {
		e.IDs = append(e.IDs, id)
		e.Offsets = append(e.Offsets, off)
	}
	if q.Words != nil && c.Words != nil {
		e.Words = append(e.Words, -1)
		e.Words = append(e.Words, q.Words...)
		e.Words = append(e.Words, -1, -1)
		e.Words = append(e.Words, c.Words...)
		e.Words = append(e.Words, -1)
	}
	add(t.BOS(), [2]int{})
	for i, id := range q.IDs {
		add(id, q.Offsets[i])
	}
	add(t.EOS(), [2]int{})
	add(t.EOS(), [2]int{})
	start := len(e.IDs)
	for i, id := range c.IDs {
		add(id, c.Offsets[i])
	}
	add(t.EOS(), [2]int{})
	return e, start
}

// GlobalMask returns the attention mask of a pair encoding: 2 (global) for
// every token before the first </s>, as the released QA models do, 1
// elsewhere. It panics when the encoding lacks </s>.
func GlobalMask(t Tokenizer, ids []int) []int8 {
	m := make([]int8, len(ids))
	first := -1
	for i, id := range ids {
		if id == t.EOS() {
			first = i
			break
		}
	}
	if first < 0 {
		panic(fmt.Sprintf("model: GlobalMask: no </s> (id %d) in the encoding", t.EOS()))
	}
	for i := range m {
		m[i] = 1
		if i < first {
			m[i] = 2
		}
	}
	return m
}

func errShape(what string, shape tensor.Shape) error {
	return fmt.Errorf("model: %s must be a one-dimensional tensor, not of shape %v", what, shape)
}

func errDType(dt string) error {
	return fmt.Errorf("model: token ids must be integers, not %s", dt)
}
