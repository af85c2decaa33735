package serve_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"

	"github.com/olc-toolkit/olc/serve"
)

// makePDF writes a PDF of paragraphs, one page each, with fpdf (the
// fixture is made by the test, not shipped), its text in Helvetica through
// cp1252, as most PDF writers do for Latin text.
func makePDF(t testing.TB, pages ...string) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	tr := p.UnicodeTranslatorFromDescriptor("")
	p.SetFont("Helvetica", "", 11)
	for _, text := range pages {
		p.AddPage()
		p.MultiCell(0, 5, tr(text), "", "L", false)
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestExtract(t *testing.T) {
	html := `<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style><script>var secret = "do not index";</script></head>
<body><h1>Report</h1><p>The code is <b>8812</b> &amp; more.</p></body></html>`
	cases := []struct {
		name, file string
		data       []byte
		kind       string
		want, not  string
	}{
		{"plain text", "a.txt", []byte("Just text.\nTwo lines."), serve.KindText, "Just text.\nTwo lines.", ""},
		{"text without a name", "", []byte("Just text."), serve.KindText, "Just text.", ""},
		{"markdown by name", "notes.md", []byte("# Title\n\n*a* list"), serve.KindMarkdown, "# Title", ""},
		{"HTML by content", "page.txt", []byte(html), serve.KindHTML, "The code is 8812 & more.", "do not index"},
		{"HTML by name", "page.html", []byte("<p>Hello</p>"), serve.KindHTML, "Hello", "<p>"},
		{"BOM", "a.txt", []byte("\xef\xbb\xbfHello"), serve.KindText, "Hello", "\ufeff"},
		{"PDF", "paper.pdf", makePDF(t, "The pass key is 40917. Café naïve.", "Second page."), serve.KindPDF, "The pass key is 40917. Café naïve.", ""},
		{"PDF by content, named .txt", "paper.txt", makePDF(t, "Hidden PDF."), serve.KindPDF, "Hidden PDF.", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kind, text, err := serve.Extract(c.file, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if kind != c.kind || !strings.Contains(text, c.want) || (c.not != "" && strings.Contains(text, c.not)) {
				t.Errorf("Extract = %s %q; want %s holding %q without %q", kind, text, c.kind, c.want, c.not)
			}
		})
	}
	if _, text, _ := serve.Extract("p.pdf", makePDF(t, "One.", "Two.")); !strings.Contains(text, "One.") || !strings.Contains(text, "Two.") {
		t.Errorf("both pages: %q", text)
	}
	refused := []struct {
		name, file string
		data       []byte
	}{
		{"PNG", "a.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")},
		{"PNG named .txt", "a.txt", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")},
		{"zip", "a.docx", []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")},
		{"NUL bytes in UTF-8", "a.txt", []byte("abc\x00\x00\x00def")},
		{"a NUL after 8 kB of text", "a.txt", append([]byte(strings.Repeat("text ", 4000)), 0)},
		{"Latin-1", "a.txt", []byte("caf\xe9 cr\xe8me")},
		{"text named .pdf", "a.pdf", []byte("not a pdf")},
		{"broken PDF", "a.pdf", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF")},
		{"truncated PDF", "a.pdf", makePDF(t, "Cut short.")[:400]},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := serve.Extract(c.file, c.data)
			var ue *serve.UnsupportedError
			if !errors.As(err, &ue) {
				t.Errorf("Extract = %v, want an UnsupportedError", err)
			}
		})
	}
	if _, _, err := serve.Extract("a.txt", []byte(" \n\t")); !errors.Is(err, serve.ErrNoText) {
		t.Errorf("blank text: %v", err)
	}
	if _, _, err := serve.Extract("a.html", []byte("<script>x()</script>")); !errors.Is(err, serve.ErrNoText) {
		t.Errorf("HTML without text: %v", err)
	}
}

func TestCleanFilename(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":                "report.pdf",
		"../../etc/passwd":          "passwd",
		`C:\Users\ada\notes.txt`:    "notes.txt",
		"..":                        "document",
		"":                          "document",
		"a/b/":                      "document",
		"evil\x00name\n.txt":        "evilname.txt",
		"  spaced.txt  ":            "spaced.txt",
		"rtl\u202etxt.exe":          "rtltxt.exe",
		strings.Repeat("é", 200):    strings.Repeat("é", 127),
		"bad\xffutf8.md":            "badutf8.md",
		"/absolute/path/to/file.md": "file.md",
	} {
		if got := serve.CleanFilename(in); got != want {
			t.Errorf("CleanFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzExtract: no content makes the sniffer or the extractors panic or
// return text that is not UTF-8; an accepted document has text.
func FuzzExtract(f *testing.F) {
	f.Add("a.txt", []byte("hello"))
	f.Add("a.html", []byte("<html><script>x</script><p>hi</p>"))
	f.Add("a.pdf", makePDF(f, "Fuzz me."))
	f.Add("a.pdf", []byte("%PDF-1.7\n"))
	f.Add("x", []byte("\x89PNG\r\n\x1a\n"))
	f.Add("a.md", []byte("\xef\xbb\xbf# t"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		kind, text, err := serve.Extract(name, data)
		if err != nil {
			return
		}
		if kind == "" || strings.TrimSpace(text) == "" || !utf8.ValidString(text) {
			t.Errorf("accepted as %q with text %q", kind, text)
		}
		if !strings.Contains("text markdown html pdf", kind) {
			t.Errorf("kind %q", kind)
		}
		if c := serve.CleanFilename(name); strings.ContainsAny(c, "/\\\x00") || c == ".." {
			t.Errorf("CleanFilename(%q) = %q", name, c)
		}
	})
}
