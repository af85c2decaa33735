package bom

import (
	"io"
	"strings"
	"testing"
)

func TestTrimAndReader(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"\xEF\xBB\xBFa,b\n1,2\n", "a,b\n1,2\n"},
		{"a,b\n", "a,b\n"},
		{"\xEF\xBB", "\xEF\xBB"},
		{"", ""},
		{"x\xEF\xBB\xBF", "x\xEF\xBB\xBF"}, // only at the start
	} {
		if got := string(Trim([]byte(c.in))); got != c.want {
			t.Errorf("Trim(%q) = %q, want %q", c.in, got, c.want)
		}
		b, err := io.ReadAll(Reader(strings.NewReader(c.in)))
		if err != nil || string(b) != c.want {
			t.Errorf("Reader(%q) read %q, %v; want %q", c.in, b, err, c.want)
		}
	}
}
