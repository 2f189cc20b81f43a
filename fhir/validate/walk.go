package validate

import (
	"github.com/accord-fhir/accord/fhir"
)

// walker walks one resource against the index and collects the issues. Values whose JSON shape does not fit
// the definition (a string where an object belongs) and unknown elements are left to the JSON schema step.
type walker struct {
	core       map[string]*typeDef
	invariants InvariantEvaluator
	delta      bool        // checking a profile: only its differences from the core, no datatypes or nested resources
	profile    string      // the profile's URL, for the issue details
	res        fhir.Object // %resource
	root       fhir.Object // %rootResource
	path       []segment
	issues     []fhir.Issue
}

// segment is one step of the FHIRPath location: name, name[index] or name.ofType(type).
type segment struct {
	name   string
	ofType string
	index  int
}

// resource walks a resource (the root, or a nested one whose location is already on the path); a contained
// resource keeps the container as its root resource.
func (w *walker) resource(obj fhir.Object, td *typeDef, contained bool) {
	res, root := w.res, w.root
	w.res = obj
	if !contained {
		w.root = obj
	}
	if w.invariants != nil {
		w.check(td.root.constraints, obj, false)
	}
	if td.root.children != nil {
		w.object(obj, td.root.children)
	}
	w.res, w.root = res, root
}

// object walks the properties of a JSON object against the elements cs defines, then reports the required
// elements it lacks.
func (w *walker) object(obj map[string]any, cs *childSet) {
	var choices [8]keyRef // choice elements met, to catch two types of one choice
	n := 0
	for key, v := range obj {
		name, ext := key, false
		if len(key) > 1 && key[0] == '_' {
			name, ext = key[1:], true
		}
		ref, ok := cs.byKey[name]
		if !ok {
			continue
		}
		el := ref.el
		if el.choice && !ext {
			same := 0
			for _, c := range choices[:n] {
				if c.el == el {
					same++
				}
			}
			if same == 1 { // a second type: report once however many follow
				w.twoTypes(el)
			}
			if n < len(choices) {
				choices[n] = ref
				n++
			}
		}
		w.property(obj, el, &el.types[ref.typ], v, ext)
	}
	for _, el := range cs.required {
		if (!w.delta || el.checkMin) && !present(obj, el) {
			w.missing(el)
		}
	}
}

// present reports whether obj has a value or an extension for el.
func present(obj map[string]any, el *element) bool {
	for i := range el.types {
		t := &el.types[i]
		if obj[t.key] != nil || (t.kind == kindPrimitive && obj[t.ext] != nil) {
			return true
		}
	}
	return false
}

// property walks the value of one JSON property: a single item or an array of items.
func (w *walker) property(obj map[string]any, el *element, t *elemType, v any, ext bool) {
	w.path = append(w.path, segment{name: el.name, index: -1})
	at := len(w.path) - 1
	if el.choice {
		w.path[at].ofType = t.code
	}
	list, isList := v.([]any)
	if el.max >= 0 && (!w.delta || el.checkMax) && (!ext || obj[t.key] == nil) {
		count := 1
		if isList {
			count = len(list)
		}
		if count > el.max {
			w.tooMany(el, count)
		}
	}
	if isList {
		for i, item := range list {
			w.path[at].index = i
			w.item(obj, el, t, item, ext, i)
		}
	} else {
		w.item(obj, el, t, v, ext, -1)
	}
	w.path = w.path[:at]
}

// item walks one value of an element.
func (w *walker) item(parent map[string]any, el *element, t *elemType, v any, ext bool, index int) {
	if ext { // "_name": the id and extensions of a primitive
		if o, ok := v.(map[string]any); ok && !w.delta && t.def != nil && t.def.root.children != nil {
			w.object(o, t.def.root.children)
		}
		return
	}
	switch t.kind {
	case kindComplex:
		o, ok := v.(map[string]any)
		if !ok {
			return
		}
		w.rules(el, t, v)
		if w.invariants != nil {
			w.check(t.constraints, o, emptyObject(o))
		}
		cs := el.children
		if !w.delta {
			cs = childrenOf(el, t)
		}
		if cs != nil {
			w.object(o, cs)
		}
	case kindResource:
		o, ok := v.(map[string]any)
		td := w.core[fhir.ResourceType(o)]
		if !ok || w.delta || td == nil || td.kind != "resource" || td.abstract {
			return
		}
		if w.invariants != nil {
			w.check(el.constraints, o, false)
		}
		w.resource(o, td, el.name == "contained")
	default:
		w.rules(el, t, v)
		if w.invariants != nil && t.kind == kindPrimitive {
			w.check(t.constraints, v, v == nil && !hasExtension(parent, t, index))
		}
	}
}

// rules checks the required binding, fixed value and pattern of el on one value. A null (the place of a
// primitive that has only extensions, in an array) has nothing to check.
func (w *walker) rules(el *element, t *elemType, v any) {
	if v == nil {
		return
	}
	if el.binding != nil {
		w.checkBinding(el, t, v)
	}
	if el.fixed != nil && !equalJSON(el.fixed, v) {
		w.report(fhir.IssueValue, fhir.SeverityError, "", el.path+": the value is not the fixed value",
			fixedDiagnostics("fixed", el.fixed, v))
	}
	if el.pattern != nil && !matchesPattern(el.pattern, v) {
		w.report(fhir.IssueValue, fhir.SeverityError, "", el.path+": the value does not match the pattern",
			fixedDiagnostics("pattern", el.pattern, v))
	}
}
