package validate

import (
	"regexp"
	"strings"
)

// A guard decides, in Go, the common tests that select a profile or open an "A implies B" constraint, so that
// the FHIRPath engine runs only when they hold. Only the forms below are recognised, and each is decided exactly
// as FHIRPath would (on resources the JSON schema accepted); anything else is left to the engine.
//
//	category.coding.where(system = 'S' and code = 'C').exists()               a coded element has S|C
//	code.coding.where(system = 'S' and (code = 'A' or code = 'B')).exists()   … one of several codes
//	X or Y                                                                     either (of the two forms above)
//	status = 'a', (status = 'a' or status = 'b')                               a code element has a value
type guard interface {
	// test returns the value of the expression on node, and false when it cannot decide (the engine must).
	test(node map[string]any) (value, known bool)
}

var (
	codingAlt  = regexp.MustCompile(`^(\w+)\.coding\.where\(system = '([^'\\]*)' and (?:code = '([^'\\]*)'|\(((?:code = '[^'\\]*'(?: or )?)+)\))\)\.exists\(\)`)
	quoted     = regexp.MustCompile(`'([^'\\]*)'`)
	equalsAlts = regexp.MustCompile(`^\(?((\w+) = '[^'\\]*'(?: or (\w+) = '[^'\\]*')*)\)?$`)
)

// parseGuard returns the guard of expr, nil when it has none of the recognised forms.
func parseGuard(expr string) guard {
	if g := parseCodings(expr); g != nil {
		return g
	}
	return parseEquals(expr)
}

// impliesGuard returns the guard of the left side of "A implies B", nil when expr is not of that form or A is
// not recognised. When the guard is false, so is A, and the constraint holds.
func impliesGuard(expr string) guard {
	left, _, ok := strings.Cut(expr, " implies ")
	if !ok {
		return nil
	}
	return parseGuard(strings.TrimSpace(left))
}

// codings tests whether an element (a CodeableConcept or a list of them) has a coding of one of the alternatives.
type codings []codingTest

type codingTest struct {
	element, system string
	codes           []string
}

func parseCodings(expr string) codings {
	var out codings
	for rest := expr; ; {
		m := codingAlt.FindStringSubmatch(rest)
		if m == nil {
			return nil
		}
		t := codingTest{element: m[1], system: m[2]}
		if m[3] != "" || m[4] == "" {
			t.codes = []string{m[3]}
		} else {
			for _, q := range quoted.FindAllStringSubmatch(m[4], -1) {
				t.codes = append(t.codes, q[1])
			}
		}
		out = append(out, t)
		rest = rest[len(m[0]):]
		if rest == "" {
			return out
		}
		if rest, _ = strings.CutPrefix(rest, " or "); rest == "" {
			return nil
		}
	}
}

func (c codings) test(node map[string]any) (bool, bool) {
	for _, t := range c {
		if t.matches(node[t.element]) {
			return true, true
		}
	}
	return false, true
}

func (t codingTest) matches(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, item := range x {
			if t.matches(item) {
				return true
			}
		}
	case map[string]any:
		list, _ := x["coding"].([]any)
		for _, c := range list {
			m, _ := c.(map[string]any)
			if m["system"] == t.system && containsString(t.codes, m["code"]) {
				return true
			}
		}
	}
	return false
}

func containsString(list []string, v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// equals tests whether a primitive element (a string) is one of values; it cannot decide when the element is
// absent (FHIRPath's empty result).
type equals struct {
	element string
	values  []string
}

func parseEquals(expr string) guard {
	m := equalsAlts.FindStringSubmatch(expr)
	if m == nil || (strings.HasPrefix(expr, "(") != strings.HasSuffix(expr, ")")) {
		return nil
	}
	e := equals{element: m[2]}
	for _, part := range strings.Split(m[1], " or ") {
		name, value, _ := strings.Cut(part, " = ")
		if name != e.element {
			return nil
		}
		e.values = append(e.values, strings.Trim(value, "'"))
	}
	return e
}

func (e equals) test(node map[string]any) (bool, bool) {
	s, ok := node[e.element].(string)
	if !ok {
		return false, false
	}
	return containsString(e.values, s), true
}
