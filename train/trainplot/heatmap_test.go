package trainplot

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/train"
)

func TestHeatMap(t *testing.T) {
	g := &train.Grid{Lengths: []int{1024, 2048}, Depths: []float64{0, 0.5, 1}}
	for i := range 6 {
		g.Cells = append(g.Cells, train.Cell{Length: g.Lengths[i/3], Depth: g.Depths[i%3], N: i % 4, Exact: float64(20 * i)})
	}
	var b bytes.Buffer
	if err := HeatMap(&b, "png", "test", g); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 300 || r.Dy() < 200 {
		t.Errorf("image of %v", r)
	}
	b.Reset()
	if err := HeatMap(&b, "svg", "test", g); err != nil || !strings.Contains(b.String(), "<svg") || !strings.Contains(b.String(), ">2048<") {
		t.Errorf("svg: %v", err)
	}
	if err := HeatMap(&b, "gif", "test", g); err == nil {
		t.Error("gif was accepted")
	}
	if err := HeatMap(&b, "png", "test", &train.Grid{}); err == nil {
		t.Error("an empty grid was accepted")
	}
}
