package optimize_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/optimize"
)

func TestParamValidate(t *testing.T) {
	cases := []struct {
		name string
		p    optimize.Param
		key  string // "" means valid
		msg  string
	}{
		{"float ok", optimize.Param{Name: "x", Kind: optimize.Float, Low: -1, High: 1}, "", ""},
		{"low >= high", optimize.Param{Name: "x", Kind: optimize.Float, Low: 1, High: 1}, "low", "less than high"},
		{"log low <= 0", optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1, Log: true}, "log", "low > 0"},
		{"step and log", optimize.Param{Name: "x", Kind: optimize.Float, Low: 1, High: 2, Log: true, Step: 0.1}, "step", "exclude"},
		{"points and step", optimize.Param{Name: "x", Kind: optimize.Float, Low: 1, High: 2, Points: 3, Step: 0.1}, "points", "exclude"},
		{"one point", optimize.Param{Name: "x", Kind: optimize.Float, Low: 1, High: 2, Points: 1}, "points", "at least 2"},
		{"nan bound", optimize.Param{Name: "x", Kind: optimize.Float, Low: math.NaN(), High: 2}, "low", "finite"},
		{"negative step", optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 2, Step: -1}, "step", "positive"},
		{"int ok", optimize.Param{Name: "n", Kind: optimize.Int, Low: 1, High: 8, Log: true}, "", ""},
		{"int fractional", optimize.Param{Name: "n", Kind: optimize.Int, Low: 0.5, High: 8}, "low", "integers"},
		{"int step fractional", optimize.Param{Name: "n", Kind: optimize.Int, Low: 0, High: 8, Step: 0.5}, "step", "positive integer"},
		{"int points", optimize.Param{Name: "n", Kind: optimize.Int, Low: 0, High: 8, Points: 3}, "points", "float"},
		{"int log low 0", optimize.Param{Name: "n", Kind: optimize.Int, Low: 0, High: 8, Log: true}, "log", "low > 0"},
		{"categorical ok", optimize.Param{Name: "c", Kind: optimize.Categorical, Values: []any{"a", int64(1), 2.5, true}}, "", ""},
		{"categorical empty", optimize.Param{Name: "c", Kind: optimize.Categorical}, "values", "at least one"},
		{"categorical dup", optimize.Param{Name: "c", Kind: optimize.Categorical, Values: []any{"a", "a"}}, "values", "twice"},
		{"categorical type", optimize.Param{Name: "c", Kind: optimize.Categorical, Values: []any{[]int{1}}}, "values", "allowed"},
		{"values on float", optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1, Values: []any{"a"}}, "values", "categorical"},
		{"bad name", optimize.Param{Name: "x y", Kind: optimize.Float, Low: 0, High: 1}, "", "letters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate()
			if c.key == "" && c.msg == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var pe *optimize.ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("Validate = %v, want a *ParamError", err)
			}
			if pe.Key != c.key || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("Validate = key %q msg %q, want key %q and a message containing %q", pe.Key, pe.Msg, c.key, c.msg)
			}
		})
	}
}

func TestNewSpaceRejectsDuplicates(t *testing.T) {
	x := optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1}
	if _, err := optimize.NewSpace(x, x); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("NewSpace with a duplicate = %v", err)
	}
	if _, err := optimize.NewSpace(); err == nil {
		t.Fatal("NewSpace with no parameters succeeded")
	}
}

func TestFromUnit(t *testing.T) {
	cases := []struct {
		name string
		p    optimize.Param
		u    float64
		want any
	}{
		{"float low", optimize.Param{Kind: optimize.Float, Low: -5, High: 10}, 0, -5.0},
		{"float mid", optimize.Param{Kind: optimize.Float, Low: -5, High: 10}, 0.5, 2.5},
		{"float clamps 1", optimize.Param{Kind: optimize.Float, Low: -5, High: 10}, 1, 10.0},
		{"float log mid", optimize.Param{Kind: optimize.Float, Low: 1e-4, High: 1, Log: true}, 0.5, 1e-2},
		{"float step", optimize.Param{Kind: optimize.Float, Low: 0, High: 1, Step: 0.1}, 0.3, 0.3},
		{"float step top", optimize.Param{Kind: optimize.Float, Low: 0, High: 1, Step: 0.1}, 0.9999, 1.0},
		{"float step off grid top", optimize.Param{Kind: optimize.Float, Low: 0, High: 1, Step: 0.3}, 0.9999, 0.9},
		{"int", optimize.Param{Kind: optimize.Int, Low: 1, High: 4}, 0.99, int64(4)},
		{"int zero", optimize.Param{Kind: optimize.Int, Low: 1, High: 4}, 0, int64(1)},
		{"int step", optimize.Param{Kind: optimize.Int, Low: 0, High: 10, Step: 5}, 0.5, int64(5)},
		// The log scale spans [0.5, 1024.5]: its midpoint is √512.25 ≈ 22.6.
		{"int log", optimize.Param{Kind: optimize.Int, Low: 1, High: 1024, Log: true}, 0.5, int64(23)},
		{"categorical", optimize.Param{Kind: optimize.Categorical, Values: []any{"a", "b", "c"}}, 0.5, "b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.p.FromUnit(c.u)
			if f, ok := c.want.(float64); ok {
				g, ok := got.(float64)
				if !ok || math.Abs(g-f) > 1e-12*max(1, math.Abs(f)) {
					t.Fatalf("FromUnit(%v) = %#v, want %v", c.u, got, c.want)
				}
				return
			}
			if got != c.want {
				t.Fatalf("FromUnit(%v) = %#v, want %#v", c.u, got, c.want)
			}
		})
	}
}

func TestStepValuesAreRounded(t *testing.T) {
	p := optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1, Step: 0.1}
	for k := range 11 {
		got := p.FromUnit((float64(k) + 0.5) / 11).(float64)
		want := float64(k) / 10
		if got != want {
			t.Errorf("value %d = %v, want exactly %v", k, got, want)
		}
	}
}

func TestParamsJSONRoundTrip(t *testing.T) {
	p := optimize.Params{"f": 2.0, "g": 1e-7, "n": int64(3), "s": "adam", "b": true, "neg": -0.5}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"b":true,"f":2.0,"g":1e-07,"n":3,"neg":-0.5,"s":"adam"}`; string(data) != want {
		t.Errorf("Marshal = %s, want %s", data, want)
	}
	var q optimize.Params
	if err := json.Unmarshal(data, &q); err != nil {
		t.Fatal(err)
	}
	if !p.Equal(q) {
		t.Errorf("round trip = %#v, want %#v", q, p)
	}
	if _, err := json.Marshal(optimize.Params{"x": math.NaN()}); err == nil {
		t.Error("Marshal of NaN succeeded")
	}
	if err := json.Unmarshal([]byte(`{"x":null}`), &q); err == nil {
		t.Error("Unmarshal of null succeeded")
	}
}

func TestSpaceContains(t *testing.T) {
	s := mustSpace(t,
		optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1},
		optimize.Param{Name: "n", Kind: optimize.Int, Low: 1, High: 3},
		optimize.Param{Name: "c", Kind: optimize.Categorical, Values: []any{"a", int64(2)}},
	)
	if err := s.Contains(optimize.Params{"x": 0.5, "n": int64(2), "c": int64(2)}); err != nil {
		t.Errorf("Contains: %v", err)
	}
	for _, p := range []optimize.Params{
		{"x": 1.5, "n": int64(2), "c": "a"},
		{"x": 0.5, "n": 2.0, "c": "a"},
		{"x": 0.5, "n": int64(2), "c": "b"},
		{"x": 0.5, "n": int64(2)},
		{"x": 0.5, "n": int64(2), "c": "a", "z": 1.0},
	} {
		if err := s.Contains(p); err == nil {
			t.Errorf("Contains(%v) = nil, want an error", p)
		}
	}
}

func mustSpace(t testing.TB, params ...optimize.Param) *optimize.Space {
	t.Helper()
	s, err := optimize.NewSpace(params...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
