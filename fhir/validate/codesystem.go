package validate

// codeSystem indexes the concepts of a complete CodeSystem: every code in document order, the hierarchy (from
// nested concepts and from the parent, subsumedBy and child properties) and the other property values.
// See https://hl7.org/fhir/R4/codesystem.html#hierarchy.
type codeSystem struct {
	codes   []string
	parents map[string][]string
	props   map[string]map[string]string
}

func newCodeSystem(concepts []concept) *codeSystem {
	cs := &codeSystem{parents: map[string][]string{}, props: map[string]map[string]string{}}
	cs.addAll(concepts, "")
	return cs
}

func (cs *codeSystem) addAll(concepts []concept, parent string) {
	for _, c := range concepts {
		if _, seen := cs.props[c.Code]; !seen {
			cs.codes = append(cs.codes, c.Code)
			cs.props[c.Code] = map[string]string{}
		}
		if parent != "" {
			cs.parents[c.Code] = append(cs.parents[c.Code], parent)
		}
		for _, p := range c.Property {
			v := propertyValue(p)
			switch p.Code {
			case "parent", "subsumedBy":
				cs.parents[c.Code] = append(cs.parents[c.Code], v)
			case "child":
				cs.parents[v] = append(cs.parents[v], c.Code)
			default:
				cs.props[c.Code][p.Code] = v
			}
		}
		cs.addAll(c.Concept, c.Code)
	}
}

func propertyValue(p conceptProperty) string {
	switch {
	case p.ValueCode != "":
		return p.ValueCode
	case p.ValueCoding != nil:
		return p.ValueCoding.Code
	case p.ValueBool != nil && *p.ValueBool:
		return "true"
	case p.ValueBool != nil:
		return "false"
	}
	return p.ValueString
}

// descends reports whether code is a descendant (not itself) of ancestor.
func (cs *codeSystem) descends(code, ancestor string) bool {
	seen := map[string]bool{}
	stack := append([]string(nil), cs.parents[code]...)
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if p == ancestor {
			return true
		}
		if !seen[p] {
			seen[p] = true
			stack = append(stack, cs.parents[p]...)
		}
	}
	return false
}

// below returns code and its descendants, in document order; a code the system does not define, alone.
func (cs *codeSystem) below(code string) []string {
	if _, ok := cs.props[code]; !ok {
		return []string{code}
	}
	children := map[string][]string{}
	for c, ps := range cs.parents {
		for _, p := range ps {
			children[p] = append(children[p], c)
		}
	}
	return cs.closure(code, children)
}

// above returns code and its ancestors, in document order; a code the system does not define, alone.
func (cs *codeSystem) above(code string) []string {
	if _, ok := cs.props[code]; !ok {
		return []string{code}
	}
	return cs.closure(code, cs.parents)
}

// closure returns code and every code reached from it through next, in document order.
func (cs *codeSystem) closure(code string, next map[string][]string) []string {
	reached := map[string]bool{code: true}
	stack := []string{code}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, n := range next[c] {
			if !reached[n] {
				reached[n] = true
				stack = append(stack, n)
			}
		}
	}
	out := make([]string, 0, len(reached))
	for _, c := range cs.codes {
		if reached[c] {
			out = append(out, c)
		}
	}
	return out
}
