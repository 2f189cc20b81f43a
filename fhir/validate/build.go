package validate

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// builder turns the loaded definitions into the validation index.
type builder struct {
	defs      *definitions
	terms     *terminology
	core      map[string]*typeDef // core types by name
	byURL     map[string]*typeDef // core types and profiles by canonical URL
	profiles  map[string]*typeDef // profiles reduced to their differences from the core, by canonical URL
	elements  []*element
	unchecked map[string]string // value set URL → why its bindings are not checked
}

// build indexes every StructureDefinition: core types first, then profiles (which refer to them).
func build(defs *definitions) (*builder, error) {
	b := &builder{defs: defs, terms: newTerminology(defs), core: map[string]*typeDef{},
		byURL: map[string]*typeDef{}, profiles: map[string]*typeDef{}, unchecked: map[string]string{}}
	var core, profiles []*resource
	for _, url := range sortedKeys(defs.structures) {
		sd := defs.structures[url]
		td := &typeDef{name: sd.Type, url: url, kind: sd.Kind, profile: sd.Derivation == "constraint",
			abstract: sd.Abstract}
		b.byURL[url] = td
		if td.profile {
			profiles = append(profiles, sd)
			continue
		}
		if prev, dup := b.core[sd.Type]; dup {
			return nil, fmt.Errorf("type %s is defined by %s and %s", sd.Type, prev.url, url)
		}
		b.core[sd.Type] = td
		core = append(core, sd)
	}
	for _, sd := range core {
		if sd.Snapshot == nil {
			return nil, fmt.Errorf("structure definition %s has no snapshot", sd.URL)
		}
		if err := b.tree(b.byURL[sd.URL], sd.Snapshot.Element); err != nil {
			return nil, err
		}
	}
	if err := b.buildProfiles(profiles); err != nil {
		return nil, err
	}
	b.mergeConstraints()
	for _, td := range b.profiles {
		b.delta(td)
	}
	return b, nil
}

// buildProfiles indexes each profile twice: in full, for the elements that name it as the profile of their
// type (SimpleQuantity), and reduced to what it adds to the core (by delta, once every tree is built), for
// ValidateProfile.
func (b *builder) buildProfiles(profiles []*resource) error {
	for _, sd := range profiles {
		elems, err := b.snapshot(sd, 0)
		if err != nil {
			return err
		}
		full := b.byURL[sd.URL]
		reduced := *full
		if err := b.tree(full, elems); err != nil {
			return err
		}
		if err := b.tree(&reduced, elems); err != nil {
			return err
		}
		b.profiles[sd.URL] = &reduced
	}
	return nil
}

// tree builds td's element tree from a snapshot, whose elements come parents first.
func (b *builder) tree(td *typeDef, elems []elementDefinition) error {
	if len(elems) == 0 || elems[0].Path != td.name {
		return fmt.Errorf("structure definition %s: snapshot does not start with %s", td.url, td.name)
	}
	byPath := make(map[string]*element, len(elems))
	var refs [][2]*element // element with a content reference, and its parent
	for i := range elems {
		ed := &elems[i]
		if ed.SliceName != "" { // a slicing without slices (extensions, by url) constrains nothing
			return fmt.Errorf("structure definition %s element %s: slicing is not supported", td.url, ed.ID)
		}
		el, err := b.element(td, ed)
		if err != nil {
			return err
		}
		byPath[ed.Path] = el
		if i == 0 {
			td.root = el
			continue
		}
		cut := strings.LastIndexByte(ed.Path, '.')
		parent := byPath[ed.Path[:max(cut, 0)]]
		if parent == nil {
			return fmt.Errorf("structure definition %s element %s: no parent element", td.url, ed.Path)
		}
		if parent.children == nil {
			parent.children = &childSet{byKey: map[string]keyRef{}, byName: map[string]*element{}}
		}
		if el.contentRef != "" {
			refs = append(refs, [2]*element{el, parent}) // added once its types are known
			continue
		}
		parent.children.add(el)
	}
	for _, ref := range refs {
		if err := resolveRef(td, ref[0], ref[1], byPath); err != nil {
			return err
		}
	}
	return nil
}

// resolveRef gives el, which has a content reference, the content of its target (children, types, binding,
// constraints; the cardinality stays el's own) and adds it to its parent.
func resolveRef(td *typeDef, el, parent *element, byPath map[string]*element) error {
	target := byPath[strings.TrimPrefix(el.contentRef, "#")]
	if target == nil || target.choice {
		return fmt.Errorf("structure definition %s element %s: bad content reference %s", td.url, el.path, el.contentRef)
	}
	el.children = target.children
	el.types = slices.Clone(target.types)
	for j := range el.types {
		el.types[j].key, el.types[j].ext = el.name, "_"+el.name
	}
	if el.binding == nil {
		el.binding, el.bindingURL = target.binding, target.bindingURL
	}
	el.constraints = mergeByKey(el.constraints, target.constraints)
	parent.children.add(el)
	return nil
}

// element indexes one ElementDefinition of td.
func (b *builder) element(td *typeDef, ed *elementDefinition) (*element, error) {
	el := &element{path: ed.Path, max: -1, checkMin: true, checkMax: true, contentRef: ed.ContentReference,
		fixed: ed.Fixed, pattern: ed.Pattern}
	el.name = ed.Path[strings.LastIndexByte(ed.Path, '.')+1:]
	el.name, el.choice = strings.CutSuffix(el.name, "[x]")
	if ed.Min != nil {
		el.min = *ed.Min
	}
	if ed.Max != "*" && ed.Max != "" {
		n, err := strconv.Atoi(ed.Max)
		if err != nil {
			return nil, fmt.Errorf("structure definition %s element %s: max %q: %w", td.url, ed.Path, ed.Max, err)
		}
		el.max = n
	}
	for _, t := range ed.Type {
		if t.Code == "" {
			return nil, fmt.Errorf("structure definition %s element %s: type without code", td.url, ed.Path)
		}
		et := elemType{code: t.Code, key: el.name, def: b.core[t.Code]}
		if el.choice {
			et.key = el.name + strings.ToUpper(t.Code[:1]) + t.Code[1:]
		}
		for _, p := range t.Profile {
			if pd := b.byURL[p]; pd != nil && pd.name == t.Code {
				et.def = pd
			}
		}
		et.kind = kindOf(et.def)
		et.ext = "_" + et.key
		el.types = append(el.types, et)
	}
	for _, c := range ed.Constraint {
		el.constraints = append(el.constraints, newConstraint(c))
	}
	if err := b.bind(el, ed.Binding); err != nil {
		return nil, fmt.Errorf("structure definition %s element %s: %w", td.url, ed.Path, err)
	}
	b.elements = append(b.elements, el)
	return el, nil
}

func kindOf(def *typeDef) typeKind {
	switch {
	case def == nil:
		return kindLeaf
	case def.kind == "primitive-type":
		return kindPrimitive
	case def.kind == "resource":
		return kindResource
	}
	return kindComplex
}

// bind expands a required binding; one that cannot be expanded is recorded and not checked.
func (b *builder) bind(el *element, bd *binding) error {
	if bd == nil || bd.Strength != "required" || bd.ValueSet == "" {
		return nil
	}
	el.bindingURL, _, _ = strings.Cut(bd.ValueSet, "|")
	set, err := b.terms.expand(bd.ValueSet)
	if errors.Is(err, errUnexpandable) {
		b.unchecked[el.bindingURL] = err.Error()
		return nil
	}
	el.binding = set
	return err
}

func newConstraint(c constraintDef) constraint {
	k := constraint{key: c.Key, human: c.Human, expr: c.Expression, severity: fhir.SeverityError}
	if c.Severity == "warning" {
		k.severity = fhir.SeverityWarning
	}
	switch c.Key {
	case "ele-1":
		k.native = nativeEle1
	case "ext-1":
		k.native = nativeExt1
	}
	return k
}

// mergeConstraints gives each type of each element the constraints of the element and of the type's root
// (the snapshot repeats only ele-1 from the type).
func (b *builder) mergeConstraints() {
	for _, el := range b.elements {
		for i := range el.types {
			t := &el.types[i]
			t.constraints = el.constraints
			if t.def != nil && t.def.root != nil && t.kind != kindResource {
				t.constraints = mergeByKey(t.constraints, t.def.root.constraints)
			}
		}
	}
}

// mergeByKey returns a followed by the constraints of b whose key a lacks, without changing a.
func mergeByKey(a, b []constraint) []constraint {
	for _, c := range b {
		if !slices.ContainsFunc(a, func(d constraint) bool { return d.key == c.key }) {
			a = append(slices.Clip(a), c)
		}
	}
	return a
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
