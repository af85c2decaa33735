package optimize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Params maps parameter names to values: float64 for float parameters, int64
// for int parameters, and for categorical ones the chosen element of the
// parameter's Values (a string, float64, int64 or bool).
//
// Params encode to JSON so that they decode to the same Go types: a float64
// is always written with a decimal point or an exponent (2.0, not 2), and
// numbers without one decode as int64.
type Params map[string]any

// MarshalJSON encodes p with sorted keys, keeping floats and integers apart.
func (p Params) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("null"), nil
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := marshalValue(p[k])
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", k, err)
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalValue(v any) ([]byte, error) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("value %v is not finite", x)
		}
		return []byte(formatFloat(x)), nil
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case int:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case string, bool:
		return json.Marshal(x)
	}
	return nil, fmt.Errorf("value of type %T; allowed: float64, int64, string, bool", v)
}

// formatFloat writes x in its shortest form with a decimal point or exponent.
func formatFloat(x float64) string {
	s := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// UnmarshalJSON decodes an object written by MarshalJSON: numbers with a
// decimal point or exponent become float64, other numbers int64.
func (p *Params) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw == nil {
		*p = nil
		return nil
	}
	out := make(Params, len(raw))
	for k, r := range raw {
		v, err := decodeValue(r)
		if err != nil {
			return fmt.Errorf("parameter %q: %w", k, err)
		}
		out[k] = v
	}
	*p = out
	return nil
}

func decodeValue(r json.RawMessage) (any, error) {
	r = bytes.TrimSpace(r)
	if len(r) == 0 {
		return nil, fmt.Errorf("empty value")
	}
	switch r[0] {
	case '"':
		var s string
		err := json.Unmarshal(r, &s)
		return s, err
	case 't', 'f':
		var b bool
		err := json.Unmarshal(r, &b)
		return b, err
	case 'n':
		return nil, fmt.Errorf("null is not a parameter value")
	case '{', '[':
		return nil, fmt.Errorf("%s is not a parameter value", r)
	}
	s := string(r)
	if strings.ContainsAny(s, ".eE") {
		return strconv.ParseFloat(s, 64)
	}
	return strconv.ParseInt(s, 10, 64)
}

// Clone returns a copy of p.
func (p Params) Clone() Params {
	if p == nil {
		return nil
	}
	q := make(Params, len(p))
	for k, v := range p {
		q[k] = v
	}
	return q
}

// Equal reports whether p and q assign the same values to the same names.
func (p Params) Equal(q Params) bool {
	if len(p) != len(q) {
		return false
	}
	for k, v := range p {
		w, ok := q[k]
		if !ok || v != w {
			return false
		}
	}
	return true
}

// FormatValue writes a parameter value the way commands receive it in
// {name} placeholders and OLC_PARAM_<NAME> variables: floats in their
// shortest round-tripping form, integers in decimal, booleans as true or
// false, strings as they are.
func FormatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// Values is a list of categorical values. It encodes to JSON as Params do,
// keeping float64 and int64 apart.
type Values []any

// MarshalJSON encodes the values.
func (v Values) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		e, err := marshalValue(x)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		b.Write(e)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// UnmarshalJSON decodes values written by MarshalJSON.
func (v *Values) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw == nil {
		*v = nil
		return nil
	}
	out := make(Values, len(raw))
	for i, r := range raw {
		x, err := decodeValue(r)
		if err != nil {
			return fmt.Errorf("value %d: %w", i, err)
		}
		out[i] = x
	}
	*v = out
	return nil
}
