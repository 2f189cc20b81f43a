package search

import (
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// ForType returns the branches of a search parameter expression that apply to typ, joined by " | ". R4 writes
// one expression for all the bases of a parameter ("AllergyIntolerance.patient | CarePlan.subject…"); evaluating
// only the branches of the type saves the others' work on every write. A branch that does not start with a
// resource type name (a function, Resource., DomainResource.) applies to every type.
func ForType(expr, typ string) string {
	var keep []string
	for _, b := range splitUnion(expr) {
		root := branchRoot(b)
		if root == typ || !fhir.IsResourceType(root) || root == "Resource" || root == "DomainResource" {
			keep = append(keep, b)
		}
	}
	return strings.Join(keep, " | ")
}

// splitUnion splits expr at the top-level | operators (outside parentheses, brackets and string literals).
func splitUnion(expr string) []string {
	var out []string
	depth, start := 0, 0
	inString := byte(0)
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case inString != 0:
			if c == '\\' {
				i++
			} else if c == inString {
				inString = 0
			}
		case c == '\'' || c == '`':
			inString = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == '|' && depth == 0:
			out = append(out, strings.TrimSpace(expr[start:i]))
			start = i + 1
		}
	}
	if last := strings.TrimSpace(expr[start:]); last != "" {
		out = append(out, last)
	}
	return out
}

// branchRoot is the first identifier of a branch, after any opening parentheses.
func branchRoot(b string) string {
	b = strings.TrimLeft(b, "( ")
	end := strings.IndexFunc(b, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	})
	if end < 0 {
		return b
	}
	return b[:end]
}
