package model

import (
	"bufio"
	"container/heap"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// BPE is GPT-2's byte-level BPE tokenizer, which RoBERTa and the
// Longformer use: text is split by GPT-2's pre-tokenization pattern, each
// piece's UTF-8 bytes are mapped to printable characters (bytes_to_unicode)
// and merged by the ranked merges, and the merged symbols looked up in the
// vocabulary. Offsets are byte ranges of the text. Encodings of pieces are
// cached. It is safe for concurrent use.
type BPE struct {
	vocab  map[string]int
	ids    map[int]string // vocab inverted
	chByte map[rune]byte  // byteCh inverted
	ranks  map[[2]string]int
	byteCh [256]string // bytes_to_unicode
	mu     sync.Mutex
	cache  map[string][]bpeToken
}

type bpeToken struct {
	id         int
	start, end int // byte offsets within the piece
}

// LoadBPE reads a vocabulary (vocab.json or GPT-2's encoder.json: token →
// id) and its merges (merges.txt or vocab.bpe: one "a b" per line after an
// optional "#version" line). Every merge's parts and result must be in the
// vocabulary: a vocabulary and merges that disagree are refused, naming
// the line.
func LoadBPE(vocabFile, mergesFile string) (*BPE, error) {
	vf, err := os.Open(vocabFile)
	if err != nil {
		return nil, err
	}
	defer vf.Close()
	var vocab map[string]int
	if err := json.NewDecoder(vf).Decode(&vocab); err != nil {
		return nil, fmt.Errorf("%s: not a JSON map of tokens to ids: %w", vocabFile, err)
	}
	mf, err := os.Open(mergesFile)
	if err != nil {
		return nil, err
	}
	defer mf.Close()
	return newBPE(vocab, mergesFile, mf)
}

func newBPE(vocab map[string]int, mergesFile string, r io.Reader) (*BPE, error) {
	b := &BPE{vocab: vocab, ids: make(map[int]string, len(vocab)), chByte: map[rune]byte{}, ranks: map[[2]string]int{}, cache: map[string][]bpeToken{}}
	for s, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("token %q has a negative id %d", s, id)
		}
		if prev, dup := b.ids[id]; dup {
			return nil, fmt.Errorf("tokens %q and %q share the id %d", min(prev, s), max(prev, s), id)
		}
		b.ids[id] = s
	}
	// bytes_to_unicode: printable bytes map to themselves, the others to
	// 256, 257, … in byte order.
	n := 0
	for c := range 256 {
		if (c >= '!' && c <= '~') || (c >= 0xa1 && c <= 0xac) || (c >= 0xae && c <= 0xff) {
			b.byteCh[c] = string(rune(c))
		} else {
			b.byteCh[c] = string(rune(256 + n))
			n++
		}
		r, _ := utf8.DecodeRuneInString(b.byteCh[c])
		b.chByte[r] = byte(c)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if (line == 1 && strings.HasPrefix(text, "#version")) || strings.TrimSpace(text) == "" {
			continue
		}
		parts := strings.Fields(text)
		if len(parts) != 2 {
			return nil, fmt.Errorf("%s:%d: a merge is two symbols, not %q", mergesFile, line, text)
		}
		for _, s := range []string{parts[0], parts[1], parts[0] + parts[1]} {
			if _, ok := vocab[s]; !ok {
				return nil, fmt.Errorf("%s:%d: %q is not in the vocabulary: the vocabulary and the merges disagree", mergesFile, line, s)
			}
		}
		key := [2]string{parts[0], parts[1]}
		if _, dup := b.ranks[key]; !dup {
			b.ranks[key] = len(b.ranks)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", mergesFile, err)
	}
	for c := range 256 {
		if _, ok := vocab[b.byteCh[c]]; !ok {
			return nil, fmt.Errorf("the vocabulary lacks the symbol of byte %#x: not a byte-level BPE vocabulary", c)
		}
	}
	return b, nil
}

// ID returns a token's id.
func (b *BPE) ID(token string) (int, bool) {
	id, ok := b.vocab[token]
	return id, ok
}

// addID adds a token to the vocabulary (an added token outside it).
func (b *BPE) addID(token string, id int) {
	b.vocab[token] = id
	b.ids[id] = token
}

// VocabSize returns the number of tokens of the vocabulary.
func (b *BPE) VocabSize() int { return len(b.vocab) }

// Encode returns the ids of text and their byte offsets, without special
// tokens.
func (b *BPE) Encode(text string) Encoding {
	var e Encoding
	for _, p := range pretokenize(text) {
		for _, t := range b.piece(text[p[0]:p[1]]) {
			e.IDs = append(e.IDs, t.id)
			e.Offsets = append(e.Offsets, [2]int{p[0] + t.start, p[0] + t.end})
		}
	}
	return e
}

// piece encodes one pre-token.
func (b *BPE) piece(s string) []bpeToken {
	b.mu.Lock()
	if toks, ok := b.cache[s]; ok {
		b.mu.Unlock()
		return toks
	}
	b.mu.Unlock()
	var syms []sym
	if len(s) > longPiece {
		syms = b.mergeHeap(s)
	} else {
		syms = b.mergeRounds(s)
	}
	toks := make([]bpeToken, len(syms))
	for i, sy := range syms {
		toks[i] = bpeToken{id: b.vocab[sy.s], start: sy.start, end: sy.end}
	}
	b.mu.Lock()
	if len(b.cache) < 1<<16 && len(s) <= maxCachedPiece {
		b.cache[s] = toks
	}
	b.mu.Unlock()
	return toks
}

// sym is a symbol of a piece being merged: its text and byte range.
type sym struct {
	s          string
	start, end int
}

// longPiece is the length above which a piece is merged with a heap.
const longPiece = 48

// maxCachedPiece bounds the pieces the cache keeps (at most 1<<16 of
// them), so that a text of long random "words" cannot fill the memory.
const maxCachedPiece = 256

// mergeRounds merges a piece as GPT-2's reference does: round by round,
// every occurrence of the best-ranked pair, left to right. Each round
// scans the piece: quadratic in its length, the fastest for words.
func (b *BPE) mergeRounds(s string) []sym {
	syms := make([]sym, len(s))
	for i := 0; i < len(s); i++ {
		syms[i] = sym{b.byteCh[s[i]], i, i + 1}
	}
	for len(syms) > 1 {
		best, at := -1, -1
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := b.ranks[[2]string{syms[i].s, syms[i+1].s}]; ok && (best < 0 || r < best) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		// Merge every occurrence of the best pair, left to right.
		first, second := syms[at].s, syms[at+1].s
		out := syms[:0:0]
		for i := 0; i < len(syms); i++ {
			if i+1 < len(syms) && syms[i].s == first && syms[i+1].s == second {
				out = append(out, sym{first + second, syms[i].start, syms[i+1].end})
				i++
				continue
			}
			out = append(out, syms[i])
		}
		syms = out
	}
	return syms
}

// mergeHeap gives mergeRounds's result in O(n log n): the candidate pairs
// in a heap by rank, then position, merged one at a time (as Hugging
// Face's tokenizers do), so that a stranger's megabyte-long "word" takes
// milliseconds, not minutes.
func (b *BPE) mergeHeap(s string) []sym {
	n := len(s)
	syms := make([]sym, n)
	prev, next := make([]int, n), make([]int, n)
	for i := range n {
		syms[i] = sym{b.byteCh[s[i]], i, i + 1}
		prev[i], next[i] = i-1, i+1
	}
	next[n-1] = -1
	h := &pairHeap{}
	push := func(i int) {
		if i < 0 || next[i] < 0 {
			return
		}
		j := next[i]
		if r, ok := b.ranks[[2]string{syms[i].s, syms[j].s}]; ok {
			heap.Push(h, pair{rank: r, left: i, right: j, llen: len(syms[i].s), rlen: len(syms[j].s)})
		}
	}
	for i := 0; i < n-1; i++ {
		push(i)
	}
	alive := make([]bool, n)
	for i := range alive {
		alive[i] = true
	}
	for h.Len() > 0 {
		p := heap.Pop(h).(pair)
		// Stale: a side merged since the pair was pushed.
		if !alive[p.left] || !alive[p.right] || next[p.left] != p.right || len(syms[p.left].s) != p.llen || len(syms[p.right].s) != p.rlen {
			continue
		}
		l, r := p.left, p.right
		syms[l] = sym{syms[l].s + syms[r].s, syms[l].start, syms[r].end}
		alive[r] = false
		next[l] = next[r]
		if next[r] >= 0 {
			prev[next[r]] = l
		}
		push(prev[l])
		push(l)
	}
	out := syms[:0:0]
	for i := 0; i >= 0; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}

// pair is a candidate merge of adjacent symbols left and right, of the
// lengths they had when it was pushed.
type pair struct {
	rank, left, right int
	llen, rlen        int
}

type pairHeap []pair

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].left < h[j].left
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pair)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// isSpace is \s of the pattern as JavaScript and GPT-2's reference
// encoder read it: ASCII whitespace, U+00A0, U+1680, U+2000–U+200A,
// U+2028, U+2029, U+202F, U+205F, U+3000 and U+FEFF.
func isSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// pretokenize splits text as GPT-2's pattern does:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// returning byte ranges. (Go's regexp has no lookahead, hence a scanner.)
// \s is read as JavaScript reads it (isSpace), as GPT-2's reference
// JavaScript encoder does.
func pretokenize(text string) [][2]int { return pretokenizeSpace(text, isSpace) }

// pretokenizeSpace is pretokenize with \s given: Hugging Face's tokenizers
// (Oniguruma) read it as Unicode's White_Space, unicode.IsSpace.
func pretokenizeSpace(text string, isSpace func(rune) bool) [][2]int {
	out := make([][2]int, 0, len(text)/4+4)
	class := func(r rune) int { // 1 letter, 2 number, 3 space, 4 other
		switch {
		case unicode.IsLetter(r):
			return 1
		case unicode.IsNumber(r):
			return 2
		case isSpace(r):
			return 3
		}
		return 4
	}
	// run returns the end of the run of class c from i.
	run := func(i, c int) int {
		for i < len(text) {
			r, n := utf8.DecodeRuneInString(text[i:])
			if class(r) != c {
				break
			}
			i += n
		}
		return i
	}
	for i := 0; i < len(text); {
		if text[i] == '\'' {
			matched := false
			for _, c := range []string{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"} {
				if strings.HasPrefix(text[i:], c) {
					out = append(out, [2]int{i, i + len(c)})
					i += len(c)
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		j := i
		if r == ' ' && i+1 < len(text) {
			r2, _ := utf8.DecodeRuneInString(text[i+1:])
			if c := class(r2); c != 3 {
				out = append(out, [2]int{i, run(i+1, c)})
				i = out[len(out)-1][1]
				continue
			}
		}
		if c := class(r); c != 3 {
			out = append(out, [2]int{i, run(i, c)})
			i = out[len(out)-1][1]
			continue
		}
		// Whitespace: the run, less its last character when a
		// non-space follows (that one goes with the next piece).
		end := run(j, 3)
		if end < len(text) {
			_, last := utf8.DecodeLastRuneInString(text[j:end])
			if end-last > j {
				end -= last
			} else {
				end = j + n
			}
		}
		out = append(out, [2]int{j, end})
		i = end
	}
	return out
}
