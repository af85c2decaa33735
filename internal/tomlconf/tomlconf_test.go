package tomlconf

import (
	"errors"
	"strings"
	"testing"
)

type sample struct {
	Name  string   `toml:"name" doc:"a name"`
	Steps int      `toml:"steps"`
	Rate  float64  `toml:"rate"`
	Seed  uint64   `toml:"seed"`
	On    bool     `toml:"on"`
	Files []string `toml:"files"`
	Skip  int      `toml:"-"`
}

func TestDecodeReportsEveryProblem(t *testing.T) {
	d, err := Parse("s.toml", []byte("\xEF\xBB\xBF[a]\nname = 1\nsteps = 2.5\nrate = \"x\"\nseed = -2\non = \"yes\"\nfiles = [\"a\", 3]\nextra = 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	var v sample
	a, ok := d.Root().Table("a")
	if !ok {
		t.Fatal("no [a]")
	}
	a.Decode(&v, "toml")
	want := []string{
		`s.toml:2: a.name: must be a string, got an integer (1)`,
		`s.toml:3: a.steps: must be an integer, got a float (2.5)`,
		`s.toml:4: a.rate: must be a number, got a string ("x")`,
		`s.toml:5: a.seed: must be a non-negative integer, got an integer (-2)`,
		`s.toml:6: a.on: must be true or false, got a string ("yes")`,
		`s.toml:7: a.files: element 1 is an integer (3); every element must be a string`,
		`s.toml:8: a.extra: unknown key; allowed in [a]: name, steps, rate, seed, on, files`,
	}
	got := d.Err().Error()
	if got != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestSetBlamesTheFlag(t *testing.T) {
	d, err := Parse("s.toml", []byte("[a]\nsteps = 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	d.Set("a.steps", "many", "--set a.steps=many")
	d.Set("b.c", int64(1), "--set b.c=1")
	d.Set("a.steps.x", int64(1), "--set a.steps.x=1")
	root := d.Root()
	root.Only("a")
	a, _ := root.Table("a")
	var v sample
	a.Decode(&v, "toml")
	got := d.Err().Error()
	for _, w := range []string{
		`--set a.steps.x=1: a.steps is a string ("many"), not a table`,
		`--set b.c=1: unknown key; the sections are: a`,
		`--set a.steps=many: must be an integer, got a string ("many")`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("errors lack %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "s.toml") {
		t.Errorf("the file is blamed for flags:\n%s", got)
	}
	var e *Error
	if !errors.As(d.Err(), &e) || e.Flag == "" {
		t.Errorf("not an Error with its flag: %#v", d.Err())
	}
}

func TestLinesOfArrayElementsAndAdopted(t *testing.T) {
	d, _ := Parse("s.toml", []byte("x = 1\n[m]\nw = [8, 9]\n"))
	m, _ := d.Root().Table("m")
	m.Adopt(errors.Join(&Error{Key: "w[1]", Msg: "odd"}, errors.New("plain")))
	got := d.Err().Error()
	if got != "s.toml:3: m.w[1]: odd\ns.toml:2: m: plain" {
		t.Errorf("errors:\n%s", got)
	}
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	if err := WriteTable(&b, "a", &sample{Name: `say "hi"`, Rate: 1, Files: nil}, "toml"); err != nil {
		t.Fatal(err)
	}
	want := "[a]\nname = \"say \\\"hi\\\"\"  # a name\nsteps = 0\nrate = 1.0\nseed = 0\non = false\nfiles = []\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	d, err := Parse("w.toml", []byte(b.String()))
	if err != nil {
		t.Fatalf("WriteTable's output does not parse: %v", err)
	}
	var v sample
	a, _ := d.Root().Table("a")
	a.Decode(&v, "toml")
	if d.Err() != nil || v.Name != `say "hi"` || v.Rate != 1 {
		t.Errorf("round trip: %+v, %v", v, d.Err())
	}
}

func TestParseValue(t *testing.T) {
	for _, c := range []struct {
		in   string
		want any
	}{
		{"3", int64(3)}, {" -7 ", int64(-7)}, {"3e-4", 3e-4}, {"0.5", 0.5}, {"true", true}, {"false", false},
		{"t", "t"}, {"T", "T"}, {"1x", "1x"}, {"adam", "adam"}, {`"two words"`, "two words"}, {"'lit'", "lit"},
	} {
		got, err := ParseValue(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseValue(%q) = %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
	got, err := ParseValue("[1, 2, 3]")
	if arr, ok := got.([]any); err != nil || !ok || len(arr) != 3 || arr[2] != int64(3) {
		t.Errorf("ParseValue of an array = %#v, %v", got, err)
	}
	if _, err := ParseValue(`"unterminated`); err == nil || !strings.Contains(err.Error(), "not a TOML value") {
		t.Errorf("unterminated string: %v", err)
	}
}

func TestArrayOfTables(t *testing.T) {
	text := "[ablation]\nname = \"x\"\n\n[[components]]\nname = \"a\"\nablate = { \"model.x\" = false }\n\n[[components]]\nname = \"b\"\nablate = {}\n\n[[components]]\nnombre = \"c\"\n"
	d, err := Parse("abl.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	comps, ok := d.Root().Tables("components")
	if !ok || len(comps) != 3 {
		t.Fatalf("Tables = %d sections, %v", len(comps), ok)
	}
	if comps[1].Path() != "components[1]" || comps[1].Str("name", "") != "b" {
		t.Errorf("element 1: path %q, name %q", comps[1].Path(), comps[1].Str("name", ""))
	}
	if keys := comps[0].Keys(); len(keys) != 2 || keys[0] != "name" || keys[1] != "ablate" {
		t.Errorf("keys of element 0: %v", keys)
	}
	ab, _ := comps[0].Table("ablate")
	if ab.Map()["model.x"] != false {
		t.Errorf("ablate of element 0: %v", ab.Map())
	}
	comps[1].Fail("ablate", "sets no key")
	comps[2].Only("name", "ablate")
	errs := Unjoin(d.Err())
	if len(errs) != 2 {
		t.Fatalf("%d errors: %v", len(errs), d.Err())
	}
	for i, want := range []string{"abl.toml:10: components[1].ablate: sets no key", "abl.toml:13: components[2].nombre: unknown key"} {
		if !strings.HasPrefix(errs[i].Error(), want) {
			t.Errorf("error %d = %q, want %q…", i, errs[i], want)
		}
	}
	// An element that names no line of its own falls back to its header.
	if e := d.Errorf("components[2].ablate", "missing"); e.Line != 12 {
		t.Errorf("line of a missing key of element 2: %d, want 12 (its [[components]])", e.Line)
	}
	if _, ok := d.Root().Tables("ablation"); ok {
		t.Error("a plain table taken for an array of tables")
	}
	if _, ok := d.Root().Tables("nothing"); ok {
		t.Error("an absent key gave tables")
	}
}
