package train

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/model"
)

// TestMakeFeatures: windows cover the context, overlap by the stride, the
// answer's tokens spell it in the window that holds it, other windows
// point at <s>, and the question is global.
func TestMakeFeatures(t *testing.T) {
	tok := model.ByteTokenizer{}
	ctx := strings.Repeat("lorem ipsum ", 30) + "the answer is forty-two. " + strings.Repeat("dolor sit ", 20)
	start := strings.Index(ctx, "forty-two")
	ex := Example{ID: "x", Question: "What?", Context: ctx, Spans: [][2]int{{start, start + len("forty-two")}}}
	w := Window{MaxLen: 100, Stride: 30, Global: true}
	fs, err := MakeFeatures(tok, &ex, 7, w)
	if err != nil {
		t.Fatal(err)
	}
	room := 100 - len("What?") - 4
	covered, holding := 0, 0
	for k, f := range fs {
		if len(f.IDs) > 100 || f.Example != 7 {
			t.Fatalf("window %d: %d tokens, example %d", k, len(f.IDs), f.Example)
		}
		if k > 0 {
			prev := fs[k-1].Offsets
			if overlap := prev[len(prev)-1][1] - f.Offsets[0][0]; overlap != 30 {
				t.Errorf("window %d overlaps the previous by %d bytes, want 30", k, overlap)
			}
		}
		if k < len(fs)-1 && len(f.Offsets) != room {
			t.Errorf("window %d holds %d context tokens, want %d", k, len(f.Offsets), room)
		}
		covered = f.Offsets[len(f.Offsets)-1][1]
		for i := range f.Mask {
			want := model.MaskLocal
			if i <= len("What?") {
				want = model.MaskGlobal
			}
			if f.Mask[i] != want {
				t.Fatalf("window %d: mask[%d] = %d", k, i, f.Mask[i])
			}
		}
		if f.Start == 0 {
			continue
		}
		holding++
		got := tok.Decode(f.IDs[f.Start : f.End+1])
		if got != "forty-two" {
			t.Errorf("window %d: answer tokens spell %q", k, got)
		}
	}
	if covered != len(ctx) {
		t.Errorf("the windows cover %d of %d bytes", covered, len(ctx))
	}
	if holding == 0 {
		t.Error("no window holds the answer")
	}
	if _, err := MakeFeatures(tok, &ex, 0, Window{MaxLen: 100, Stride: 200}); err == nil {
		t.Error("a stride wider than the window was accepted")
	}
}

// TestWindowsMatchTheReference: the windows of a long context are those
// Hugging Face's tokenizers make for the question-answering pipeline
// (truncation "only_second" with return_overflowing_tokens and a stride),
// from model/testdata/roberta/golden.json. The Node.js binding that wrote
// the file returns only the first overflowing window, and that one cut
// short, so the test holds the first window whole and the second as a
// prefix of ours; that windows cover the whole context at the stride is
// TestMakeFeatures's.
func TestWindowsMatchTheReference(t *testing.T) {
	tok, err := model.LoadTokenizer(filepath.Join("..", "model", "testdata", "roberta"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "model", "testdata", "roberta", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Windows []struct {
			Question, Context string
			MaxLength         int `json:"max_length"`
			Stride            int
			Encodings         []struct{ IDs []int }
		}
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Windows) < 3 {
		t.Fatalf("%d window cases", len(g.Windows))
	}
	for _, c := range g.Windows {
		ex := Example{Question: c.Question, Context: c.Context}
		fs, err := MakeFeatures(tok, &ex, 0, Window{MaxLen: c.MaxLength, Stride: c.Stride, MaxQuestion: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) < 3 || len(c.Encodings) < 2 {
			t.Fatalf("%d windows of ours, %d of the reference", len(fs), len(c.Encodings))
		}
		if !slices.Equal(fs[0].IDs, c.Encodings[0].IDs) {
			t.Errorf("max %d stride %d: first window\n got %v\nwant %v", c.MaxLength, c.Stride, fs[0].IDs, c.Encodings[0].IDs)
		}
		want := c.Encodings[1].IDs
		want = want[:len(want)-1] // its </s>
		if len(want) < fs[0].CtxStart+c.Stride+2 || !slices.Equal(fs[1].IDs[:len(want)], want) {
			t.Errorf("max %d stride %d: second window\n got %v\nwant a prefix %v", c.MaxLength, c.Stride, fs[1].IDs, want)
		}
	}
}
