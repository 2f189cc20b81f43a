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
	sliced    []*element        // elements with slices, compiled once every tree is built
	unchecked map[string]string // value set URL → why its bindings are not checked
	// notEnforced are the specification's profiles that use what the validator does not support, with why.
	notEnforced map[string]string
	// bestPractice keeps the constraints flagged as best practice.
	bestPractice bool
}

// build indexes every StructureDefinition: core types first, then profiles (which refer to them).
func build(defs *definitions, bestPractice bool) (*builder, error) {
	b := &builder{defs: defs, terms: newTerminology(defs), core: map[string]*typeDef{},
		byURL: map[string]*typeDef{}, profiles: map[string]*typeDef{}, unchecked: map[string]string{},
		notEnforced: map[string]string{}, bestPractice: bestPractice}
	var core, profiles []*resource
	for _, url := range sortedKeys(defs.structures) {
		sd := defs.structures[url]
		td := &typeDef{name: sd.Type, url: url, base: sd.BaseDefinition, kind: sd.Kind,
			profile: sd.Derivation == "constraint", abstract: sd.Abstract}
		if td.profile {
			raw := appliesWhen(sd.Extension)
			td.appliesWhen, td.selector = raw, parseGuard(raw)
			if raw != "" && raw != "true" {
				// An empty result means the profile does not apply (where an invariant would hold).
				td.appliesWhen = "iif(" + raw + ", true, false)"
			}
		}
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
	if err := b.compileSlicings(); err != nil {
		return nil, err
	}
	b.mergeConstraints()
	if err := b.checkLocations(); err != nil {
		return nil, err
	}
	for _, td := range b.profiles {
		b.delta(td)
	}
	return b, nil
}

// checkLocations checks that the location of every constraint that has one starts with a child of the
// constraint's element, so that a misspelt location fails at load rather than in an issue.
func (b *builder) checkLocations() error {
	for _, el := range b.elements {
		for _, c := range el.constraints {
			if c.location == "" {
				continue
			}
			name := c.location[:strings.IndexAny(c.location+".", ".([")]
			cs := el.children
			if cs == nil && len(el.types) == 1 {
				cs = childrenOf(el, &el.types[0])
			}
			if cs == nil || cs.byName[name] == nil {
				return fmt.Errorf("element %s constraint %s: location %q does not start with an element of %s",
					el.path, c.key, c.location, el.path)
			}
		}
	}
	return nil
}

// buildProfiles indexes each profile twice: in full, for the elements that name it as the profile of their
// type (SimpleQuantity), and reduced to what it adds to the core (by delta, once every tree is built), for
// ValidateProfile. A profile published with the specification that uses what the validator does not support is
// recorded as not enforced instead.
func (b *builder) buildProfiles(profiles []*resource) error {
	for _, sd := range profiles {
		sliced, elements := len(b.sliced), len(b.elements)
		err := b.buildProfile(sd)
		if err != nil && b.defs.specification[sd.URL] {
			b.sliced, b.elements = b.sliced[:sliced], b.elements[:elements]
			delete(b.byURL, sd.URL)
			b.notEnforced[sd.URL] = err.Error()
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) buildProfile(sd *resource) error {
	elems, err := b.snapshot(sd, 0)
	if err != nil {
		return err
	}
	full := b.byURL[sd.URL]
	reduced := *full
	start := len(b.sliced)
	if err := b.tree(full, elems); err != nil {
		return err
	}
	if err := b.tree(&reduced, elems); err != nil {
		return err
	}
	if b.defs.specification[sd.URL] {
		// compiled now, so that a discriminator the validator cannot follow is found while the profile can
		// still be left out (compileSlicings compiles every slicing again)
		for _, el := range b.sliced[start:] {
			if err := el.slicing.compile(el); err != nil {
				return fmt.Errorf("structure definition %s: %w", sd.URL, err)
			}
		}
	}
	b.profiles[sd.URL] = &reduced
	return nil
}

// tree builds td's element tree from a snapshot, whose elements come parents first. Elements are matched to
// their parents by id, so that the elements below a slice ("Task.extension:due.url") go to the slice.
func (b *builder) tree(td *typeDef, elems []elementDefinition) error {
	if len(elems) == 0 || elems[0].Path != td.name {
		return fmt.Errorf("structure definition %s: snapshot does not start with %s", td.url, td.name)
	}
	byID := make(map[string]*element, len(elems))
	var refs [][2]*element // element with a content reference, and its parent
	for i := range elems {
		ed := &elems[i]
		id := elementID(ed)
		el, err := b.element(td, ed)
		if err != nil {
			return err
		}
		byID[id] = el
		if i == 0 {
			td.root = el
			continue
		}
		if ed.SliceName != "" && !namesItsElement(byID, id, ed.SliceName) {
			if err := b.addSlice(td, byID, id, el, ed.SliceName); err != nil {
				return err
			}
			continue
		}
		parent := byID[id[:max(strings.LastIndexByte(id, '.'), 0)]]
		if parent == nil {
			return fmt.Errorf("structure definition %s element %s: no parent element", td.url, id)
		}
		if parent.children == nil {
			parent.children = newChildSet()
		}
		if el.contentRef != "" {
			refs = append(refs, [2]*element{el, parent}) // added once its types are known
			continue
		}
		parent.children.add(el)
	}
	if len(refs) > 0 {
		byPath := byPathOf(byID)
		for _, ref := range refs {
			if err := resolveRef(td, ref[0], ref[1], byPath, byID); err != nil {
				return err
			}
		}
	}
	return nil
}

// elementID returns the id of an element definition, derived from its path and slice name when absent.
func elementID(ed *elementDefinition) string {
	switch {
	case ed.ID != "":
		return ed.ID
	case ed.SliceName != "":
		return ed.Path + ":" + ed.SliceName
	}
	return ed.Path
}

// namesItsElement reports whether an element with a slice name is the element itself under that name: a
// snapshot may list a constrained element as a slice without the element it would slice (R4's catalog and
// familymemberhistory-genetic profiles do, for Composition.date and FamilyMemberHistory.relationship).
// See https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.sliceName.
func namesItsElement(byID map[string]*element, id, name string) bool {
	base, ok := strings.CutSuffix(id, ":"+name)
	if !ok || byID[base] != nil || strings.ContainsRune(name, '/') {
		return false
	}
	return byID[base[:max(strings.LastIndexByte(base, '.'), 0)]] != nil
}

// byPathOf indexes the elements that are not inside slices by path (their id is their path).
func byPathOf(byID map[string]*element) map[string]*element {
	out := make(map[string]*element, len(byID))
	for id, el := range byID {
		if !strings.ContainsRune(id, ':') {
			out[id] = el
		}
	}
	return out
}

// addSlice adds the slice element el, whose id is "<sliced id>:<name>", to the slicing of the element it slices.
// Extensions are sliced by url unless the definition says otherwise.
func (b *builder) addSlice(td *typeDef, byID map[string]*element, id string, el *element, name string) error {
	base, ok := strings.CutSuffix(id, ":"+name)
	sliced := byID[base]
	switch {
	case !ok || strings.ContainsRune(name, '/'):
		return fmt.Errorf("structure definition %s element %s: re-slicing is not supported", td.url, id)
	case sliced == nil:
		return fmt.Errorf("structure definition %s element %s: no sliced element %s", td.url, id, base)
	case sliced.choice:
		return fmt.Errorf("structure definition %s element %s: slicing of choice types is not supported", td.url, id)
	case sliced.slicing == nil && (sliced.name == "extension" || sliced.name == "modifierExtension"):
		sliced.slicing = defaultExtensionSlicing()
	case sliced.slicing == nil:
		return fmt.Errorf("structure definition %s element %s: slice of an element without slicing", td.url, id)
	}
	sliced.slicing.slices = append(sliced.slicing.slices, &slice{name: name, el: el})
	b.sliced = append(b.sliced, sliced)
	return nil
}

// compileSlicings resolves the discriminator values of every slice, once all trees are built (an extension
// slice's value comes from the extension's definition), and lists the elements with required slices in their
// parents, so that an absent element is reported.
func (b *builder) compileSlicings() error {
	for _, el := range b.sliced {
		if err := el.slicing.compile(el); err != nil {
			return err
		}
		if el.parent != nil && el.slicing.requiredSlices() && !slices.Contains(el.parent.sliced, el) {
			el.parent.sliced = append(el.parent.sliced, el)
		}
	}
	return nil
}

// resolveRef gives el, which has a content reference, the content of its target (children, types, binding,
// constraints; the cardinality stays el's own) and adds it to its parent.
// A reference may name an element in a slice by its id ("#Provenance.agent:Author", in a profile's snapshot).
func resolveRef(td *typeDef, el, parent *element, byPath, byID map[string]*element) error {
	ref := strings.TrimPrefix(el.contentRef, "#")
	target := byPath[ref]
	if target == nil && strings.ContainsRune(ref, ':') {
		target = byID[ref]
	}
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
		fixed: ed.Fixed, pattern: ed.Pattern, clause: extensionCode(ed.Extension, ClauseExtension)}
	if ed.Slicing != nil && ed.SliceName == "" {
		sl, err := newSlicing(ed.Slicing, elementID(ed))
		if err != nil {
			return nil, fmt.Errorf("structure definition %s: %w", td.url, err)
		}
		el.slicing = sl
	}
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
		if len(t.Profile) > 0 {
			et.profile = t.Profile[0]
		}
		et.kind = kindOf(et.def)
		et.ext = "_" + et.key
		el.types = append(el.types, et)
	}
	for _, c := range ed.Constraint {
		if b.bestPractice || !isBestPractice(c) {
			el.constraints = append(el.constraints, newConstraint(c, el.clause))
		}
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

// bind expands a required binding, or an extensible one that carries a clause (its codes outside the value set
// are then warnings); one that cannot be expanded is recorded and not checked.
func (b *builder) bind(el *element, bd *binding) error {
	if bd == nil || bd.ValueSet == "" {
		return nil
	}
	switch {
	case bd.Strength == "required":
		el.bindingSeverity = fhir.SeverityError
	case bd.Strength == "extensible" && el.clause != "":
		el.bindingSeverity = fhir.SeverityWarning
	default:
		return nil
	}
	el.bindingURL, _, _ = strings.Cut(bd.ValueSet, "|")
	set, err := b.terms.expand(bd.ValueSet)
	if errors.Is(err, ErrUnexpandable) {
		b.unchecked[el.bindingURL] = err.Error()
		return nil
	}
	el.binding = set
	return err
}

// newConstraint indexes one constraint; its clause is its own consensus-clause extension, or the element's.
func newConstraint(c constraintDef, clause string) constraint {
	k := constraint{key: c.Key, human: c.Human, expr: c.Expression, severity: fhir.SeverityError,
		clause: extensionCode(c.Extension, ClauseExtension), location: extensionString(c.Extension, LocationExtension)}
	if k.clause == "" {
		k.clause = clause
	}
	if c.Severity == "warning" {
		k.severity = fhir.SeverityWarning
	}
	k.native = nativeFor(c.Key, c.Expression)
	if k.native == nativeTxt2 {
		// A narrative without content is accepted with a warning: the HL7 Java validator checks txt-2 from R6
		// on only, and the R4 specification publishes examples with whitespace-only narratives.
		k.severity = fhir.SeverityWarning
	}
	if k.native == nativeNone {
		k.guard = impliesGuard(c.Expression)
	}
	return k
}

// bestPracticeExtension flags a constraint as a best practice guideline rather than a rule.
const bestPracticeExtension = "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"

func isBestPractice(c constraintDef) bool {
	for _, e := range c.Extension {
		if e.URL == bestPracticeExtension && e.ValueBoolean {
			return true
		}
	}
	return false
}

// nativeFor says how a core constraint is checked in Go, matching on key and expression so that a profile
// reusing a key with another expression goes to the evaluator.
func nativeFor(key, expr string) nativeCheck {
	switch {
	case key == "ele-1":
		return nativeEle1
	case key == "ext-1":
		return nativeExt1
	case key == "dom-6" && expr == "text.`div`.exists()":
		return nativeDom6
	case key == "ref-1" && strings.HasPrefix(expr, "reference.startsWith('#').not() or "):
		return nativeRef1
	case (key == "dom-2" || key == "dom-3" || key == "dom-4" || key == "dom-5") && strings.HasPrefix(expr, "contained."):
		return nativeNoContained
	case key == "txt-1" && expr == "htmlChecks()":
		return nativeTxt1
	case key == "txt-2" && expr == "htmlChecks()":
		return nativeTxt2
	}
	return nativeNone
}

// appliesWhen returns the expression of a profile's applies-when extension: "" when the profile has none (it
// applies only when named), "true" when the extension has no expression (it applies to its whole type).
func appliesWhen(exts []extensionDef) string {
	for _, e := range exts {
		if e.URL != AppliesWhenExtension {
			continue
		}
		if e.ValueExpression == nil || strings.TrimSpace(e.ValueExpression.Expression) == "" {
			return "true"
		}
		return strings.TrimSpace(e.ValueExpression.Expression)
	}
	return ""
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
