package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/olc-toolkit/olc/internal/atomicfile"
)

// Tokenizer files of a Hugging Face model folder.
const (
	TokenizerFile       = "tokenizer.json"
	VocabFile           = "vocab.json"
	MergesFile          = "merges.txt"
	TokenizerConfigFile = "tokenizer_config.json"
	SpecialTokensFile   = "special_tokens_map.json"
	AddedTokensFile     = "added_tokens.json"
)

// AddedToken is a token matched in the text before pre-tokenization, as
// Hugging Face's tokenizers match special tokens: the text "<mask>" is the
// mask token, not the BPE pieces of its characters.
type AddedToken struct {
	Content string
	ID      int
	// LStrip and RStrip make the token take the white space on its left
	// (right): RoBERTa's <mask> has LStrip, so "a <mask>" is "a" and
	// " <mask>".
	LStrip, RStrip bool
	// SingleWord matches the token only where it is not inside a word.
	SingleWord bool
	// Special tokens are left out by Decode.
	Special bool
}

// Roberta is RoBERTa's tokenizer (and the Longformer's): GPT-2's
// byte-level BPE, special tokens <s> <pad> </s> <unk> <mask> matched in
// the text, add_prefix_space, and offsets trimmed of the spaces tokens
// carry, as Hugging Face's RobertaTokenizerFast gives them. Encode leaves
// special tokens out; EncodePair and EncodeSpecial add them. Offsets are
// byte ranges of the text on character boundaries (CharOffsets turns them
// into the character offsets Hugging Face reports). It is safe for
// concurrent use.
type Roberta struct {
	bpe *BPE
	// AddPrefixSpace adds a space before text that does not start with
	// one, so that its first word is encoded as any other word.
	AddPrefixSpace bool
	// MaxLength is tokenizer_config.json's model_max_length, the input
	// length the model was trained for (0 when unknown). transformers'
	// question-answering pipeline makes windows of min(MaxLength, 384).
	MaxLength     int
	added         []AddedToken // longest first
	special       map[int]bool
	bos, pad, eos int
	unk, mask     int
	size          int
}

var _ Tokenizer = (*Roberta)(nil)

// RobertaSpecial are the special tokens of RoBERTa's vocabulary, in the
// order of their conventional ids 0–3, then the mask token.
var RobertaSpecial = [...]string{"<s>", "<pad>", "</s>", "<unk>", "<mask>"}

// robertaRoles are RoBERTa's special tokens by the role transformers
// names them with.
var robertaRoles = map[string]string{"bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>", "cls_token": "<s>", "mask_token": "<mask>"}

// NewRoberta makes a RoBERTa tokenizer of a BPE vocabulary, with its
// special tokens as added tokens (<mask> with LStrip). Every one must be
// in the vocabulary.
func NewRoberta(b *BPE, addPrefixSpace bool) (*Roberta, error) {
	var added []AddedToken
	for _, s := range RobertaSpecial {
		id, ok := b.ID(s)
		if !ok {
			return nil, fmt.Errorf("the vocabulary has no %s token", s)
		}
		added = append(added, AddedToken{Content: s, ID: id, Special: true, LStrip: s == "<mask>"})
	}
	return newRoberta(b, addPrefixSpace, added, nil)
}

// newRoberta finishes a tokenizer from its added tokens; names overrides
// which content plays each special role (bos, pad, eos, unk, mask).
func newRoberta(b *BPE, addPrefixSpace bool, added []AddedToken, names map[string]string) (*Roberta, error) {
	t := &Roberta{bpe: b, AddPrefixSpace: addPrefixSpace, special: map[int]bool{}}
	byContent := map[string]AddedToken{}
	for _, a := range added {
		if a.Content == "" {
			return nil, fmt.Errorf("added token %d is empty", a.ID)
		}
		if a.ID < 0 {
			return nil, fmt.Errorf("added token %q has a negative id", a.Content)
		}
		byContent[a.Content] = a
		if a.Special {
			t.special[a.ID] = true
		}
		t.size = max(t.size, a.ID+1)
	}
	for _, a := range byContent {
		t.added = append(t.added, a)
	}
	sort.Slice(t.added, func(i, j int) bool {
		if len(t.added[i].Content) != len(t.added[j].Content) {
			return len(t.added[i].Content) > len(t.added[j].Content)
		}
		return t.added[i].Content < t.added[j].Content
	})
	for id := range b.ids {
		t.size = max(t.size, id+1)
	}
	roles := []struct {
		role string
		dst  *int
	}{{"bos_token", &t.bos}, {"pad_token", &t.pad}, {"eos_token", &t.eos}, {"unk_token", &t.unk}, {"mask_token", &t.mask}}
	for _, r := range roles {
		name := robertaRoles[r.role]
		if n, ok := names[r.role]; ok {
			name = n
		}
		if a, ok := byContent[name]; ok {
			*r.dst = a.ID
		} else if id, ok := b.ID(name); ok {
			*r.dst = id
		} else {
			return nil, fmt.Errorf("no token %q for the %s", name, r.role)
		}
	}
	return t, nil
}

// BPE returns the tokenizer's byte-level BPE.
func (t *Roberta) BPE() *BPE { return t.bpe }

// VocabSize implements Tokenizer: one more than the largest id.
func (t *Roberta) VocabSize() int { return t.size }

// BOS implements Tokenizer (<s>, also the classification token).
func (t *Roberta) BOS() int { return t.bos }

// PAD implements Tokenizer.
func (t *Roberta) PAD() int { return t.pad }

// EOS implements Tokenizer (</s>, also the separator).
func (t *Roberta) EOS() int { return t.eos }

// Mask implements Tokenizer.
func (t *Roberta) Mask() int { return t.mask }

// UNK returns the id of <unk>.
func (t *Roberta) UNK() int { return t.unk }

// Added returns the added tokens, longest first.
func (t *Roberta) Added() []AddedToken { return t.added }

// Encode implements Tokenizer: the ids of text without special tokens
// around it, their byte offsets and word indices.
func (t *Roberta) Encode(text string) Encoding {
	n := len(text)/3 + 8
	e := Encoding{IDs: make([]int, 0, n), Offsets: make([][2]int, 0, n), Words: make([]int, 0, n)}
	word := 0
	for _, sp := range t.splitAdded(text) {
		if sp.id >= 0 {
			e.IDs = append(e.IDs, sp.id)
			e.Offsets = append(e.Offsets, [2]int{sp.start, sp.end})
			e.Words = append(e.Words, word)
			tok := text[sp.start:sp.end]
			lead := utf8.RuneCountInString(tok) - utf8.RuneCountInString(strings.TrimLeftFunc(tok, unicode.IsSpace))
			trail := utf8.RuneCountInString(tok) - utf8.RuneCountInString(strings.TrimRightFunc(tok, unicode.IsSpace))
			t.trim(text, &e, lead, trail)
			word++
			continue
		}
		seg := text[sp.start:sp.end]
		prefix := t.AddPrefixSpace && !strings.HasPrefix(seg, " ")
		s := seg
		if prefix {
			s = " " + seg
		}
		// orig maps a byte of s to the byte range of its character in
		// text (the added space to the segment's first character).
		orig := func(i int, end bool) int {
			if prefix {
				if i == 0 {
					if end {
						_, n := utf8.DecodeRuneInString(seg)
						return sp.start + n
					}
					return sp.start
				}
				i--
			}
			if end {
				// The end of the character holding byte i.
				j := i + 1
				for j < len(seg) && !utf8.RuneStart(seg[j]) {
					j++
				}
				return sp.start + j
			}
			for i > 0 && !utf8.RuneStart(seg[i]) {
				i--
			}
			return sp.start + i
		}
		for _, p := range pretokenizeSpace(s, unicode.IsSpace) {
			for _, tk := range t.bpe.piece(s[p[0]:p[1]]) {
				a, b := p[0]+tk.start, p[0]+tk.end
				e.IDs = append(e.IDs, tk.id)
				e.Offsets = append(e.Offsets, [2]int{orig(a, false), orig(b-1, true)})
				e.Words = append(e.Words, word)
				// Leading and trailing spaces of the token, trimmed below.
				lead, trail := 0, 0
				for lead < b-a && s[a+lead] == ' ' {
					lead++
				}
				if lead < b-a {
					for trail < b-a && s[b-1-trail] == ' ' {
						trail++
					}
				} else {
					trail = lead
				}
				t.trim(text, &e, lead, trail)
			}
			word++
		}
	}
	return e
}

// trim trims the last token of e as Hugging Face's byte-level
// post-processor does (trim_offsets): lead leading and trail trailing
// space characters out of its offsets, but not the space add_prefix_space
// added to the first token.
func (t *Roberta) trim(text string, e *Encoding, lead, trail int) {
	i := len(e.IDs) - 1
	off := &e.Offsets[i]
	if lead > 0 {
		if (i == 0 || off[0] == 0) && t.AddPrefixSpace && lead == 1 {
			lead = 0
		}
		off[0] = min(advance(text, off[0], lead), off[1])
	}
	if trail > 0 && off[1] >= trail {
		off[1] = max(retreat(text, off[1], trail), off[0])
	}
}

// advance returns the offset n characters after i in s (at most len(s)).
func advance(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return i
}

// retreat returns the offset n characters before i in s (at least 0).
func retreat(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, w := utf8.DecodeLastRuneInString(s[:i])
		i -= w
	}
	return i
}

type split struct {
	start, end int
	id         int // -1 for text
}

// splitAdded cuts text at the added tokens it holds, leftmost first and
// the longest at one place; a token with LStrip (RStrip) takes the white
// space on its left (right), which Encode trims from its offsets again.
func (t *Roberta) splitAdded(text string) []split {
	var out []split
	last := 0
	for i := 0; i < len(text); {
		var hit *AddedToken
		for k := range t.added {
			a := &t.added[k]
			if text[i] == a.Content[0] && strings.HasPrefix(text[i:], a.Content) &&
				(!a.SingleWord || wordBounded(text, i, i+len(a.Content))) {
				hit = a
				break
			}
		}
		if hit == nil {
			i++
			continue
		}
		start, end := i, i+len(hit.Content)
		if hit.LStrip {
			start = max(spaceRunStart(text[:start]), last)
		}
		if hit.RStrip {
			end += spaceRunLen(text[end:])
		}
		if last < start {
			out = append(out, split{last, start, -1})
		}
		out = append(out, split{start, end, hit.ID})
		last, i = end, end
	}
	if last < len(text) {
		out = append(out, split{last, len(text), -1})
	}
	return out
}

// wordBounded reports whether text[i:j] is not inside a word.
func wordBounded(text string, i, j int) bool {
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:i])
		if isWordRune(r) {
			return false
		}
	}
	if j < len(text) {
		r, _ := utf8.DecodeRuneInString(text[j:])
		if isWordRune(r) {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Pc, r)
}

// spaceRunStart returns where the white space at the end of s starts.
func spaceRunStart(s string) int {
	return len(strings.TrimRightFunc(s, unicode.IsSpace))
}

// spaceRunLen returns the length of the white space at the start of s.
func spaceRunLen(s string) int {
	return len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
}

// EncodeSpecial encodes one text as the model reads it: <s> text </s>.
func (t *Roberta) EncodeSpecial(text string) Encoding { return EncodeSingle(t, text) }

// Decode implements Tokenizer: the text of ids, special tokens left out.
// Ids that are not in the vocabulary are skipped.
func (t *Roberta) Decode(ids []int) string {
	var buf bytes.Buffer
	for _, id := range ids {
		if t.special[id] {
			continue
		}
		if a := t.addedByID(id); a != nil {
			buf.WriteString(a.Content)
			continue
		}
		tok, ok := t.bpe.ids[id]
		if !ok {
			continue
		}
		for _, r := range tok {
			if b, ok := t.bpe.chByte[r]; ok {
				buf.WriteByte(b)
			} else {
				buf.WriteRune(r)
			}
		}
	}
	return strings.ToValidUTF8(buf.String(), "\uFFFD")
}

func (t *Roberta) addedByID(id int) *AddedToken {
	for k := range t.added {
		if t.added[k].ID == id {
			return &t.added[k]
		}
	}
	return nil
}

// CharOffsets returns byte offsets into text as character (code point)
// offsets, as Hugging Face's tokenizers and Python report them.
func CharOffsets(text string, offsets [][2]int) [][2]int {
	out := make([][2]int, len(offsets))
	// Offsets mostly grow: count runes incrementally from the last point.
	pos, n := 0, 0
	at := func(b int) int {
		if b < pos {
			pos, n = 0, 0
		}
		n += utf8.RuneCountInString(text[pos:b])
		pos = b
		return n
	}
	for i, o := range offsets {
		s := at(o[0])
		out[i] = [2]int{s, at(o[1])}
	}
	return out
}

// LoadTokenizer loads the tokenizer of a Hugging Face model folder:
// tokenizer.json when the folder has one, else vocab.json and merges.txt
// with tokenizer_config.json's add_prefix_space and
// special_tokens_map.json's tokens when present. A folder without them is
// reported with an error wrapping os.ErrNotExist.
func LoadTokenizer(dir string) (*Roberta, error) {
	tj := filepath.Join(dir, TokenizerFile)
	if _, err := os.Stat(tj); err == nil {
		return LoadTokenizerJSON(tj)
	}
	vf, mf := filepath.Join(dir, VocabFile), filepath.Join(dir, MergesFile)
	_, e1 := os.Stat(vf)
	_, e2 := os.Stat(mf)
	if e1 != nil || e2 != nil {
		return nil, fmt.Errorf("%s has no tokenizer (%s, or %s and %s): %w", dir, TokenizerFile, VocabFile, MergesFile, os.ErrNotExist)
	}
	b, err := LoadBPE(vf, mf)
	if err != nil {
		return nil, err
	}
	prefix := false
	names := map[string]string{}
	lstrip := map[string]bool{"<mask>": true}
	var cfg map[string]any
	if err := readJSONIfExists(filepath.Join(dir, TokenizerConfigFile), &cfg); err != nil {
		return nil, err
	}
	if v, ok := cfg["add_prefix_space"]; ok {
		p, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: add_prefix_space must be true or false, not %v", filepath.Join(dir, TokenizerConfigFile), v)
		}
		prefix = p
	}
	var smap map[string]any
	if err := readJSONIfExists(filepath.Join(dir, SpecialTokensFile), &smap); err != nil {
		return nil, err
	}
	specialRoles(cfg, names, lstrip)
	specialRoles(smap, names, lstrip)
	maxLen, err := modelMaxLength(filepath.Join(dir, TokenizerConfigFile), cfg)
	if err != nil {
		return nil, err
	}
	var added []AddedToken
	seen := map[string]bool{}
	for _, role := range []string{"bos_token", "pad_token", "eos_token", "unk_token", "sep_token", "cls_token", "mask_token"} {
		name := robertaRoles[role]
		if n, ok := names[role]; ok {
			name = n
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		id, ok := b.ID(name)
		if !ok {
			return nil, fmt.Errorf("%s: the %s %q is not in the vocabulary", vf, role, name)
		}
		added = append(added, AddedToken{Content: name, ID: id, Special: true, LStrip: lstrip[name]})
	}
	var extra map[string]int
	if err := readJSONIfExists(filepath.Join(dir, AddedTokensFile), &extra); err != nil {
		return nil, err
	}
	for s, id := range extra {
		if !seen[s] {
			added = append(added, AddedToken{Content: s, ID: id})
			b.addID(s, id)
		}
	}
	t, err := newRoberta(b, prefix, added, names)
	if err != nil {
		return nil, err
	}
	t.MaxLength = maxLen
	return t, nil
}

// modelMaxLength reads model_max_length from a tokenizer_config.json
// (transformers writes 1e30 for "none": 0).
func modelMaxLength(file string, cfg map[string]any) (int, error) {
	v, ok := cfg["model_max_length"]
	if !ok {
		return 0, nil
	}
	f, ok := v.(float64)
	if !ok || f < 1 || f != float64(int64(f)) && f < 1e15 {
		return 0, fmt.Errorf("%s: model_max_length must be a positive whole number, not %v", file, v)
	}
	if f > 1e15 {
		return 0, nil
	}
	return int(f), nil
}

// specialRoles reads which token plays each special role from a
// tokenizer_config.json or special_tokens_map.json (a string, or an
// object with its content and lstrip) into names and lstrip.
func specialRoles(m map[string]any, names map[string]string, lstrip map[string]bool) {
	for _, role := range []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"} {
		switch v := m[role].(type) {
		case string:
			names[role] = v
		case map[string]any:
			if c, ok := v["content"].(string); ok {
				names[role] = c
				if l, ok := v["lstrip"].(bool); ok && lstrip != nil {
					lstrip[c] = l
				}
			}
		}
	}
}

func readJSONIfExists(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// tokenizerJSON is the part of a tokenizer.json olc reads; every other
// field that changes what the tokenizer does is refused by name.
type tokenizerJSON struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer struct {
		Type           string `json:"type"`
		AddPrefixSpace bool   `json:"add_prefix_space"`
		UseRegex       *bool  `json:"use_regex"`
	} `json:"pre_tokenizer"`
	PostProcessor struct {
		Type           string `json:"type"`
		Sep            []any  `json:"sep"`
		Cls            []any  `json:"cls"`
		TrimOffsets    *bool  `json:"trim_offsets"`
		AddPrefixSpace bool   `json:"add_prefix_space"`
	} `json:"post_processor"`
	Model struct {
		Type                    string            `json:"type"`
		Dropout                 *float64          `json:"dropout"`
		ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
		ByteFallback            bool              `json:"byte_fallback"`
		IgnoreMerges            bool              `json:"ignore_merges"`
		Vocab                   map[string]int    `json:"vocab"`
		Merges                  []json.RawMessage `json:"merges"`
	} `json:"model"`
}

// LoadTokenizerJSON loads a Hugging Face tokenizer.json of RoBERTa's kind:
// a byte-level BPE model, the ByteLevel pre-tokenizer, no normalizer and a
// RobertaProcessing (or ByteLevel) post-processor trimming offsets. A
// tokenizer of another kind is refused, naming the field.
func LoadTokenizerJSON(path string) (*Roberta, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tj tokenizerJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, fmt.Errorf("%s: not a tokenizer.json: %w", path, err)
	}
	bad := func(field, got, want string) error {
		return fmt.Errorf("%s: %s is %s; olc reads RoBERTa's byte-level BPE tokenizers (%s)", path, field, got, want)
	}
	m := &tj.Model
	switch {
	case m.Type != "BPE":
		return nil, bad("model.type", fmt.Sprintf("%q", m.Type), `"BPE"`)
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, bad("model.dropout", fmt.Sprint(*m.Dropout), "null: BPE dropout is for training")
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return nil, bad("model.continuing_subword_prefix", fmt.Sprintf("%q", *m.ContinuingSubwordPrefix), `""`)
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, bad("model.end_of_word_suffix", fmt.Sprintf("%q", *m.EndOfWordSuffix), `""`)
	case m.ByteFallback:
		return nil, bad("model.byte_fallback", "true", "false")
	case m.IgnoreMerges:
		return nil, bad("model.ignore_merges", "true", "false")
	case len(tj.Normalizer) > 0 && string(tj.Normalizer) != "null":
		return nil, bad("normalizer", string(tj.Normalizer), "null")
	case tj.PreTokenizer.Type != "ByteLevel":
		return nil, bad("pre_tokenizer.type", fmt.Sprintf("%q", tj.PreTokenizer.Type), `"ByteLevel"`)
	case tj.PreTokenizer.UseRegex != nil && !*tj.PreTokenizer.UseRegex:
		return nil, bad("pre_tokenizer.use_regex", "false", "true: GPT-2's pattern")
	}
	switch pp := tj.PostProcessor; pp.Type {
	case "RobertaProcessing", "ByteLevel":
		if pp.TrimOffsets != nil && !*pp.TrimOffsets {
			return nil, bad("post_processor.trim_offsets", "false", "true")
		}
	default:
		return nil, bad("post_processor.type", fmt.Sprintf("%q", pp.Type), `"RobertaProcessing"`)
	}
	var merges strings.Builder
	for i, raw := range m.Merges {
		var s string
		var pair []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
		case json.Unmarshal(raw, &pair) == nil && len(pair) == 2:
			if strings.ContainsAny(pair[0]+pair[1], " \n") {
				return nil, fmt.Errorf("%s: model.merges[%d] %q: a symbol with a space or newline", path, i, pair)
			}
			s = pair[0] + " " + pair[1]
		default:
			return nil, fmt.Errorf("%s: model.merges[%d] is %s, not \"a b\" or [\"a\", \"b\"]", path, i, raw)
		}
		if strings.Contains(s, "\n") {
			return nil, fmt.Errorf("%s: model.merges[%d] %q holds a newline", path, i, s)
		}
		merges.WriteString(s)
		merges.WriteByte('\n')
	}
	vocab := make(map[string]int, len(m.Vocab)+len(tj.AddedTokens))
	for k, v := range m.Vocab {
		vocab[k] = v
	}
	b, err := newBPE(vocab, path+": model.merges", strings.NewReader(merges.String()))
	if err != nil {
		return nil, err
	}
	var added []AddedToken
	for i, a := range tj.AddedTokens {
		if a.Content == "" {
			return nil, fmt.Errorf("%s: added_tokens[%d] is empty", path, i)
		}
		if have, ok := b.ids[a.ID]; ok && have != a.Content {
			return nil, fmt.Errorf("%s: added_tokens[%d] %q has the id %d of %q", path, i, a.Content, a.ID, have)
		}
		b.addID(a.Content, a.ID)
		added = append(added, AddedToken{Content: a.Content, ID: a.ID, LStrip: a.LStrip, RStrip: a.RStrip, SingleWord: a.SingleWord, Special: a.Special})
	}
	names := map[string]string{}
	if pp := tj.PostProcessor; pp.Type == "RobertaProcessing" {
		for _, r := range []struct {
			role string
			v    []any
		}{{"eos_token", pp.Sep}, {"bos_token", pp.Cls}} {
			if len(r.v) == 2 {
				if s, ok := r.v[0].(string); ok {
					names[r.role] = s
				}
			}
		}
	}
	// tokenizer.json does not say which added token is the mask or the
	// padding: RoBERTa's names, or the folder's special_tokens_map.json.
	dir := filepath.Dir(path)
	var smap map[string]any
	if err := readJSONIfExists(filepath.Join(dir, SpecialTokensFile), &smap); err != nil {
		return nil, err
	}
	specialRoles(smap, names, nil)
	t, err := newRoberta(b, tj.PreTokenizer.AddPrefixSpace, added, names)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var cfg map[string]any
	cf := filepath.Join(dir, TokenizerConfigFile)
	if err := readJSONIfExists(cf, &cfg); err != nil {
		return nil, err
	}
	if t.MaxLength, err = modelMaxLength(cf, cfg); err != nil {
		return nil, err
	}
	return t, nil
}

// TokenizerFiles are the files of a model folder that make its tokenizer;
// they travel with the weights (olc model convert, train's output).
var TokenizerFiles = []string{TokenizerFile, VocabFile, MergesFile, TokenizerConfigFile, SpecialTokensFile, AddedTokensFile}

// FolderTokenizer returns the tokenizer of a model folder: the RoBERTa
// tokenizer of its files (LoadTokenizer) when it has them, else the byte
// tokenizer for the models olc trains from scratch, whose vocabulary is
// the byte tokenizer's. A folder with neither, or a tokenizer that does
// not fit the config (ids beyond its vocabulary, another padding id), is
// an error naming the folder.
func FolderTokenizer(dir string, c *Config) (Tokenizer, error) {
	tok, err := LoadTokenizer(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if bt := (ByteTokenizer{}); c.VocabSize == bt.VocabSize() {
			return bt, nil
		}
		return nil, fmt.Errorf("%s has no tokenizer for its %d-token vocabulary: copy %s (or %s and %s) from the model's repository into it", dir, c.VocabSize, TokenizerFile, VocabFile, MergesFile)
	case err != nil:
		return nil, err
	case tok.VocabSize() > c.VocabSize:
		return nil, fmt.Errorf("%s: the tokenizer has %d ids, more than the %d of config.json's vocab_size", dir, tok.VocabSize(), c.VocabSize)
	case tok.PAD() != c.PadTokenID:
		return nil, fmt.Errorf("%s: the tokenizer pads with id %d, config.json's pad_token_id is %d", dir, tok.PAD(), c.PadTokenID)
	}
	return tok, nil
}

// CopyTokenizer copies the tokenizer files of model folder from into
// folder to (those it has).
func CopyTokenizer(from, to string) error {
	for _, f := range TokenizerFiles {
		data, err := os.ReadFile(filepath.Join(from, f))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(to, f), data); err != nil {
			return err
		}
	}
	return nil
}
