package optimize

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Kind is the type of a search-space parameter.
type Kind int

// The parameter kinds.
const (
	Float Kind = iota + 1
	Int
	Categorical
)

// String returns the kind's name as the config spells it.
func (k Kind) String() string {
	switch k {
	case Float:
		return "float"
	case Int:
		return "int"
	case Categorical:
		return "categorical"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind returns the kind named s ("float", "int" or "categorical").
func ParseKind(s string) (Kind, bool) {
	switch s {
	case "float":
		return Float, true
	case "int":
		return Int, true
	case "categorical":
		return Categorical, true
	}
	return 0, false
}

// Param is one dimension of a search space.
//
// Float parameters take values in [Low, High]. With Log they are sampled
// log-uniformly (Low must be positive). With Step they are quantized to
// Low, Low+Step, … up to High; Points sets the number of evenly spaced grid
// values (both ends included, on the log scale when Log is set) and matters
// only to grid search. Step and Log exclude each other, as do Step and Points.
//
// Int parameters take the integers Low, Low+Step, … up to High (Step defaults
// to 1). With Log they are sampled log-uniformly over [Low-0.5, High+0.5] and
// rounded, which gives each integer its share of the log scale; Log needs
// Low >= 1 and Step 1.
//
// Categorical parameters take one of Values: strings, float64, int64 or bool
// values, without duplicates.
type Param struct {
	Name   string
	Kind   Kind
	Low    float64
	High   float64
	Log    bool
	Step   float64
	Points int
	Values Values
	// Conditions, when any, make the parameter active only when every
	// one holds: another parameter, itself active, takes one of the given
	// values. An inactive parameter is absent from a trial's parameters.
	Conditions []Condition
}

// Condition is a parameter's dependence on another: it is active when
// Param takes one of Values.
type Condition struct {
	Param  string
	Values Values
}

// ParamError reports an invalid parameter definition: the parameter, the
// offending field as the config spells it ("low", "values", …), and what is
// allowed.
type ParamError struct {
	Param string
	Key   string
	Msg   string
}

func (e *ParamError) Error() string {
	if e.Param == "" {
		return "optimize: " + e.Msg
	}
	if e.Key == "" {
		return fmt.Sprintf("optimize: parameter %q: %s", e.Param, e.Msg)
	}
	return fmt.Sprintf("optimize: parameter %q: %s: %s", e.Param, e.Key, e.Msg)
}

// MaxNameLen bounds parameter and study names: a study's name is a folder
// of its trials' logs and a column of olc's tables, so it must fit both
// (file names stop at 255 bytes).
const MaxNameLen = 100

// ValidName reports whether s is an acceptable parameter or study name:
// letters, digits, '-', '_' and '.', starting with a letter, digit or '_',
// at most MaxNameLen characters.
func ValidName(s string) bool {
	if s == "" || s[0] == '-' || s[0] == '.' || len(s) > MaxNameLen {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// Validate checks the parameter's definition.
func (p *Param) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &ParamError{Param: p.Name, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if !ValidName(p.Name) {
		return bad("", "a name is at most %d letters, digits, '-', '_' and '.', starting with a letter, digit or '_'", MaxNameLen)
	}
	switch p.Kind {
	case Float, Int:
		if math.IsNaN(p.Low) || math.IsInf(p.Low, 0) {
			return bad("low", "must be a finite number")
		}
		if math.IsNaN(p.High) || math.IsInf(p.High, 0) {
			return bad("high", "must be a finite number")
		}
		if p.Low >= p.High {
			return bad("low", "must be less than high (low = %s, high = %s)", fmtNum(p.Low), fmtNum(p.High))
		}
		if p.Log && p.Low <= 0 {
			return bad("log", "a log scale needs low > 0 (low = %s)", fmtNum(p.Low))
		}
		if p.Step < 0 || math.IsNaN(p.Step) || math.IsInf(p.Step, 0) {
			return bad("step", "must be a positive number")
		}
		if p.Values != nil {
			return bad("values", "only categorical parameters take values")
		}
	case Categorical:
		if len(p.Values) == 0 {
			return bad("values", "must list at least one value")
		}
		for i, v := range p.Values {
			switch x := v.(type) {
			case string, int64, bool:
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return bad("values", "value %d is not a finite number", i)
				}
			default:
				return bad("values", "value %d has type %T; allowed: strings, numbers, booleans", i, v)
			}
			for j := range i {
				if p.Values[j] == v {
					return bad("values", "value %s is listed twice", FormatValue(v))
				}
			}
		}
		if p.Low != 0 || p.High != 0 || p.Log || p.Step != 0 || p.Points != 0 {
			return bad("", "categorical parameters take only values")
		}
		return nil
	default:
		return bad("type", "unknown kind %d; allowed: float, int, categorical", int(p.Kind))
	}
	if p.Kind == Float {
		if p.Step > 0 && p.Log {
			return bad("step", "step and log exclude each other")
		}
		if p.Points != 0 {
			if p.Step > 0 {
				return bad("points", "points and step exclude each other")
			}
			if p.Points < 2 {
				return bad("points", "must be at least 2 (got %d)", p.Points)
			}
		}
		return nil
	}
	// Int.
	if p.Low != math.Trunc(p.Low) || p.High != math.Trunc(p.High) {
		return bad("low", "int bounds must be integers")
	}
	if math.Abs(p.Low) > 1<<53 || math.Abs(p.High) > 1<<53 {
		return bad("high", "int bounds must lie within ±2^53")
	}
	if p.Step != 0 && p.Step != math.Trunc(p.Step) {
		return bad("step", "an int step must be a positive integer (got %s)", fmtNum(p.Step))
	}
	if p.Log && p.Step > 1 {
		return bad("step", "step and log exclude each other")
	}
	if p.Points != 0 {
		return bad("points", "points applies to float parameters only")
	}
	return nil
}

// intStep returns the step of an int parameter (1 when unset).
func (p *Param) intStep() int64 {
	if p.Step >= 1 {
		return int64(p.Step)
	}
	return 1
}

// FromUnit maps u in [0, 1) to a value of the parameter: uniformly on the
// parameter's scale, quantized to its step, rounded for integers, and one
// of Values for categoricals. Values of u outside [0, 1) are clamped.
func (p *Param) FromUnit(u float64) any {
	u = min(max(u, 0), math.Nextafter(1, 0))
	switch p.Kind {
	case Float:
		if p.Step > 0 {
			n := p.stepCount()
			k := min(int64(u*float64(n)), n-1)
			return p.stepValue(k)
		}
		var x float64
		if p.Log {
			lo, hi := math.Log(p.Low), math.Log(p.High)
			x = math.Exp(lo + u*(hi-lo))
		} else {
			x = p.Low + u*(p.High-p.Low)
		}
		return min(max(x, p.Low), p.High)
	case Int:
		lo, hi := int64(p.Low), int64(p.High)
		if p.Log {
			a, b := math.Log(p.Low-0.5), math.Log(p.High+0.5)
			x := int64(math.Round(math.Exp(a + u*(b-a))))
			return min(max(x, lo), hi)
		}
		step := p.intStep()
		n := (hi-lo)/step + 1
		k := min(int64(u*float64(n)), n-1)
		return lo + k*step
	case Categorical:
		k := min(int(u*float64(len(p.Values))), len(p.Values)-1)
		return p.Values[k]
	}
	panic("optimize: FromUnit on a parameter of unknown kind")
}

// stepCount is the number of values Low, Low+Step, … that do not exceed High
// (High itself counts when it falls on the step, up to rounding).
func (p *Param) stepCount() int64 {
	return int64(math.Floor((p.High-p.Low)/p.Step+1e-9)) + 1
}

// stepValue returns Low + k·Step rounded to the decimals that Low and Step are
// written with, so that 0.1 steps give 0.3 and not 0.30000000000000004.
func (p *Param) stepValue(k int64) float64 {
	x := p.Low + float64(k)*p.Step
	d := max(decimals(p.Low), decimals(p.Step))
	if d < 15 {
		if r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', d, 64), 64); err == nil {
			x = r
		}
	}
	return min(max(x, p.Low), p.High)
}

// decimals returns how many digits after the point the shortest decimal form
// of x has.
func decimals(x float64) int {
	s := strconv.FormatFloat(math.Abs(x), 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// Contains reports whether v is a value of the parameter, and why not.
func (p *Param) Contains(v any) error {
	switch p.Kind {
	case Float:
		x, ok := v.(float64)
		if !ok {
			return fmt.Errorf("parameter %q: %v is a %T, want a float", p.Name, v, v)
		}
		if !(x >= p.Low && x <= p.High) {
			return fmt.Errorf("parameter %q: %s is outside [%s, %s]", p.Name, fmtNum(x), fmtNum(p.Low), fmtNum(p.High))
		}
	case Int:
		x, ok := v.(int64)
		if !ok {
			return fmt.Errorf("parameter %q: %v is a %T, want an int", p.Name, v, v)
		}
		if float64(x) < p.Low || float64(x) > p.High {
			return fmt.Errorf("parameter %q: %d is outside [%s, %s]", p.Name, x, fmtNum(p.Low), fmtNum(p.High))
		}
	case Categorical:
		for _, c := range p.Values {
			if c == v {
				return nil
			}
		}
		return fmt.Errorf("parameter %q: %s is not one of its values", p.Name, FormatValue(v))
	}
	return nil
}

// Space is an ordered set of parameters. The order is the one the config
// declares; builtin objectives take their arguments in it and grid search
// varies the last parameter fastest.
type Space struct {
	params []Param
	index  map[string]int
	// order lists the parameters' indices with each after those its
	// conditions name; conditional is set when any parameter has one.
	order       []int
	conditional bool
}

// NewSpace validates the parameters and returns their space. It returns a
// *ParamError for the first invalid parameter.
func NewSpace(params ...Param) (*Space, error) {
	if len(params) == 0 {
		return nil, &ParamError{Msg: "a search space needs at least one parameter"}
	}
	s := &Space{params: make([]Param, len(params)), index: make(map[string]int, len(params))}
	for i, p := range params {
		if err := p.Validate(); err != nil {
			return nil, err
		}
		if _, dup := s.index[p.Name]; dup {
			return nil, &ParamError{Param: p.Name, Msg: "declared twice"}
		}
		p.Values = append([]any(nil), p.Values...)
		p.Conditions = slices.Clone(p.Conditions)
		s.params[i] = p
		s.index[p.Name] = i
	}
	if err := s.checkConditions(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkConditions checks that every condition names another parameter
// and values it can take, and that no chain of conditions returns to its
// start; it sets the order in which activity is decided.
func (s *Space) checkConditions() error {
	for i := range s.params {
		p := &s.params[i]
		for k := range p.Conditions {
			c := &p.Conditions[k]
			j, ok := s.index[c.Param]
			switch {
			case !ok:
				return &ParamError{Param: p.Name, Key: "condition", Msg: fmt.Sprintf("names %q, which is not a parameter; the parameters: %s", c.Param, strings.Join(s.Names(), ", "))}
			case j == i:
				return &ParamError{Param: p.Name, Key: "condition", Msg: "a parameter cannot depend on itself"}
			case len(c.Values) == 0:
				return &ParamError{Param: p.Name, Key: "condition", Msg: fmt.Sprintf("lists no value of %q", c.Param)}
			}
			parent := &s.params[j]
			for vi, v := range c.Values {
				v = coerce(parent.Kind, v)
				c.Values[vi] = v
				if err := parent.Contains(v); err != nil {
					shown := FormatValue(v)
					if str, ok := v.(string); ok {
						shown = strconv.Quote(str)
					}
					return &ParamError{Param: p.Name, Key: "condition", Msg: fmt.Sprintf("%s = %s can never hold: %v", c.Param, shown, strings.TrimPrefix(err.Error(), fmt.Sprintf("parameter %q: ", c.Param)))}
				}
			}
			s.conditional = true
		}
	}
	// Depth-first topological order; a grey node reached again is a cycle.
	state := make([]int, len(s.params)) // 0 new, 1 on the path, 2 done
	var path []string
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return &ParamError{Param: s.params[i].Name, Key: "condition", Msg: "the conditions form a cycle: " + strings.Join(append(path, s.params[i].Name), " → ")}
		case 2:
			return nil
		}
		state[i] = 1
		path = append(path, s.params[i].Name)
		for _, c := range s.params[i].Conditions {
			if err := visit(s.index[c.Param]); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[i] = 2
		s.order = append(s.order, i)
		return nil
	}
	for i := range s.params {
		if err := visit(i); err != nil {
			return err
		}
	}
	return nil
}

// coerce converts a number to the kind of a float or int parameter, as
// TOML and JSON readers may hand over either.
func coerce(k Kind, v any) any {
	switch x := v.(type) {
	case int64:
		if k == Float {
			return float64(x)
		}
	case float64:
		if k == Int && x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	}
	return v
}

// Conditional reports whether any parameter has conditions.
func (s *Space) Conditional() bool { return s.conditional }

// Active reports, for each parameter in declaration order, whether it is
// active given the values of p (the values of the parameters it depends
// on; others may be absent).
func (s *Space) Active(p Params) []bool {
	active := make([]bool, len(s.params))
	for _, i := range s.order {
		active[i] = true
		for _, c := range s.params[i].Conditions {
			j := s.index[c.Param]
			v, ok := p[c.Param]
			if !active[j] || !ok || !slices.Contains(c.Values, v) {
				active[i] = false
				break
			}
		}
	}
	return active
}

// Prune returns p without the parameters its own values make inactive.
func (s *Space) Prune(p Params) Params {
	if !s.conditional {
		return p
	}
	active := s.Active(p)
	for i, q := range s.params {
		if !active[i] {
			delete(p, q.Name)
		}
	}
	return p
}

// Len returns the number of parameters.
func (s *Space) Len() int { return len(s.params) }

// Params returns the parameters in declaration order. The slice must not be
// modified.
func (s *Space) Params() []Param { return s.params }

// Names returns the parameter names in declaration order.
func (s *Space) Names() []string {
	names := make([]string, len(s.params))
	for i, p := range s.params {
		names[i] = p.Name
	}
	return names
}

// Param returns the parameter called name.
func (s *Space) Param(name string) (Param, bool) {
	i, ok := s.index[name]
	if !ok {
		return Param{}, false
	}
	return s.params[i], true
}

// FromUnit maps a point of the unit cube, one coordinate per parameter in
// declaration order, to parameters.
func (s *Space) FromUnit(u []float64) Params {
	if len(u) != len(s.params) {
		panic(fmt.Sprintf("optimize: FromUnit got %d coordinates for %d parameters", len(u), len(s.params)))
	}
	p := make(Params, len(s.params))
	for i := range s.params {
		p[s.params[i].Name] = s.params[i].FromUnit(u[i])
	}
	return s.Prune(p)
}

// Contains reports whether p assigns a valid value to every parameter of the
// space and nothing else.
func (s *Space) Contains(p Params) error {
	if len(p) != len(s.params) {
		for name := range p {
			if _, ok := s.index[name]; !ok {
				return fmt.Errorf("parameter %q is not in the space", name)
			}
		}
	}
	active := s.Active(p)
	for i := range s.params {
		v, ok := p[s.params[i].Name]
		if !active[i] {
			if ok {
				return fmt.Errorf("parameter %q is given, but its condition does not hold", s.params[i].Name)
			}
			continue
		}
		if !ok {
			return fmt.Errorf("parameter %q is missing", s.params[i].Name)
		}
		if err := s.params[i].Contains(v); err != nil {
			return err
		}
	}
	return nil
}

// Point returns the parameters values give, checked against the space:
// every parameter must be given, and nothing else. A float parameter takes
// an integer, and an int parameter a float that is a whole number, as
// TOML and JSON readers may hand them over.
func (s *Space) Point(values map[string]any) (Params, error) {
	p := make(Params, len(values))
	for name, v := range values {
		i, ok := s.index[name]
		if !ok {
			return nil, fmt.Errorf("parameter %q is not in the space; its parameters: %s", name, strings.Join(s.Names(), ", "))
		}
		p[name] = coerce(s.params[i].Kind, v)
	}
	if err := s.Contains(p); err != nil {
		return nil, err
	}
	return p, nil
}

func fmtNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
