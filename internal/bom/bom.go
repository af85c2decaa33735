// Package bom drops the UTF-8 byte-order mark that some editors (Excel,
// Notepad) put at the start of a text file, and that parsers of CSV, TOML
// and JSON otherwise read as an invisible first character.
package bom

import (
	"bufio"
	"bytes"
	"io"
)

// mark is the UTF-8 encoding of U+FEFF.
var mark = []byte{0xEF, 0xBB, 0xBF}

// Trim returns data without a leading byte-order mark.
func Trim(data []byte) []byte { return bytes.TrimPrefix(data, mark) }

// Reader returns a reader of r's bytes without a leading byte-order mark.
func Reader(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(mark)); err == nil && bytes.Equal(b, mark) {
		br.Discard(len(mark))
	}
	return br
}
