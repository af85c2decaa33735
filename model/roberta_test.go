package model

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// robertaGolden is model/testdata/roberta/golden.json, written by Hugging
// Face's tokenizers (golden.js).
type robertaGolden struct {
	Texts []struct {
		Text          string
		Plain, Prefix goldenEncoding
	}
	Pairs []struct {
		A, B          string
		Plain, Prefix goldenEncoding
	}
	Windows []struct {
		Question, Context string
		MaxLength         int `json:"max_length"`
		Stride            int
		Encodings         []goldenEncoding
	}
	Full []struct {
		Text string
		IDs  []int
	}
}

type goldenEncoding struct {
	IDs       []int
	Offsets   [][2]int
	Words     []*int
	Sequences []*int
}

func (g goldenEncoding) words() []int {
	out := make([]int, len(g.Words))
	for i, w := range g.Words {
		out[i] = -1
		if w != nil {
			out[i] = *w
		}
	}
	return out
}

func loadRobertaGolden(t testing.TB) *robertaGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "roberta", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g robertaGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// robertaFolders returns the golden tokenizer as the two kinds of folder a
// model can come with: tokenizer.json, and vocab.json with merges.txt.
func robertaFolders(t testing.TB) map[string]*Roberta {
	t.Helper()
	out := map[string]*Roberta{}
	tj, err := LoadTokenizer(filepath.Join("testdata", "roberta"))
	if err != nil {
		t.Fatal(err)
	}
	out["tokenizer.json"] = tj
	dir := t.TempDir()
	for _, f := range []string{VocabFile, MergesFile} {
		copyFile(t, filepath.Join("testdata", "roberta", f), filepath.Join(dir, f))
	}
	vm, err := LoadTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	out["vocab.json+merges.txt"] = vm
	return out
}

func checkEncoding(t *testing.T, what, text string, got Encoding, want goldenEncoding) {
	t.Helper()
	if !slices.Equal(got.IDs, want.IDs) {
		t.Errorf("%s %q: ids\n got %v\nwant %v", what, text, got.IDs, want.IDs)
		return
	}
	if off := CharOffsets(text, got.Offsets); !slices.Equal(off, want.Offsets) {
		t.Errorf("%s %q: offsets\n got %v\nwant %v", what, text, off, want.Offsets)
	}
	if !slices.Equal(got.Words, want.words()) {
		t.Errorf("%s %q: words\n got %v\nwant %v", what, text, got.Words, want.words())
	}
}

// TestRobertaGolden: Hugging Face's tokenizers (the library behind
// transformers' RobertaTokenizerFast) is the judge: ids, character offsets
// and word indices of single texts and pairs, with and without
// add_prefix_space, from tokenizer.json and from vocab.json + merges.txt.
func TestRobertaGolden(t *testing.T) {
	g := loadRobertaGolden(t)
	for name, tok := range robertaFolders(t) {
		for _, prefix := range []bool{false, true} {
			tk := *tok
			tk.AddPrefixSpace = prefix
			what := fmt.Sprintf("%s prefix=%v", name, prefix)
			for _, c := range g.Texts {
				want := c.Plain
				if prefix {
					want = c.Prefix
				}
				checkEncoding(t, what, c.Text, tk.EncodeSpecial(c.Text), want)
			}
			for _, c := range g.Pairs {
				want := c.Plain
				if prefix {
					want = c.Prefix
				}
				e, ctx := EncodePair(&tk, c.A, c.B)
				if !slices.Equal(e.IDs, want.IDs) {
					t.Errorf("%s pair %q %q: ids\n got %v\nwant %v", what, c.A, c.B, e.IDs, want.IDs)
					continue
				}
				// Offsets and words are per sequence.
				offs := append(CharOffsets(c.A, e.Offsets[:ctx]), CharOffsets(c.B, e.Offsets[ctx:])...)
				if !slices.Equal(offs, want.Offsets) {
					t.Errorf("%s pair %q %q: offsets\n got %v\nwant %v", what, c.A, c.B, offs, want.Offsets)
				}
				if !slices.Equal(e.Words, want.words()) {
					t.Errorf("%s pair %q %q: words\n got %v\nwant %v", what, c.A, c.B, e.Words, want.words())
				}
				for i, s := range want.Sequences {
					if (s != nil && *s == 1) != (i >= ctx && i < len(e.IDs)-1) {
						t.Errorf("%s pair %q %q: the context starts at %d, not where the judge puts it", what, c.A, c.B, ctx)
						break
					}
				}
			}
		}
	}
	if len(g.Texts) < 15 || len(g.Pairs) < 3 {
		t.Fatalf("golden file too small: %d texts, %d pairs", len(g.Texts), len(g.Pairs))
	}
}

// TestRobertaFullVocabulary: GPT-2's whole vocabulary in RoBERTa's layout
// (what roberta-base's vocab.json holds, under other ids) with its 50,000
// merges, against the judge.
func TestRobertaFullVocabulary(t *testing.T) {
	g := loadRobertaGolden(t)
	tok := fullRoberta(t)
	if tok.VocabSize() != 50261 || tok.Mask() != 50260 || tok.PAD() != 1 {
		t.Fatalf("vocabulary of %d, mask %d, pad %d", tok.VocabSize(), tok.Mask(), tok.PAD())
	}
	n := 0
	for _, c := range g.Full {
		if got := tok.Encode(c.Text).IDs; !slices.Equal(got, c.IDs) && (len(got) > 0 || len(c.IDs) > 0) {
			t.Errorf("%q:\n got %v\nwant %v", c.Text, got, c.IDs)
		}
		n += len(c.IDs)
		if d := tok.Decode(tok.Encode(c.Text).IDs); d != c.Text && !strings.Contains(c.Text, "<") {
			t.Errorf("decode %q = %q", c.Text, d)
		}
	}
	if n < 400 {
		t.Fatalf("only %d golden ids", n)
	}
}

// fullRoberta returns GPT-2's whole vocabulary in RoBERTa's layout: <s>
// <pad> </s> <unk>, GPT-2's tokens in their order, <mask>.
func fullRoberta(t testing.TB) *Roberta {
	t.Helper()
	var enc map[string]int
	data, err := os.ReadFile(filepath.Join("testdata", "gpt2", "encoder.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &enc); err != nil {
		t.Fatal(err)
	}
	delete(enc, "<|endoftext|>")
	keys := slices.SortedFunc(maps.Keys(enc), func(a, b string) int { return enc[a] - enc[b] })
	vocab := map[string]int{"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
	for _, k := range keys {
		vocab[k] = len(vocab)
	}
	vocab["<mask>"] = len(vocab)
	dir := t.TempDir()
	vj, _ := json.Marshal(vocab)
	if err := os.WriteFile(filepath.Join(dir, VocabFile), vj, 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join("testdata", "gpt2", "vocab.bpe"), filepath.Join(dir, MergesFile))
	tok, err := LoadTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// BenchmarkRobertaEncode encodes golden.json's text (×4, 160 KB) with the
// full vocabulary, the cache warm; model/testdata/roberta/bench.js times
// Hugging Face's tokenizers on the same text.
func BenchmarkRobertaEncode(b *testing.B) {
	tok := fullRoberta(b)
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text)
	}
}

// BenchmarkRobertaEncodeCold is BenchmarkRobertaEncode with an empty
// cache each time.
func BenchmarkRobertaEncodeCold(b *testing.B) {
	tok := fullRoberta(b)
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.bpe.cache = map[string][]bpeToken{}
		tok.Encode(text)
	}
}

func benchText(b *testing.B) string {
	data, err := os.ReadFile(filepath.Join("testdata", "roberta", "golden.json"))
	if err != nil {
		b.Fatal(err)
	}
	return strings.Repeat(string(data), 4)
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTokenizerJSONRefused: a tokenizer.json of another kind, or one whose
// vocabulary and merges disagree, is refused naming the field or merge.
func TestTokenizerJSONRefused(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "roberta", TokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	var base map[string]any
	if err := json.Unmarshal(data, &base); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"normalizer", func(m map[string]any) { m["normalizer"] = map[string]any{"type": "Lowercase"} }, "normalizer"},
		{"wordpiece", func(m map[string]any) { m["model"].(map[string]any)["type"] = "WordPiece" }, `model.type is "WordPiece"`},
		{"dropout", func(m map[string]any) { m["model"].(map[string]any)["dropout"] = 0.1 }, "model.dropout"},
		{"metaspace", func(m map[string]any) { m["pre_tokenizer"] = map[string]any{"type": "Metaspace"} }, "pre_tokenizer.type"},
		{"template", func(m map[string]any) { m["post_processor"] = map[string]any{"type": "TemplateProcessing"} }, "post_processor.type"},
		{"untrimmed", func(m map[string]any) { m["post_processor"].(map[string]any)["trim_offsets"] = false }, "post_processor.trim_offsets"},
		{"merge", func(m map[string]any) {
			mm := m["model"].(map[string]any)
			mm["merges"] = append([]any{[]any{"Ġq", "zz"}}, mm["merges"].([]any)...)
		}, `model.merges:1: "Ġq" is not in the vocabulary`},
		{"bad merge", func(m map[string]any) { m["model"].(map[string]any)["merges"] = []any{7} }, "model.merges[0]"},
		{"id clash", func(m map[string]any) {
			m["added_tokens"] = append(m["added_tokens"].([]any), map[string]any{"id": 5, "content": "<new>"})
		}, `"<new>" has the id 5`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m map[string]any
			_ = json.Unmarshal(data, &m)
			c.edit(m)
			out, _ := json.Marshal(m)
			path := filepath.Join(t.TempDir(), TokenizerFile)
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadTokenizerJSON(path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want an error naming %s and %q", err, path, c.want)
			}
		})
	}
	if _, err := LoadTokenizer(t.TempDir()); err == nil || !strings.Contains(err.Error(), "has no tokenizer") {
		t.Fatalf("an empty folder: %v", err)
	}
}

// FuzzRobertaEncode: any text (a served document is a stranger's) encodes
// without panicking into tokens whose offsets lie in the text, in order,
// on character boundaries, and whose decoding is the text again (when
// it holds no special token, whose stripped spaces do not come back).
func FuzzRobertaEncode(f *testing.F) {
	tok, err := LoadTokenizer(filepath.Join("testdata", "roberta"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", " ", "Hello <mask>  world", "<s></s><pad>", "a\u0085b\ufeff c", "🎉🎉 é", "\xff\xfe broken", "  <mask>", "x<mask>y"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, text string, prefix bool) {
		tk := *tok
		tk.AddPrefixSpace = prefix
		e := tk.Encode(text)
		if len(e.IDs) != len(e.Offsets) || len(e.IDs) != len(e.Words) {
			t.Fatalf("%d ids, %d offsets, %d words", len(e.IDs), len(e.Offsets), len(e.Words))
		}
		last := 0
		for i, o := range e.Offsets {
			if o[0] < 0 || o[1] > len(text) || o[0] > o[1] || o[0] < last-4 {
				t.Fatalf("token %d: offsets %v in %d bytes after %d", i, o, len(text), last)
			}
			if utf8.ValidString(text) && (o[0] < len(text) && !utf8.RuneStart(text[o[0]]) || o[1] < len(text) && !utf8.RuneStart(text[o[1]])) {
				t.Fatalf("token %d: offsets %v cut a character of %q", i, o, text)
			}
			last = max(last, o[0])
			if e.IDs[i] < 0 || e.IDs[i] >= tk.VocabSize() {
				t.Fatalf("token %d: id %d", i, e.IDs[i])
			}
		}
		if utf8.ValidString(text) && !strings.Contains(text, "<") {
			want := text
			if prefix && text != "" && text[0] != ' ' {
				want = " " + text
			}
			if got := tk.Decode(e.IDs); got != want {
				t.Fatalf("decode %q = %q", want, got)
			}
		}
	})
}
