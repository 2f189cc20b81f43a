package auth

import (
	"strings"
)

// Scopes is a set of granted scopes.
type Scopes []Scope

// ParseScopes parses a space-separated scope string, such as the scope parameter of a token request.
// It returns the first scope's error when any scope does not parse (see ParseScope); an empty string gives no scopes.
func ParseScopes(s string) (Scopes, error) {
	fields := strings.Fields(s)
	out := make(Scopes, 0, len(fields))
	for _, f := range fields {
		sc, err := ParseScope(f)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// String joins the scopes with spaces, as in the scope field of a token response.
func (ss Scopes) String() string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, " ")
}

// Allows reports whether some scope grants interaction on resourceType. Unknown interactions and an empty
// resource type are never allowed.
func (ss Scopes) Allows(resourceType string, in Interaction) bool {
	need := in.permission()
	if need == 0 || resourceType == "" || resourceType == "*" {
		return false
	}
	for _, s := range ss {
		if (s.ResourceType == "*" || s.ResourceType == resourceType) && s.Permissions&need != 0 {
			return true
		}
	}
	return false
}

// Grant returns what of requested the allowed scopes grant: the requested ∩ allowed. A requested scope that one
// allowed scope covers is granted as written (v1 stays v1); otherwise its intersections with each allowed scope
// are granted, written as the allowed scope when it is entirely granted and in v2 syntax otherwise. Duplicates and scopes covered by another granted scope are dropped.
func Grant(requested, allowed Scopes) Scopes {
	var out Scopes
	for _, r := range requested {
		if coveredBy(r, allowed) {
			out = append(out, r)
			continue
		}
		for _, a := range allowed {
			if s, ok := r.intersect(a); ok {
				out = append(out, s)
			}
		}
	}
	return simplify(out)
}

// coveredBy reports whether one scope of set covers s.
func coveredBy(s Scope, set Scopes) bool {
	for _, a := range set {
		if a.covers(s) {
			return true
		}
	}
	return false
}

// simplify drops each scope that an earlier scope covers, or that a later one covers strictly.
func simplify(in Scopes) Scopes {
	out := make(Scopes, 0, len(in))
	for i, s := range in {
		redundant := false
		for j, o := range in {
			if i == j || !o.covers(s) {
				continue
			}
			if j < i || !s.covers(o) { // equal scopes: keep the first
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, s)
		}
	}
	return out
}
