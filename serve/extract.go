package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"

	"github.com/olc-toolkit/olc/internal/bom"
	"github.com/olc-toolkit/olc/train"
)

// The kinds of document the server accepts.
const (
	KindText     = "text"
	KindMarkdown = "markdown"
	KindHTML     = "html"
	KindPDF      = "pdf"
)

// UnsupportedError is returned by [Extract] for content that is none of the
// accepted kinds.
type UnsupportedError struct{ Reason string }

func (e *UnsupportedError) Error() string {
	return "unsupported document: " + e.Reason + "; upload plain text, Markdown, HTML or PDF"
}

// ErrNoText is returned by [Extract] when a document holds no text (an
// empty file, a PDF of scanned pages).
var ErrNoText = errors.New("the document holds no text")

// Extract detects what data is from its content (the name only breaks
// the tie between plain text and Markdown, and a name ending in .pdf must
// hold a PDF) and returns its kind and text: plain text and Markdown as
// they are, HTML without its tags, scripts and styles, PDF as the text of
// its pages. A panic in the PDF reader on a hostile file is an error.
func Extract(name string, data []byte) (kind, text string, err error) {
	return extract(context.Background(), name, data, nil)
}

// PDFReader returns the text of a PDF; it returns an *UnsupportedError or
// ErrNoText for PDFs it cannot read or that hold no text.
type PDFReader func(ctx context.Context, data []byte) (string, error)

func extract(ctx context.Context, name string, data []byte, readPDF PDFReader) (kind, text string, err error) {
	ext := strings.ToLower(path.Ext(name))
	if isPDF(data) {
		if readPDF == nil {
			readPDF = func(_ context.Context, data []byte) (string, error) { return PDFText(data) }
		}
		text, err := readPDF(ctx, data)
		if err != nil {
			return "", "", err
		}
		return KindPDF, text, nil
	}
	if ext == ".pdf" {
		return "", "", &UnsupportedError{Reason: "the file is named .pdf but does not start like a PDF"}
	}
	data = bom.Trim(data)
	if !utf8.Valid(data) {
		return "", "", &UnsupportedError{Reason: fmt.Sprintf("the content is not UTF-8 text (it looks like %s)", http.DetectContentType(data))}
	}
	if binaryText(data) {
		reason := "the content holds control characters (NUL, escape codes) that text does not"
		if ct := http.DetectContentType(data); !strings.HasPrefix(ct, "text/") {
			reason += " (it looks like " + ct + ")"
		}
		return "", "", &UnsupportedError{Reason: reason}
	}
	s := string(data)
	switch {
	case isHTML(s) || ext == ".html" || ext == ".htm" || ext == ".xhtml":
		kind, s = KindHTML, train.StripHTML(s)
	case ext == ".md" || ext == ".markdown" || ext == ".mdown":
		kind = KindMarkdown
	default:
		kind = KindText
	}
	if strings.TrimSpace(s) == "" {
		return "", "", ErrNoText
	}
	return kind, s, nil
}

// isPDF: a PDF's header "%PDF-" is within its first 1024 bytes.
func isPDF(b []byte) bool {
	return bytes.Contains(b[:min(len(b), 1024)], []byte("%PDF-"))
}

// isHTML reports whether text starts like an HTML document (after blanks
// and comments), as the WHATWG sniffing rules and http.DetectContentType
// see it.
func isHTML(s string) bool {
	head := strings.ToLower(strings.TrimLeft(s[:min(len(s), 512)], " \t\r\n\f"))
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<h1", "<div", "<font", "<table", "<a ", "<style", "<title", "<b>", "<br", "<p>", "<p ", "<!--"} {
		if strings.HasPrefix(head, p) {
			return true
		}
	}
	return false
}

// binaryText reports whether UTF-8 text holds control characters other
// than white space (NUL, escape codes), as binary formats do, anywhere in
// it: a NUL would also cut the text short in the store.
func binaryText(b []byte) bool {
	return strings.ContainsFunc(string(b), func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' && r != '\f' && r != '\v'
	})
}

// maxPDFObjects bounds the object numbers a PDF may declare, by its size:
// an object takes more than 8 bytes, so a larger number is a lie that
// would make the reader allocate a table of that size.
func maxPDFObjects(size int) int { return size/8 + 16 }

var (
	reXrefSection = regexp.MustCompile(`(?s)(?:^|\s)xref\s(.*?)(?:trailer|\z)`)
	reSize        = regexp.MustCompile(`/Size\s+(\d+)`)
	reIndex       = regexp.MustCompile(`/Index\s*\[([\d\s]*)\]`)
)

// checkPDFTables refuses a PDF whose cross-reference tables or streams
// declare more objects than the file could hold (the PDF reader would
// allocate their table: a memory bomb).
func checkPDFTables(data []byte) error {
	limit := maxPDFObjects(len(data))
	tooMany := func(n int64) error {
		return &UnsupportedError{Reason: fmt.Sprintf("the PDF declares object %d, more than a %d-byte file can hold", n, len(data))}
	}
	num := func(b []byte) int64 {
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return math.MaxInt64
		}
		return n
	}
	// Each table: subsections of "start count" and count entries of three
	// tokens, as the reader walks them, whatever the white space.
	for _, sec := range reXrefSection.FindAllSubmatch(data, -1) {
		f := strings.Fields(string(sec[1]))
		for i := 0; i+1 < len(f); {
			a, b := num([]byte(f[i])), num([]byte(f[i+1]))
			if a == math.MaxInt64 || b == math.MaxInt64 {
				break // the reader stops here too
			}
			if a > int64(limit) || b > int64(limit) || a+b > int64(limit) {
				return tooMany(a + b)
			}
			i += 2 + 3*int(b)
		}
	}
	for _, m := range reSize.FindAllSubmatch(data, -1) {
		if n := num(m[1]); n > int64(limit) {
			return tooMany(n)
		}
	}
	for _, m := range reIndex.FindAllSubmatch(data, -1) {
		for _, f := range strings.Fields(string(m[1])) {
			if n := num([]byte(f)); n > int64(limit) {
				return tooMany(n)
			}
		}
	}
	return nil
}

// PDFText returns the text of a PDF's pages, in process. A PDF whose
// tables declare more objects than it can hold is refused before it is
// parsed, and a panic of the reader is an error; the reader is not
// otherwise bounded in time or memory, so a server reading PDFs from
// strangers runs it in a child process with limits (olc serve does).
func PDFText(data []byte) (string, error) {
	if err := checkPDFTables(data); err != nil {
		return "", err
	}
	return pdfText(data)
}

func pdfText(data []byte) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", &UnsupportedError{Reason: fmt.Sprintf("the PDF cannot be read (%v)", r)}
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", &UnsupportedError{Reason: "the PDF cannot be read (" + err.Error() + ")"}
	}
	if r.Trailer().Key("Encrypt").Kind() != pdf.Null {
		return "", &UnsupportedError{Reason: "the PDF is encrypted"}
	}
	rd, err := r.GetPlainText()
	if err != nil {
		return "", &UnsupportedError{Reason: "the PDF's text cannot be read (" + err.Error() + ")"}
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return "", &UnsupportedError{Reason: "the PDF's text cannot be read (" + err.Error() + ")"}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
	s = joinLines(s)
	if s == "" {
		return "", fmt.Errorf("%w: the PDF has no text layer (scanned pages need OCR first)", ErrNoText)
	}
	return s, nil
}

var (
	reParagraph = regexp.MustCompile(`\n[ \t]*\n\s*`)
	reLineBreak = regexp.MustCompile(`[ \t]*\n[ \t]*`)
	reBlanks    = regexp.MustCompile(`[ \t]{2,}`)
)

// joinLines turns a PDF's text, one line per printed line, into prose:
// the lines of a paragraph joined by a space, paragraphs (blank lines,
// page breaks) kept apart by one blank line. A reader then sees "the
// pass key" where the page broke the line after "the".
func joinLines(s string) string {
	paras := reParagraph.Split(strings.TrimSpace(s), -1)
	for i, p := range paras {
		paras[i] = reBlanks.ReplaceAllString(reLineBreak.ReplaceAllString(p, " "), " ")
	}
	return strings.TrimSpace(strings.Join(paras, "\n\n"))
}

// CleanFilename returns the base name of an uploaded file's name, whatever
// its separators ('/' or '\'), without control characters, at most 255
// bytes; "document" when nothing is left. It is only ever stored and
// shown, never used as a path.
func CleanFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == ".." {
		return "document"
	}
	return name
}
