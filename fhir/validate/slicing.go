package validate

import (
	"fmt"
	"slices"
	"strings"
)

// slicing is the slicing of an element with its slices, ready to match items.
// See https://hl7.org/fhir/R4/profiling.html#slicing.
type slicing struct {
	discriminators []discriminatorDef
	closed         bool
	slices         []*slice
}

type discriminatorDef struct {
	kind string   // value or pattern
	path []string // "url", "system", "code.coding"; empty for $this
}

// slice is one named slice: its element (cardinality, children, fixed and pattern values, constraints) and
// the values that items of the slice have at the discriminator paths.
type slice struct {
	name string
	el   *element
	want []discriminatorValue
}

type discriminatorValue struct {
	path    []string
	value   any
	pattern bool // matched as a pattern (the slice gives a pattern[x]) rather than exactly (fixed[x])
}

// newSlicing checks a slicing definition: only value and pattern discriminators on plain paths are supported.
func newSlicing(def *slicingDef, id string) (*slicing, error) {
	s := &slicing{closed: def.Rules == "closed"}
	for _, d := range def.Discriminator {
		if d.Type != "value" && d.Type != "pattern" {
			return nil, fmt.Errorf("element %s: slicing discriminator type %q is not supported (value and pattern are)", id, d.Type)
		}
		var path []string
		if d.Path != "$this" {
			if strings.ContainsAny(d.Path, "()[]") {
				return nil, fmt.Errorf("element %s: slicing discriminator path %q is not supported (only element names)", id, d.Path)
			}
			path = strings.Split(d.Path, ".")
		}
		s.discriminators = append(s.discriminators, discriminatorDef{kind: d.Type, path: path})
	}
	if len(s.discriminators) == 0 {
		return nil, fmt.Errorf("element %s: slicing without discriminator is not supported", id)
	}
	return s, nil
}

// defaultExtensionSlicing is the slicing every extension element has in the base definitions: by url, open.
func defaultExtensionSlicing() *slicing {
	return &slicing{discriminators: []discriminatorDef{{kind: "value", path: []string{"url"}}}}
}

// compile finds, for each slice, the value its items have at each discriminator path: the fixed or pattern
// value of the element at that path below the slice, or for "url" on an extension slice typed with an
// extension definition, that definition's URL (whether the definition is loaded or not).
func (s *slicing) compile(sliced *element) error {
	for _, sl := range s.slices {
		sl.want = sl.want[:0]
		for _, d := range s.discriminators {
			v, pattern, ok := discriminatorTarget(sl.el, d.path)
			if !ok {
				return fmt.Errorf("element %s slice %s: no fixed or pattern value at discriminator path %q",
					sliced.path, sl.name, strings.Join(d.path, "."))
			}
			sl.want = append(sl.want, discriminatorValue{path: d.path, value: v, pattern: pattern || d.kind == "pattern"})
		}
	}
	return nil
}

func discriminatorTarget(el *element, path []string) (any, bool, bool) {
	if len(path) == 1 && path[0] == "url" && len(el.types) == 1 && el.types[0].code == "Extension" {
		if def := el.types[0].def; def != nil && def.profile {
			return def.url, false, true
		}
		if p := el.types[0].profile; p != "" { // an extension whose definition is not loaded
			return p, false, true
		}
	}
	for _, seg := range path {
		var cs *childSet
		if el.children != nil {
			cs = el.children
		} else if len(el.types) == 1 {
			cs = childrenOf(el, &el.types[0])
		}
		if cs == nil || cs.byName[seg] == nil {
			return nil, false, false
		}
		el = cs.byName[seg]
	}
	switch {
	case el.fixed != nil:
		return el.fixed, false, true
	case el.pattern != nil:
		return el.pattern, true, true
	}
	return nil, false, false
}

// match returns the first slice whose discriminator values item has, nil for none.
func (s *slicing) match(item any) *slice {
	for _, sl := range s.slices {
		if sl.matches(item) {
			return sl
		}
	}
	return nil
}

// matches reports whether item has every discriminator value of the slice. A path through a repeating element
// ("coding.code" of a CodeableConcept) holds a value when one of the items on the way has it.
func (sl *slice) matches(item any) bool {
	for _, w := range sl.want {
		if !w.foundIn(item, w.path) {
			return false
		}
	}
	return true
}

func (w *discriminatorValue) foundIn(v any, path []string) bool {
	if list, ok := v.([]any); ok {
		return slices.ContainsFunc(list, func(x any) bool { return w.foundIn(x, path) })
	}
	if len(path) > 0 {
		m, ok := v.(map[string]any)
		return ok && w.foundIn(m[path[0]], path[1:])
	}
	switch {
	case v == nil:
		return false
	case w.pattern:
		return matchesPattern(w.value, v)
	}
	return equalJSON(w.value, v)
}

// requiredSlices reports whether some slice has a min above 0.
func (s *slicing) requiredSlices() bool {
	for _, sl := range s.slices {
		if sl.el.min > 0 {
			return true
		}
	}
	return false
}

// sliceExpression renders the FHIRPath of a slice below the current location: extension('url') for an
// extension slice, the sliced element otherwise.
func sliceExpression(el *element, sl *slice) string {
	if len(sl.want) != 1 || len(sl.want[0].path) != 1 || sl.want[0].path[0] != "url" {
		return el.name
	}
	u, ok := sl.want[0].value.(string)
	switch {
	case ok && el.name == "extension":
		return "extension('" + u + "')"
	case ok && el.name == "modifierExtension":
		return "modifierExtension.where(url = '" + u + "')"
	}
	return el.name
}
