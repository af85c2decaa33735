package experiments

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// ConfigError is a problem in a config file: the file, the line (0 when
// unknown), the key path as the file spells it, and what is allowed.
type ConfigError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Key == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Key + ": " + e.Msg
}

// tomlDoc is a decoded TOML document that remembers the order and the line
// of every key, which plain decoding into maps forgets.
type tomlDoc struct {
	file  string
	root  map[string]any
	lines map[string]int      // key path → line of its first mention
	order map[string][]string // table path → its keys in document order
	errs  []error
}

func parseTOML(file string, data []byte) (*tomlDoc, error) {
	d := &tomlDoc{file: file, lines: map[string]int{}, order: map[string][]string{}}
	if err := toml.Unmarshal(data, &d.root); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, &ConfigError{File: file, Line: line, Key: strings.Join(de.Key(), "."), Msg: "invalid TOML: " + strings.TrimPrefix(de.Error(), "toml: ")}
		}
		return nil, &ConfigError{File: file, Msg: "invalid TOML: " + err.Error()}
	}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = d.keyPath(&p, nil, e.Key())
		case unstable.KeyValue:
			path := d.keyPath(&p, table, e.Key())
			d.inline(&p, path, e.Value())
		}
	}
	return d, nil
}

// keyPath records each prefix of a (dotted) key under base and returns the
// full path.
func (d *tomlDoc) keyPath(p *unstable.Parser, base []string, it unstable.Iterator) []string {
	path := append([]string(nil), base...)
	for it.Next() {
		n := it.Node()
		path = append(path, string(n.Data))
		d.note(path, p.Shape(n.Raw).Start.Line)
	}
	return path
}

func (d *tomlDoc) inline(p *unstable.Parser, path []string, v *unstable.Node) {
	if v == nil || v.Kind != unstable.InlineTable {
		return
	}
	it := v.Children()
	for it.Next() {
		kv := it.Node()
		if kv.Kind != unstable.KeyValue {
			continue
		}
		d.inline(p, d.keyPath(p, path, kv.Key()), kv.Value())
	}
}

func (d *tomlDoc) note(path []string, line int) {
	key := strings.Join(path, ".")
	if _, seen := d.lines[key]; seen {
		return
	}
	d.lines[key] = line
	parent := strings.Join(path[:len(path)-1], ".")
	d.order[parent] = append(d.order[parent], path[len(path)-1])
}

// fail records an error at a key path.
func (d *tomlDoc) fail(key, format string, args ...any) {
	d.errs = append(d.errs, d.errorf(key, format, args...))
}

func (d *tomlDoc) errorf(key, format string, args ...any) *ConfigError {
	line := 0
	for k := key; k != ""; {
		if l, ok := d.lines[k]; ok {
			line = l
			break
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return &ConfigError{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

func (d *tomlDoc) err() error { return errors.Join(d.errs...) }

// section is one table of the document.
type section struct {
	d    *tomlDoc
	path string
	m    map[string]any
}

// table returns the sub-table key of s; ok is false when it is absent.
func (s section) table(key string) (section, bool) {
	path := join(s.path, key)
	v, present := s.m[key]
	if !present {
		return section{d: s.d, path: path, m: map[string]any{}}, false
	}
	m, isTable := v.(map[string]any)
	if !isTable {
		s.d.fail(path, "must be a table, got %s", describe(v))
		return section{d: s.d, path: path, m: map[string]any{}}, false
	}
	return section{d: s.d, path: path, m: m}, true
}

// required returns the sub-table key of s, reporting it missing with a hint
// when it is absent.
func (s section) required(key, hint string) (section, bool) {
	t, ok := s.table(key)
	if !ok && !s.has(key) {
		s.d.fail(join(s.path, key), "missing; %s", hint)
	}
	return t, ok
}

// keys returns the table's keys in document order.
func (s section) keys() []string {
	keys := s.d.order[s.path]
	if len(keys) == len(s.m) {
		return keys
	}
	// Keys the walk missed (none expected): append them sorted.
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	var rest []string
	for k := range s.m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(append([]string(nil), keys...), rest...)
}

// only reports the keys of s that are not allowed.
func (s section) only(allowed ...string) {
	for _, k := range s.keys() {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			s.d.fail(join(s.path, k), "unknown key; allowed in [%s]: %s", s.path, strings.Join(allowed, ", "))
		}
	}
}

func (s section) has(key string) bool { _, ok := s.m[key]; return ok }

func (s section) str(key, def string) string {
	v, ok := s.m[key]
	if !ok {
		return def
	}
	x, ok := v.(string)
	if !ok {
		s.d.fail(join(s.path, key), "must be a string, got %s", describe(v))
		return def
	}
	return x
}

func (s section) integer(key string, def int64) int64 {
	v, ok := s.m[key]
	if !ok {
		return def
	}
	x, ok := v.(int64)
	if !ok {
		s.d.fail(join(s.path, key), "must be an integer, got %s", describe(v))
		return def
	}
	return x
}

// number accepts integers and floats.
func (s section) number(key string) (float64, bool) {
	switch x := s.m[key].(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case nil:
		return 0, false
	default:
		s.d.fail(join(s.path, key), "must be a number, got %s", describe(x))
		return 0, false
	}
}

func (s section) boolean(key string) bool {
	v, ok := s.m[key]
	if !ok {
		return false
	}
	x, ok := v.(bool)
	if !ok {
		s.d.fail(join(s.path, key), "must be true or false, got %s", describe(v))
	}
	return x
}

// describe names a decoded TOML value's type for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("a string (%q)", x)
	case int64:
		return fmt.Sprintf("an integer (%d)", x)
	case float64:
		return fmt.Sprintf("a float (%s)", strconv.FormatFloat(x, 'g', -1, 64))
	case bool:
		return fmt.Sprintf("a boolean (%v)", x)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time, toml.LocalDate, toml.LocalDateTime, toml.LocalTime:
		return "a date or time"
	}
	return fmt.Sprintf("%T", v)
}
