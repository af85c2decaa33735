// Package tomlconf is the one reader of olc's TOML configs (study, train,
// model and ablation files) and their one error type.
//
// A [Doc] remembers the line and the document order of every key, which
// plain decoding into maps forgets, so that every problem can be reported
// with the file, the line, the key path and what is allowed, all problems
// of a file at once. Values given on the command line (--set) are merged
// into the document with [Doc.Set] and their problems are blamed on the
// flag, not the file.
package tomlconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/olc-toolkit/olc/internal/bom"
)

// Error is a problem in a config: the file, the line (0 when unknown), the
// key path as the file spells it, and what is allowed. A problem with a
// value given on the command line has Flag set (e.g. "--set
// optimizer.lr=abc") and no file.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
	// Flag is the command-line flag that gave the value, if any.
	Flag string
}

func (e *Error) Error() string {
	if e.Flag != "" {
		return e.Flag + ": " + e.Msg
	}
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Key == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Key + ": " + e.Msg
}

// Errorf returns an *Error for a file without a parsed document.
func Errorf(file, key, format string, args ...any) *Error {
	return &Error{File: file, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// ReadFile reads the config at path; an error is an *Error naming the
// file.
func ReadFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, Errorf(path, "", "cannot read the config: %v", err)
	}
	return data, nil
}

// Doc is a decoded TOML document with the line and order of its keys and
// the problems found so far.
type Doc struct {
	file  string
	root  map[string]any
	lines map[string]int      // key path → line of its first mention
	order map[string][]string // table path → its keys in document order
	flags map[string]string   // key path → the flag that set it
	// arrays counts the elements of each array of tables ([[key]]) seen
	// so far; element i has the path key[i].
	arrays map[string]int
	errs   []error
}

// Parse decodes a TOML document; file names it in errors. A UTF-8
// byte-order mark is accepted. Invalid TOML is an *Error with the line.
func Parse(file string, data []byte) (*Doc, error) {
	data = bom.Trim(data)
	d := &Doc{file: file, lines: map[string]int{}, order: map[string][]string{}, flags: map[string]string{}, arrays: map[string]int{}}
	if err := toml.Unmarshal(data, &d.root); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, &Error{File: file, Line: line, Key: strings.Join(de.Key(), "."), Msg: "invalid TOML: " + strings.TrimPrefix(de.Error(), "toml: ")}
		}
		return nil, &Error{File: file, Msg: "invalid TOML: " + err.Error()}
	}
	if d.root == nil {
		d.root = map[string]any{}
	}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = d.keyPath(&p, nil, e.Key())
		case unstable.ArrayTable:
			// [[key]] opens element i of the array: its keys live under
			// key[i], on their own lines.
			table = d.keyPath(&p, nil, e.Key())
			name := strings.Join(table, ".")
			i := d.arrays[name]
			d.arrays[name]++
			table[len(table)-1] += fmt.Sprintf("[%d]", i)
			line := 0
			for it := e.Key(); it.Next(); {
				line = p.Shape(it.Node().Raw).Start.Line
			}
			d.note(table, line)
		case unstable.KeyValue:
			path := d.keyPath(&p, table, e.Key())
			d.inline(&p, path, e.Value())
		}
	}
	return d, nil
}

// keyPath records each prefix of a (dotted) key under base and returns the
// full path.
func (d *Doc) keyPath(p *unstable.Parser, base []string, it unstable.Iterator) []string {
	path := append([]string(nil), base...)
	for it.Next() {
		n := it.Node()
		path = append(path, string(n.Data))
		d.note(path, p.Shape(n.Raw).Start.Line)
	}
	return path
}

func (d *Doc) inline(p *unstable.Parser, path []string, v *unstable.Node) {
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

func (d *Doc) note(path []string, line int) {
	key := strings.Join(path, ".")
	if _, seen := d.lines[key]; seen {
		return
	}
	d.lines[key] = line
	parent := strings.Join(path[:len(path)-1], ".")
	d.order[parent] = append(d.order[parent], path[len(path)-1])
}

// File returns the document's file name.
func (d *Doc) File() string { return d.file }

// Root returns the document's top-level table.
func (d *Doc) Root() Section { return Section{d: d, m: d.root} }

// Set puts value at the dotted key path, creating the tables on the way,
// as given by flag (e.g. "--set optimizer.lr=3e-4"): problems with the key
// or the value are then blamed on flag. A path through a value that is not
// a table is reported at once.
func (d *Doc) Set(key string, value any, flag string) {
	parts := strings.Split(key, ".")
	for _, p := range parts {
		if p == "" {
			d.errs = append(d.errs, &Error{Key: key, Flag: flag, Msg: "the key must be a dotted path such as optimizer.lr"})
			return
		}
	}
	m := d.root
	for i, p := range parts[:len(parts)-1] {
		switch next := m[p].(type) {
		case map[string]any:
			m = next
		case nil:
			t := map[string]any{}
			m[p] = t
			m = t
			d.mark(parts[:i+1], flag)
		default:
			path := strings.Join(parts[:i+1], ".")
			d.errs = append(d.errs, &Error{Key: key, Flag: flag, Msg: fmt.Sprintf("%s is %s, not a table", path, Describe(next))})
			return
		}
	}
	m[parts[len(parts)-1]] = value
	d.mark(parts, flag)
}

func (d *Doc) mark(path []string, flag string) {
	key := strings.Join(path, ".")
	d.flags[key] = flag
	parent := strings.Join(path[:len(path)-1], ".")
	if !slices.Contains(d.order[parent], path[len(path)-1]) {
		d.order[parent] = append(d.order[parent], path[len(path)-1])
	}
}

// Fail records a problem at a key path.
func (d *Doc) Fail(key, format string, args ...any) {
	d.errs = append(d.errs, d.Errorf(key, format, args...))
}

// Errorf returns the problem at a key path, with the line of the key (or
// of its nearest enclosing table) or the flag that gave it.
func (d *Doc) Errorf(key, format string, args ...any) *Error {
	e := &Error{File: d.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	// The key itself, or its nearest enclosing key or table that has a
	// line: an element of an inline array (key[2]) has its array's line,
	// a key of an array of tables (key[1].name) its own.
	k := key
	for k != "" {
		if f, ok := d.flags[k]; ok {
			e.File, e.Flag = "", f
			return e
		}
		if l, ok := d.lines[k]; ok {
			e.Line = l
			return e
		}
		if strings.HasSuffix(k, "]") {
			if i := strings.LastIndexByte(k, '['); i > 0 {
				k = k[:i]
				continue
			}
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return e
}

// Adopt records problems found by code that knows keys relative to s
// (*Error values, joined or not, such as a nested config's validation),
// moving them under s's path with the document's lines. Other errors are
// recorded at s's path.
func (s Section) Adopt(err error) {
	if err == nil {
		return
	}
	for _, e := range Unjoin(err) {
		var ce *Error
		if errors.As(e, &ce) {
			s.d.errs = append(s.d.errs, s.d.Errorf(join(s.path, ce.Key), "%s", ce.Msg))
			continue
		}
		s.d.Fail(s.path, "%v", e)
	}
}

// Unjoin returns the errors joined in err (errors.Join), or err alone;
// nil for nil.
func Unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Err returns every problem recorded, joined, or nil.
func (d *Doc) Err() error { return errors.Join(d.errs...) }

// HasError reports whether a problem was recorded at key.
func (d *Doc) HasError(key string) bool {
	for _, e := range d.errs {
		if ce, ok := e.(*Error); ok && ce.Key == key {
			return true
		}
	}
	return false
}

// Failed returns the number of problems recorded so far.
func (d *Doc) Failed() int { return len(d.errs) }

// Reset forgets the problems recorded so far.
func (d *Doc) Reset() { d.errs = nil }

// Section is one table of a document.
type Section struct {
	d    *Doc
	path string
	m    map[string]any
}

// Path returns the section's key path ("" for the root).
func (s Section) Path() string { return s.path }

// Map returns the section's decoded values.
func (s Section) Map() map[string]any { return s.m }

// Doc returns the section's document.
func (s Section) Doc() *Doc { return s.d }

// Key returns the path of key in s.
func (s Section) Key(key string) string { return join(s.path, key) }

// Fail records a problem at key of s.
func (s Section) Fail(key, format string, args ...any) { s.d.Fail(join(s.path, key), format, args...) }

// Table returns the sub-table key of s; ok is false when it is absent or
// not a table (which is reported).
func (s Section) Table(key string) (Section, bool) {
	path := join(s.path, key)
	v, present := s.m[key]
	if !present {
		return Section{d: s.d, path: path, m: map[string]any{}}, false
	}
	m, isTable := v.(map[string]any)
	if !isTable {
		s.d.Fail(path, "must be a table, got %s", Describe(v))
		return Section{d: s.d, path: path, m: map[string]any{}}, false
	}
	return Section{d: s.d, path: path, m: m}, true
}

// Tables returns the elements of the array of tables key of s ([[key]]),
// each a section whose path is key[i], so that problems name the element
// and its line. ok is false when the key is absent (no elements) or not an
// array of tables (which is reported).
func (s Section) Tables(key string) ([]Section, bool) {
	path := join(s.path, key)
	v, present := s.m[key]
	if !present {
		return nil, false
	}
	list, isList := v.([]any)
	if !isList {
		s.d.Fail(path, "must be an array of tables ([[%s]]), got %s", key, Describe(v))
		return nil, false
	}
	out := make([]Section, 0, len(list))
	for i, x := range list {
		m, isTable := x.(map[string]any)
		if !isTable {
			s.d.Fail(fmt.Sprintf("%s[%d]", path, i), "must be a table, got %s", Describe(x))
			return nil, false
		}
		out = append(out, Section{d: s.d, path: fmt.Sprintf("%s[%d]", path, i), m: m})
	}
	return out, true
}

// Required returns the sub-table key of s, reporting it missing with a
// hint when it is absent.
func (s Section) Required(key, hint string) (Section, bool) {
	t, ok := s.Table(key)
	if !ok && !s.Has(key) {
		s.d.Fail(join(s.path, key), "missing; %s", hint)
	}
	return t, ok
}

// Keys returns the table's keys in document order.
func (s Section) Keys() []string {
	keys := s.d.order[s.path]
	if len(keys) == len(s.m) {
		return keys
	}
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		if _, ok := s.m[k]; ok && !seen[k] {
			out = append(out, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range s.m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// Only reports the keys of s that are not allowed.
func (s Section) Only(allowed ...string) {
	for _, k := range s.Keys() {
		if !slices.Contains(allowed, k) {
			where := "allowed in [" + s.path + "]"
			if s.path == "" {
				where = "the sections are"
			}
			s.d.Fail(join(s.path, k), "unknown key; %s: %s", where, strings.Join(allowed, ", "))
		}
	}
}

// Has reports whether s gives key.
func (s Section) Has(key string) bool { _, ok := s.m[key]; return ok }

// Str returns the string at key, or def when it is absent or not a string
// (which is reported).
func (s Section) Str(key, def string) string {
	v, ok := s.m[key]
	if !ok {
		return def
	}
	x, ok := v.(string)
	if !ok {
		s.d.Fail(join(s.path, key), "must be a string, got %s", Describe(v))
		return def
	}
	return x
}

// Int returns the integer at key, or def.
func (s Section) Int(key string, def int64) int64 {
	v, ok := s.m[key]
	if !ok {
		return def
	}
	x, ok := v.(int64)
	if !ok {
		s.d.Fail(join(s.path, key), "must be an integer, got %s", Describe(v))
		return def
	}
	return x
}

// Number returns the number (integer or float) at key; ok is false when
// it is absent or not a number (which is reported).
func (s Section) Number(key string) (float64, bool) {
	switch x := s.m[key].(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case nil:
		return 0, false
	default:
		s.d.Fail(join(s.path, key), "must be a number, got %s", Describe(x))
		return 0, false
	}
}

// Bool returns the boolean at key, or false.
func (s Section) Bool(key string) bool {
	v, ok := s.m[key]
	if !ok {
		return false
	}
	x, ok := v.(bool)
	if !ok {
		s.d.Fail(join(s.path, key), "must be true or false, got %s", Describe(v))
	}
	return x
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Describe names a decoded TOML value's type, and the value, for error
// messages.
func Describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 60 {
			x = x[:57] + "..."
		}
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
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("%T", v)
}

// ParseValue reads a value given on the command line (--set key=value) as
// TOML: an integer, a float, true or false, a quoted string or an array;
// any other bare word is taken as a string.
func ParseValue(v string) (any, error) {
	v = strings.TrimSpace(v)
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f, nil
	}
	if v == "true" || v == "false" {
		return v == "true", nil
	}
	if strings.HasPrefix(v, "[") || strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "'") {
		d, err := Parse("value", []byte("v = "+v))
		if err != nil {
			return nil, fmt.Errorf("not a TOML value: %s", v)
		}
		return d.Root().Map()["v"], nil
	}
	return v, nil
}
