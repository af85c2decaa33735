package tomlconf

import (
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Unmarshaler is a field type that reads its own TOML value (an int or a
// list, say). The error's text says what is allowed.
type Unmarshaler interface {
	UnmarshalConfig(v any) error
}

// Valuer is a field type that gives the value to write for it.
type Valuer interface {
	ConfigValue() any
}

// Field is a key of a struct decoded by [Section.Decode].
type Field struct {
	// Key is the key as configs spell it; Doc its documentation (the doc
	// struct tag); Value the field's current value.
	Key, Doc string
	Value    any
	index    int
}

// Fields lists the keys of the struct v points to (or is), in declaration
// order: exported fields with a non-empty tag other than "-" (and not
// tagged toml:"-" when the keys come from another tag).
func Fields(v any, tag string) []Field {
	rv := reflect.Indirect(reflect.ValueOf(v))
	rt := rv.Type()
	var out []Field
	for i := range rt.NumField() {
		f := rt.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get(tag), ",")
		if !f.IsExported() || name == "" || name == "-" || f.Tag.Get("toml") == "-" {
			continue
		}
		val := rv.Field(i).Interface()
		if vr, ok := val.(Valuer); ok {
			val = vr.ConfigValue()
		}
		out = append(out, Field{Key: name, Doc: f.Tag.Get("doc"), Value: val, index: i})
	}
	return out
}

// Keys returns the keys of Fields.
func Keys(v any, tag string) []string {
	var keys []string
	for _, f := range Fields(v, tag) {
		keys = append(keys, f.Key)
	}
	return keys
}

// Decode sets the fields of the struct v points to from s, matching keys
// to the fields' tag (e.g. "toml" or "json"). Keys of s with no field,
// values of the wrong type and integers out of range are reported, each
// with what is allowed; fields s does not give keep their values.
func (s Section) Decode(v any, tag string) {
	rv := reflect.ValueOf(v).Elem()
	fields := Fields(v, tag)
	byKey := map[string]Field{}
	var keys []string
	for _, f := range fields {
		byKey[f.Key] = f
		keys = append(keys, f.Key)
	}
	for _, k := range s.Keys() {
		f, ok := byKey[k]
		if !ok {
			where := "allowed in [" + s.path + "]"
			if s.path == "" {
				where = "allowed"
			}
			s.Fail(k, "unknown key; %s: %s", where, strings.Join(keys, ", "))
			continue
		}
		s.set(rv.Field(f.index), k)
	}
}

// set decodes the value at key into field fv.
func (s Section) set(fv reflect.Value, key string) {
	raw := s.m[key]
	if u, ok := fv.Addr().Interface().(Unmarshaler); ok {
		if err := u.UnmarshalConfig(raw); err != nil {
			s.Fail(key, "%v", err)
		}
		return
	}
	switch fv.Kind() {
	case reflect.String:
		if x, ok := raw.(string); ok {
			fv.SetString(x)
		} else {
			s.Fail(key, "must be a string, got %s", Describe(raw))
		}
	case reflect.Bool:
		if x, ok := raw.(bool); ok {
			fv.SetBool(x)
		} else {
			s.Fail(key, "must be true or false, got %s", Describe(raw))
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		x, ok := raw.(int64)
		if !ok {
			s.Fail(key, "must be an integer, got %s", Describe(raw))
			return
		}
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		if fv.Kind() == reflect.Int64 {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		if x < lo || x > hi {
			s.Fail(key, "%d is out of range; allowed: an integer from %d to %d", x, lo, hi)
			return
		}
		fv.SetInt(x)
	case reflect.Uint64, reflect.Uint:
		x, ok := raw.(int64)
		if !ok || x < 0 {
			s.Fail(key, "must be a non-negative integer, got %s", Describe(raw))
			return
		}
		fv.SetUint(uint64(x))
	case reflect.Float64:
		switch x := raw.(type) {
		case float64:
			fv.SetFloat(x)
		case int64:
			fv.SetFloat(float64(x))
		default:
			s.Fail(key, "must be a number, got %s", Describe(raw))
		}
	case reflect.Slice:
		list, ok := raw.([]any)
		if !ok || fv.Type().Elem().Kind() != reflect.String {
			if fv.Type().Elem().Kind() == reflect.String {
				s.Fail(key, "must be an array of strings, got %s", Describe(raw))
			} else {
				s.Fail(key, "cannot be set from a config (%s)", fv.Type())
			}
			return
		}
		if len(list) == 0 {
			fv.Set(reflect.Zero(fv.Type())) // nil, as in a config that leaves the key out
			return
		}
		out := reflect.MakeSlice(fv.Type(), 0, len(list))
		for i, e := range list {
			x, ok := e.(string)
			if !ok {
				s.Fail(key, "element %d is %s; every element must be a string", i, Describe(e))
				return
			}
			out = reflect.Append(out, reflect.ValueOf(x))
		}
		fv.Set(out)
	default:
		s.Fail(key, "cannot be set from a config (%s)", fv.Type())
	}
}

// WriteTable writes v's fields as the TOML table [name] (no header when
// name is ""), one "key = value" line each with its doc as a comment.
func WriteTable(w io.Writer, name string, v any, tag string) error {
	fields := Fields(v, tag)
	if name != "" {
		if _, err := fmt.Fprintf(w, "[%s]\n", name); err != nil {
			return err
		}
	}
	lines := make([]string, len(fields))
	width := 0
	for i, f := range fields {
		val, err := FormatValue(f.Value)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", name, f.Key, err)
		}
		lines[i] = f.Key + " = " + val
		width = max(width, len(lines[i]))
	}
	for i, f := range fields {
		line := lines[i]
		if f.Doc != "" {
			line += strings.Repeat(" ", width-len(line)) + "  # " + f.Doc
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// FormatValue writes one value as TOML (strings in double quotes).
func FormatValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return quote(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("%.1f", x), nil
		}
		return fmt.Sprint(x), nil
	case []string:
		if x == nil {
			x = []string{}
		}
		v = x
	}
	b, err := toml.Marshal(map[string]any{"v": v})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(strings.TrimPrefix(string(b), "v = ")), nil
}

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
