package validate

import "github.com/accord-fhir/accord/fhir"

// typeDef is the index of one StructureDefinition: a core type (resource, datatype, primitive) or a profile.
type typeDef struct {
	name     string // the type described: "Task", "HumanName", "string"
	url      string
	base     string // the canonical URL of the base definition
	kind     string // primitive-type, complex-type, resource or logical
	profile  bool   // derivation constraint
	abstract bool
	root     *element
	// appliesWhen is the FHIRPath expression of a profile's applies-when extension: the profile applies to
	// every resource of its type for which it is true ("true" for all of them); "" when the profile applies
	// only when named in meta.profile. selector decides it in Go when it has a form guard.go recognises.
	appliesWhen string
	selector    guard
}

// element is one ElementDefinition, ready for validation.
type element struct {
	path   string // definition path, e.g. "Task.input.value[x]"
	name   string // JSON name; for a choice, the name before the type ("value")
	min    int
	max    int // -1 for "*"
	choice bool
	types  []elemType
	// children are the elements defined below this one: a backbone element's, or those a profile constrains
	// inside a datatype. When nil, an item's children are those of its type.
	children   *childSet
	binding    *codeSet // a required binding that could be expanded
	bindingURL string
	fixed      any
	pattern    any
	// bindingSeverity is the severity of a code outside the binding: error for a required binding, warning for
	// an extensible one that a profile checks because it carries a clause.
	bindingSeverity fhir.Severity
	constraints     []constraint
	// clause is the Consensus clause this element's rules enforce (the consensus-clause extension), "" for none.
	clause string
	// slicing is the element's slicing with its slices; nil when not sliced or when no slice is defined.
	slicing *slicing
	// parent is the child set that holds the element (nil for a root or a slice).
	parent *childSet
	// In a profile, only what differs from the core definitions is checked (the core step checks the rest);
	// these say whether min and max are such differences. They are true in core definitions.
	checkMin, checkMax bool
	contentRef         string
}

// typeKind says how an item of a type is walked.
type typeKind uint8

const (
	kindLeaf      typeKind = iota // a FHIRPath System type (Resource.id, Extension.url, primitive values)
	kindPrimitive                 // a FHIR primitive: a JSON scalar, with id and extensions under "_name"
	kindComplex                   // a datatype or backbone element: a JSON object
	kindResource                  // a nested resource, validated against the type named by its resourceType
)

// elemType is one allowed type of an element, with the JSON name it takes.
type elemType struct {
	code string
	key  string   // JSON name: the element name, or for a choice the name plus the type ("valueQuantity")
	ext  string   // JSON name of a primitive's id and extensions: "_" + key
	def  *typeDef // the type's definition, or the profile named in type.profile when one is loaded
	// profile is the first type.profile, loaded or not: for an extension, the URL its items have.
	profile string
	kind    typeKind
	// constraints are the element's and those of the type's root, without duplicates: they apply to each item.
	constraints []constraint
}

// childSet is the set of elements below an element, indexed by JSON name.
type childSet struct {
	byKey    map[string]keyRef
	byName   map[string]*element
	required []*element // min > 0
	choices  []*element // choice elements, to recognise the types a profile does not allow
	sliced   []*element // elements with a slice whose min > 0
}

// keyRef resolves a JSON name to its element and the index of its type.
type keyRef struct {
	el  *element
	typ int
}

func newChildSet() *childSet {
	return &childSet{byKey: map[string]keyRef{}, byName: map[string]*element{}}
}

func (cs *childSet) add(el *element) {
	el.parent = cs
	cs.byName[el.name] = el
	if el.choice {
		cs.choices = append(cs.choices, el)
	}
	for i, t := range el.types {
		cs.byKey[t.key] = keyRef{el, i}
	}
	if el.min > 0 {
		cs.required = append(cs.required, el)
	}
}

// constraint is one FHIRPath invariant of an element.
type constraint struct {
	key      string
	human    string
	expr     string
	severity fhir.Severity
	clause   string // the Consensus clause the constraint enforces, "" for none
	// location is the FHIRPath, relative to the constraint's element, of the element its failures name
	// (LocationExtension); "" for the constraint's element itself.
	location string
	native   nativeCheck
	guard    guard // for "A implies B": decides A in Go, so that a false A settles the constraint
}

// nativeCheck names the invariants checked in Go rather than through the evaluator: ele-1 and ext-1 are
// defined on every element and extension, and evaluating them as FHIRPath would dominate the cost.
type nativeCheck uint8

const (
	nativeNone nativeCheck = iota
	nativeEle1             // hasValue() or (children().count() > id.count())
	nativeExt1             // extension.exists() != value.exists()
	// The following are evaluated through the evaluator only when a cheap test cannot settle them: dom-2 to
	// dom-5 hold for a resource without contained resources, ref-1 for a reference not starting with "#".
	nativeNoContained // dom-2 … dom-5
	nativeDom6        // text.`div`.exists()
	nativeRef1        // reference.startsWith('#').not() or …
	// txt-1 and txt-2 share the expression htmlChecks() in R4, which holds only when both rules do; checked in
	// Go, each reports its own rule (its XPath's): allowed elements and attributes, and some content.
	nativeTxt1 // htmlChecks(): allowed elements and attributes, well-formed
	nativeTxt2 // htmlChecks(): some non-whitespace text or an image
)

// childrenOf returns the children of an item of type t at el, or nil when it has none.
func childrenOf(el *element, t *elemType) *childSet {
	if el.children != nil {
		return el.children
	}
	if t.def != nil && t.def.root != nil {
		return t.def.root.children
	}
	return nil
}
