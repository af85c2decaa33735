package train

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Tasks lists the synthetic tasks GenerateTask knows.
var Tasks = []string{"passkey", "niah", "niah-multikey", "kv", "vt"}

// PasskeyFiller is the passkey paper's filler (Mohtashami & Jaggi 2023).
const PasskeyFiller = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "

// SynthSpec describes a synthetic data set: n examples for each context
// length (in bytes; a range [lo, hi] draws each example's length
// uniformly) and needle depth (a fraction of the context; NaN draws it
// uniformly per example).
type SynthSpec struct {
	Task    string
	Lengths [][2]int
	Depths  []float64
	N       int
	Seed    uint64
	// Filler is the haystack text, repeated as needed (PasskeyFiller when
	// empty). The kv task makes its own haystack of key-value pairs.
	Filler string
	// Keys is the number of needles for niah-multikey (the question asks
	// for one of them) and the chain length for vt; 4 when 0.
	Keys int
}

// GenerateTask makes a SQuAD-format data set of a synthetic long-context
// task, extractive so that the QA head trains on it. Each question records
// its length, depth and distance in Meta. The same spec gives the same
// file.
func GenerateTask(spec SynthSpec) (*SQuAD, error) {
	if !slices.Contains(Tasks, spec.Task) {
		return nil, fmt.Errorf("unknown task %q; the tasks are %s", spec.Task, strings.Join(Tasks, ", "))
	}
	if spec.N < 1 {
		return nil, fmt.Errorf("n must be at least 1, not %d", spec.N)
	}
	if len(spec.Lengths) == 0 {
		return nil, fmt.Errorf("no context length")
	}
	for _, l := range spec.Lengths {
		if l[0] < 64 || l[1] < l[0] {
			return nil, fmt.Errorf("context length %d-%d: want at least 64 bytes, low ≤ high", l[0], l[1])
		}
	}
	depths := spec.Depths
	if len(depths) == 0 {
		depths = []float64{-1} // random
	}
	for _, d := range depths {
		if d != -1 && (d < 0 || d > 1) {
			return nil, fmt.Errorf("depth %g: want a fraction in [0, 1]", d)
		}
	}
	filler := spec.Filler
	if filler == "" {
		filler = PasskeyFiller
	}
	if strings.TrimSpace(filler) == "" {
		return nil, fmt.Errorf("the filler text is empty")
	}
	keys := spec.Keys
	if keys == 0 {
		keys = 4
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x5eed))
	out := &SQuAD{Version: "v1.1", Data: []Article{{Title: "olc synthetic " + spec.Task}}}
	art := &out.Data[0]
	for _, lr := range spec.Lengths {
		for _, dep := range depths {
			for range spec.N {
				length := lr[0]
				if lr[1] > lr[0] {
					length += rng.IntN(lr[1] - lr[0] + 1)
				}
				depth := dep
				if depth < 0 {
					depth = rng.Float64()
				}
				p, err := makeTask(rng, spec.Task, length, depth, filler, keys)
				if err != nil {
					return nil, err
				}
				q := &p.QAs[0]
				q.ID = fmt.Sprintf("%s-%d-%03d-%d", spec.Task, length, int(depth*100+0.5), len(art.Paragraphs))
				ansByte := byteOffset(p.Context, q.Answers[0].AnswerStart)
				q.Meta = &Meta{Task: spec.Task, Length: len(p.Context), Nominal: length, Depth: depth, Distance: ansByte + 3}
				art.Paragraphs = append(art.Paragraphs, p)
			}
		}
	}
	return out, nil
}

// byteOffset converts a code point offset into a byte offset.
func byteOffset(s string, chars int) int {
	n := 0
	for i := range s {
		if n == chars {
			return i
		}
		n++
	}
	return len(s)
}

// haystack returns about length bytes of filler (cut at a word boundary)
// with needle inserted at the sentence (or word) boundary nearest
// depth·(length − len(needle)), and the needle's byte offset.
func haystack(filler string, length int, depth float64, needle string) (string, int) {
	room := max(0, length-len(needle))
	var b strings.Builder
	for b.Len() < room {
		b.WriteString(filler)
	}
	hay := b.String()[:room]
	// End at a sentence boundary, else a word boundary, as text would.
	if i := strings.LastIndex(hay, ". "); i > room/2 {
		hay = hay[:i+2]
	} else if i := strings.LastIndexFunc(hay, unicode.IsSpace); i > room/2 {
		hay = hay[:i+1]
	}
	at := int(depth*float64(len(hay)) + 0.5)
	// Snap to the nearest sentence boundary (the start, the end, or just
	// after ". "), else the nearest word boundary.
	boundary := func(p int, sep string) bool {
		if p == 0 {
			return true
		}
		return p >= len(sep) && p <= len(hay) && hay[p-len(sep):p] == sep
	}
	best := -1
	for _, sep := range []string{". ", " "} {
		for d := 0; d <= len(hay) && best < 0; d++ {
			for _, p := range []int{at - d, at + d} {
				if p >= 0 && p <= len(hay) && boundary(p, sep) {
					best = p
					break
				}
			}
		}
		if best >= 0 {
			break
		}
	}
	if best < 0 {
		best = at
	}
	return hay[:best] + needle + " " + hay[best:], best
}

// randWord returns a random lower-case pseudo-word (keys of needles).
func randWord(rng *rand.Rand) string {
	const cons, vow = "bcdfghjklmnprstvz", "aeiou"
	var b strings.Builder
	for i := range 3 + rng.IntN(2) {
		_ = i
		b.WriteByte(cons[rng.IntN(len(cons))])
		b.WriteByte(vow[rng.IntN(len(vow))])
	}
	return b.String()
}

func randUUID(rng *rand.Rand) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b = append(b, '-')
		}
		b = append(b, hex[rng.IntN(16)])
	}
	return string(b)
}

// makeTask builds one paragraph of a task.
func makeTask(rng *rand.Rand, task string, length int, depth float64, filler string, keys int) (Paragraph, error) {
	var ctx, question, answer string
	var ansAt int // byte offset of the answer in ctx
	switch task {
	case "passkey":
		k := strconv.Itoa(1 + rng.IntN(50000))
		needle := "The pass key is " + k + ". Remember it. " + k + " is the pass key."
		var at int
		ctx, at = haystack(filler, length, depth, needle)
		question, answer, ansAt = "What is the pass key?", k, at+len("The pass key is ")
	case "niah", "niah-multikey":
		n := 1
		if task == "niah-multikey" {
			n = keys
		}
		type nd struct{ key, val string }
		var needles []nd
		for len(needles) < n {
			k := randWord(rng)
			if !slices.ContainsFunc(needles, func(x nd) bool { return x.key == k }) {
				needles = append(needles, nd{k, strconv.Itoa(1000000 + rng.IntN(9000000))})
			}
		}
		// The asked needle goes at the depth; the distractors at random
		// depths.
		pre := "One of the special magic numbers for "
		mk := func(x nd) string { return pre + x.key + " is: " + x.val + "." }
		var at int
		ctx, at = haystack(filler, length-len(mk(needles[0]))*(n-1), depth, mk(needles[0]))
		for _, x := range needles[1:] {
			pos := rng.IntN(len(ctx) + 1)
			// Insert at a sentence boundary that is not inside the asked needle.
			for pos > 0 && !(pos >= 2 && ctx[pos-2:pos] == ". ") {
				pos--
			}
			if pos > at && pos < at+len(mk(needles[0])) {
				pos = at
			}
			ins := mk(x) + " "
			ctx = ctx[:pos] + ins + ctx[pos:]
			if pos <= at {
				at += len(ins)
			}
		}
		question = "What is the special magic number for " + needles[0].key + " mentioned in the provided text?"
		answer, ansAt = needles[0].val, at+len(pre+needles[0].key+" is: ")
	case "kv":
		// A JSON object of random UUID pairs; the asked pair at the depth.
		type kv struct{ k, v string }
		var pairs []kv
		size := 2
		for size < length {
			p := kv{randUUID(rng), randUUID(rng)}
			pairs = append(pairs, p)
			size += len(p.k) + len(p.v) + 8
		}
		if len(pairs) > 1 {
			pairs = pairs[:len(pairs)-1]
		}
		target := min(len(pairs)-1, int(depth*float64(len(pairs))))
		var b strings.Builder
		b.WriteString("{")
		for i, p := range pairs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(`"` + p.k + `": "`)
			if i == target {
				ansAt = b.Len()
			}
			b.WriteString(p.v + `"`)
		}
		b.WriteString("}")
		ctx = b.String()
		question = `Extract the value corresponding to the specified key in the JSON object. Key: "` + pairs[target].k + `"`
		answer = pairs[target].v
	case "vt":
		// A chain VAR A = 12345, VAR B = VAR A, …; the question asks for the
		// value of the last variable: the answer is the number at the root.
		val := strconv.Itoa(10000 + rng.IntN(90000))
		var names []string
		for len(names) < keys {
			w := strings.ToUpper(randWord(rng)[:4])
			if !slices.Contains(names, w) {
				names = append(names, w)
			}
		}
		root := "VAR " + names[0] + " = " + val + "."
		var at int
		rest := 0
		for _, nm := range names[1:] {
			rest += len("VAR "+nm+" = VAR "+nm+".") + 1
		}
		ctx, at = haystack(filler, length-rest, depth, root)
		pos := at + len(root) + 1
		for i, nm := range names[1:] {
			// Each link at a random sentence boundary after the previous.
			p := pos + rng.IntN(max(1, (len(ctx)-pos)/(len(names)-i)))
			for p < len(ctx) && !(p >= 2 && ctx[p-2:p] == ". ") {
				p++
			}
			link := "VAR " + nm + " = VAR " + names[i] + ". "
			ctx = ctx[:p] + link + ctx[p:]
			pos = p + len(link)
		}
		question = "What is the value of VAR " + names[len(names)-1] + "?"
		answer, ansAt = val, at+len("VAR "+names[0]+" = ")
	}
	if ctx[ansAt:ansAt+len(answer)] != answer {
		return Paragraph{}, fmt.Errorf("train: %s: internal error: the answer is not at its offset", task)
	}
	chars := len([]rune(ctx[:ansAt]))
	return Paragraph{Context: ctx, QAs: []Question{{Question: question, Answers: []Answer{{Text: answer, AnswerStart: chars}}}}}, nil
}
