package validate

import (
	"slices"

	"github.com/accord-fhir/accord/fhir"
)

// walker walks one resource against the index and collects the issues. Values whose JSON shape does not fit
// the definition (a string where an object belongs) and unknown elements are left to the JSON schema step.
type walker struct {
	core       map[string]*typeDef
	profiles   map[string]*typeDef // reduced profiles, for the extension definitions of slices
	invariants InvariantEvaluator
	delta      bool        // checking a profile: only its differences from the core, no datatypes or nested resources
	clause     string      // the clause of the slice being walked, for the issues of elements without their own
	res        fhir.Object // %resource
	root       fhir.Object // %rootResource
	// typeChecks are Options.TypeChecks; nil when checking a profile.
	typeChecks map[string]TypeCheck
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
		w.check(td.root.constraints, obj, td.name, nil, false)
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
			if w.delta && !ext {
				w.notAllowed(cs, key)
			}
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
	for _, el := range cs.sliced {
		if !present(obj, el) {
			w.slices(el, nil, false)
		}
	}
}

// notAllowed reports a property that is the value of a choice element under a type the profile removed
// (valueString where the profile allows only valueQuantity); other unknown properties are the schema's.
func (w *walker) notAllowed(cs *childSet, key string) {
	for _, el := range cs.choices {
		if len(key) > len(el.name) && key[:len(el.name)] == el.name && 'A' <= key[len(el.name)] && key[len(el.name)] <= 'Z' {
			w.typeNotAllowed(el, key)
			return
		}
	}
}

// present reports whether obj has a value or an extension for el: a primitive that has only an id in "_name"
// is not there (it fails ele-1, reported where it stands).
func present(obj map[string]any, el *element) bool {
	for i := range el.types {
		t := &el.types[i]
		if obj[t.key] != nil || (t.kind == kindPrimitive && hasExtensions(obj[t.ext])) {
			return true
		}
	}
	return false
}

// hasExtensions reports whether v, the "_name" of a primitive (an object, or for a repeating primitive an array
// of objects and nulls), holds more than ids.
func hasExtensions(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return !emptyObject(x)
	case []any:
		return slices.ContainsFunc(x, hasExtensions)
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
	if el.slicing != nil && !ext {
		if !isList {
			list = []any{v}
		}
		w.slices(el, list, isList)
	}
}

// slices matches the items of a sliced element to its slices, walks each item against its slice, and checks
// the cardinality of every slice. The location is the element's parent; indexed says the items are a JSON array.
func (w *walker) slices(el *element, items []any, indexed bool) {
	var buf [8]int
	counts := buf[:0]
	if n := len(el.slicing.slices); n <= len(buf) {
		counts = buf[:n]
	} else {
		counts = make([]int, n)
	}
	w.path = append(w.path, segment{name: el.name, index: -1})
	at := len(w.path) - 1
	for i, item := range items {
		if indexed {
			w.path[at].index = i
		}
		sl := el.slicing.match(item)
		if sl == nil {
			if el.slicing.closed {
				w.unmatched(el)
			}
			continue
		}
		for j, s := range el.slicing.slices {
			if s == sl {
				counts[j]++
			}
		}
		w.sliceItem(sl, item)
	}
	w.path = w.path[:at]
	for j, sl := range el.slicing.slices { // reported at the parent, with the slice's expression
		if counts[j] < sl.el.min || (sl.el.max >= 0 && counts[j] > sl.el.max) {
			w.sliceCount(el, sl, counts[j])
		}
	}
}

// sliceItem walks an item against its slice: the slice's own rules and children, and when the slice is typed
// with a profile (an extension definition), what that profile adds. Issues without a clause of their own take
// the slice's, or the extension definition's (the clause of its root element).
func (w *walker) sliceItem(sl *slice, item any) {
	o, ok := item.(map[string]any)
	if !ok {
		return
	}
	clause := w.clause
	el := sl.el
	var ext *typeDef // the extension definition the slice is typed with, reduced to what it adds
	if len(el.types) == 1 && el.types[0].def != nil && el.types[0].def.profile {
		ext = w.profiles[el.types[0].def.url]
	}
	switch {
	case el.clause != "":
		w.clause = el.clause
	case ext != nil && ext.root != nil && ext.root.clause != "":
		w.clause = ext.root.clause
	}
	if len(el.types) > 0 {
		w.rules(el, &el.types[0], item)
	}
	if w.invariants != nil {
		w.check(el.constraints, o, typeName(el, 0), nil, false)
	}
	if el.children != nil {
		w.object(o, el.children)
	}
	if ext != nil && ext.root != nil {
		if w.invariants != nil {
			w.check(ext.root.constraints, o, ext.name, nil, false)
		}
		if ext.root.children != nil {
			w.object(o, ext.root.children)
		}
	}
	w.clause = clause
}

// item walks one value of an element.
func (w *walker) item(parent map[string]any, el *element, t *elemType, v any, ext bool, index int) {
	if ext { // "_name": the id and extensions of a primitive
		o, ok := v.(map[string]any)
		if !ok {
			return
		}
		if !w.delta && t.def != nil && t.def.root.children != nil {
			w.object(o, t.def.root.children)
		}
		if w.invariants != nil && t.kind == kindPrimitive && !hasValue(parent, t, index) {
			// a primitive without value: its constraints (ele-1 first) see only its id and extensions; one with
			// a value is checked with it
			w.check(t.constraints, nil, t.code, o, emptyObject(o))
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
			w.check(t.constraints, o, typeNameOf(el, t), nil, emptyObject(o))
		}
		if check := w.typeChecks[t.code]; check != nil {
			w.typeCheck(check, o)
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
			w.check(el.constraints, o, td.name, nil, false)
		}
		w.resource(o, td, el.name == "contained")
	default:
		w.rules(el, t, v)
		if w.invariants != nil && t.kind == kindPrimitive {
			ext := extensionOf(parent, t, index)
			w.check(t.constraints, v, t.code, ext, v == nil && (ext == nil || emptyObject(ext)))
		}
	}
}

// hasValue reports whether the primitive of type t in parent, at index of its array (-1 when not repeating),
// has a value item: a null in the array of a repeating primitive is checked with the value array.
func hasValue(parent map[string]any, t *elemType, index int) bool {
	if index < 0 {
		return parent[t.key] != nil
	}
	list, _ := parent[t.key].([]any)
	return index < len(list)
}

// rules checks the binding, fixed value and pattern of el on one value. A null (the place of a primitive that
// has only extensions, in an array) has nothing to check.
func (w *walker) rules(el *element, t *elemType, v any) {
	if v == nil {
		return
	}
	if el.binding != nil {
		w.checkBinding(el, t, v)
	}
	if el.fixed != nil && !equalJSON(el.fixed, v) {
		w.report(fhir.IssueValue, fhir.SeverityError, "", el.clause, el.path+": the value is not the fixed value",
			fixedDiagnostics("fixed", el.fixed, v))
	}
	if el.pattern != nil && !matchesPattern(el.pattern, v) {
		w.report(fhir.IssueValue, fhir.SeverityError, "", el.clause, el.path+": the value does not match the pattern",
			fixedDiagnostics("pattern", el.pattern, v))
	}
}

// typeNameOf is the FHIR type of an item of type t at el, as FHIRPath names it: the datatype, or for a backbone
// element its definition path (that of the target of a content reference).
func typeNameOf(el *element, t *elemType) string {
	if t.code != "BackboneElement" && t.code != "Element" {
		return t.code
	}
	if el.contentRef != "" {
		return el.contentRef[1:]
	}
	return el.path
}

func typeName(el *element, i int) string { return typeNameOf(el, &el.types[i]) }
