package validate

import (
	"slices"
	"strings"
)

// delta reduces profile td to what it adds to the core definitions, which Validate already checks: a min above
// the core min, a max below the core max, a required binding to another value set, fixed and pattern values,
// and constraints with new keys. ValidateProfile then reports nothing twice.
func (b *builder) delta(td *typeDef) {
	b.reduce(td.root, b.coreElement(td.root.path), map[*childSet]bool{})
}

// reduce reduces el and the elements below it; done holds the child sets already reduced, which content
// references (Questionnaire.item.item) share.
func (b *builder) reduce(el, core *element, done map[*childSet]bool) {
	if core != nil {
		el.checkMin = el.min > core.min
		el.checkMax = el.max >= 0 && (core.max < 0 || el.max < core.max)
		if el.binding != nil && el.bindingURL == core.bindingURL {
			el.binding = nil
		}
		el.constraints = slices.DeleteFunc(slices.Clone(el.constraints), func(c constraint) bool {
			return slices.ContainsFunc(core.constraints, func(d constraint) bool { return d.key == c.key })
		})
	}
	for i := range el.types {
		el.types[i].constraints = el.constraints // the type's own are core ones
	}
	if el.children == nil || done[el.children] {
		return
	}
	done[el.children] = true
	for _, child := range el.children.byName {
		b.reduce(child, b.coreElement(child.path), done)
	}
}

// coreElement finds the core element at a definition path, following datatypes: "Observation.code.coding" is
// CodeableConcept.coding. It returns nil for a path the core definitions do not have.
func (b *builder) coreElement(path string) *element {
	segs := strings.Split(path, ".")
	td := b.core[segs[0]]
	if td == nil || td.root == nil {
		return nil
	}
	el := td.root
	for _, seg := range segs[1:] {
		var cs *childSet
		if el.children != nil {
			cs = el.children
		} else if len(el.types) == 1 {
			cs = childrenOf(el, &el.types[0])
		}
		if cs == nil {
			return nil
		}
		el = cs.byName[strings.TrimSuffix(seg, "[x]")]
		if el == nil {
			return nil
		}
	}
	return el
}
