package ablation

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Design says which variants an ablation runs.
type Design string

// The designs.
const (
	// LeaveOneOut runs the base and, for each component, the base with
	// that component's ablate values applied; a component's effect is
	// ablated − base.
	LeaveOneOut Design = "leave-one-out"
	// AddOneIn runs the minimal variant (every component's ablate values
	// applied) and, for each component, the minimal variant with that one
	// component back; its effect is added − minimal.
	AddOneIn Design = "add-one-in"
	// Factorial runs every on/off combination of the components (2^k
	// variants), for main effects and two-way interactions.
	Factorial Design = "factorial"
)

// Difference says what a component's effect is in design d: the
// difference it takes, paired by seed.
func (d Design) Difference() string {
	switch d {
	case LeaveOneOut:
		return "without it − full"
	case AddOneIn:
		return "only it − minimal"
	default:
		return "off − on, main effect"
	}
}

// Designs lists the designs, as configs name them.
var Designs = []Design{LeaveOneOut, AddOneIn, Factorial}

// MaxFactorialComponents bounds a factorial design (2^8 = 256 variants)
// unless the caller allows larger ones.
const MaxFactorialComponents = 8

// A Component is one part of the system whose worth the ablation
// measures: Ablate holds the values that remove it, by the key the
// objective takes ("model.feedforward" = false).
type Component struct {
	Name   string
	Ablate map[string]any
}

// A Variant is one configuration the ablation runs on every seed: Off
// lists the components ablated in it (in the config's order) and Values
// the parameters it passes to the objective (the base with the ablate
// values of Off applied).
type Variant struct {
	Name   string         `json:"name"`
	Off    []string       `json:"off"`
	Values map[string]any `json:"values"`
}

// Has reports whether component c is on (not ablated) in v.
func (v *Variant) Has(c string) bool { return !slices.Contains(v.Off, c) }

// Plan returns the variants of a design over components, starting from
// base values: for LeaveOneOut "full" then "no <name>" per component; for
// AddOneIn "minimal" then "only <name>"; for Factorial every subset of
// components off, the full variant first, named by the components that
// are off ("full", "no a", "no a, b", …). It refuses two components with
// the same name, a component without keys, two components that set one
// key to different values in a variant that ablates both, an unknown
// design and, unless allowLarge, a factorial design of more than
// MaxFactorialComponents components.
func Plan(design Design, base map[string]any, comps []Component, allowLarge bool) ([]Variant, error) {
	if len(comps) == 0 {
		return nil, fmt.Errorf("no components to ablate")
	}
	seen := map[string]bool{}
	for _, c := range comps {
		if c.Name == "" {
			return nil, fmt.Errorf("a component has no name")
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("two components are named %q", c.Name)
		}
		seen[c.Name] = true
		if len(c.Ablate) == 0 {
			return nil, fmt.Errorf("component %q sets no key; give ablate = { \"key\" = value }", c.Name)
		}
	}
	var offs [][]int // indices of the components off, per variant
	switch design {
	case LeaveOneOut:
		offs = append(offs, nil)
		for i := range comps {
			offs = append(offs, []int{i})
		}
	case AddOneIn:
		all := make([]int, len(comps))
		for i := range all {
			all[i] = i
		}
		offs = append(offs, all)
		for i := range comps {
			offs = append(offs, slices.DeleteFunc(slices.Clone(all), func(j int) bool { return j == i }))
		}
	case Factorial:
		if len(comps) > MaxFactorialComponents && !allowLarge {
			return nil, fmt.Errorf("a factorial design of %d components runs %d variants on every seed; at most %d components (%d variants) unless allowed (--allow-large)",
				len(comps), 1<<len(comps), MaxFactorialComponents, 1<<MaxFactorialComponents)
		}
		if len(comps) > 20 {
			return nil, fmt.Errorf("a factorial design of %d components (2^%d variants) is beyond any budget", len(comps), len(comps))
		}
		for mask := range 1 << len(comps) {
			var off []int
			for i := range comps {
				if mask&(1<<i) != 0 {
					off = append(off, i)
				}
			}
			offs = append(offs, off)
		}
	default:
		names := make([]string, len(Designs))
		for i, d := range Designs {
			names[i] = string(d)
		}
		return nil, fmt.Errorf("unknown design %q; allowed: %s", design, strings.Join(names, ", "))
	}
	out := make([]Variant, 0, len(offs))
	for k, off := range offs {
		v := Variant{Values: maps.Clone(base)}
		if v.Values == nil {
			v.Values = map[string]any{}
		}
		setBy := map[string]string{}
		for _, i := range off {
			c := comps[i]
			v.Off = append(v.Off, c.Name)
			for _, key := range slices.Sorted(maps.Keys(c.Ablate)) {
				val := c.Ablate[key]
				if other, ok := setBy[key]; ok && !equalValues(v.Values[key], val) {
					return nil, fmt.Errorf("components %q and %q set %s to different values (%v and %v), and variant %d ablates both", other, c.Name, key, v.Values[key], val, k)
				}
				setBy[key] = c.Name
				v.Values[key] = val
			}
		}
		v.Name = variantName(design, k, v.Off, comps)
		out = append(out, v)
	}
	return out, nil
}

// variantName names variant k of a design.
func variantName(design Design, k int, off []string, comps []Component) string {
	switch {
	case design == AddOneIn && k == 0:
		return "minimal"
	case design == AddOneIn:
		return "only " + comps[k-1].Name
	case len(off) == 0:
		return "full"
	default:
		return "no " + strings.Join(off, ", ")
	}
}

// equalValues compares two config values (TOML scalars and arrays).
func equalValues(a, b any) bool { return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b) }
