package validate

import (
	"encoding/json"

	"github.com/accord-fhir/accord/fhir"
)

// equalJSON reports whether v is exactly the fixed value want: same properties, same array items in the same
// order, same scalars (numbers compared as written, as FHIR decimals keep their precision).
// See https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.fixed_x_.
func equalJSON(want, v any) bool {
	switch w := want.(type) {
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok || len(m) != len(w) {
			return false
		}
		for k, wv := range w {
			if mv, ok := m[k]; !ok || !equalJSON(wv, mv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := v.([]any)
		if !ok || len(l) != len(w) {
			return false
		}
		for i := range w {
			if !equalJSON(w[i], l[i]) {
				return false
			}
		}
		return true
	}
	return scalarEqual(want, v)
}

// matchesPattern reports whether v has at least what pattern has: every property of the pattern, with arrays
// where each pattern item matches some item of v.
// See https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.pattern_x_.
func matchesPattern(pattern, v any) bool {
	switch p := pattern.(type) {
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for k, pv := range p {
			if mv, ok := m[k]; !ok || !matchesPattern(pv, mv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := v.([]any)
		if !ok {
			l = []any{v}
		}
		for _, pi := range p {
			if !anyMatches(pi, l) {
				return false
			}
		}
		return true
	}
	return scalarEqual(pattern, v)
}

func anyMatches(pattern any, items []any) bool {
	for _, it := range items {
		if matchesPattern(pattern, it) {
			return true
		}
	}
	return false
}

func scalarEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x == y
	case string, bool, nil:
		return a == b
	}
	return false
}

// fixedDiagnostics says what was expected and found; the found value may be patient data, so it belongs in
// diagnostics only.
func fixedDiagnostics(kind string, want, got any) string {
	w, _ := fhir.Marshal(want)
	g, _ := fhir.Marshal(got)
	return "expected " + kind + " " + string(w) + ", found " + string(g)
}
