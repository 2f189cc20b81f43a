package validate

import (
	"fmt"
	"slices"
	"strings"
)

// maxProfileDepth bounds chains of profiles on profiles (and catches cycles).
const maxProfileDepth = 16

// snapshot returns the snapshot of a profile: its own, or one generated from its differential applied to the
// snapshot of its base definition. Generation handles constraints on existing elements and inside datatypes
// (by expanding the datatype's elements); slicing is not supported.
// See https://hl7.org/fhir/R4/profiling.html#snapshot.
func (b *builder) snapshot(sd *resource, depth int) ([]elementDefinition, error) {
	if sd.Snapshot != nil {
		return sd.Snapshot.Element, nil
	}
	if sd.Differential == nil {
		return nil, fmt.Errorf("profile %s has neither snapshot nor differential", sd.URL)
	}
	base := b.defs.structures[sd.BaseDefinition]
	if base == nil {
		return nil, fmt.Errorf("profile %s: base definition %s is not loaded", sd.URL, sd.BaseDefinition)
	}
	if depth >= maxProfileDepth {
		return nil, fmt.Errorf("profile %s: base definitions nest deeper than %d", sd.URL, maxProfileDepth)
	}
	elems, err := b.snapshot(base, depth+1)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", sd.URL, err)
	}
	elems = slices.Clone(elems)
	for _, d := range sd.Differential.Element {
		if d.SliceName != "" {
			return nil, fmt.Errorf("profile %s element %s: slicing is not supported", sd.URL, d.ID)
		}
		i, grown, err := b.find(elems, d.Path)
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", sd.URL, err)
		}
		elems = grown
		mergeElement(&elems[i], &d, sd.URL)
	}
	return elems, nil
}

// find returns the index of path in elems, first expanding the elements of the datatypes on the way when the
// path goes inside one ("Task.code.coding" below "Task.code" of type CodeableConcept).
func (b *builder) find(elems []elementDefinition, path string) (int, []elementDefinition, error) {
	for {
		if i := slices.IndexFunc(elems, func(e elementDefinition) bool { return e.Path == path }); i >= 0 {
			return i, elems, nil
		}
		at := deepestAncestor(elems, path)
		if at < 0 {
			return 0, nil, fmt.Errorf("element %s is not in the base definition", path)
		}
		expanded, err := b.expand(elems, at)
		if err != nil {
			return 0, nil, fmt.Errorf("element %s: %w", path, err)
		}
		elems = expanded
	}
}

// deepestAncestor returns the index of the element of elems whose path is the longest prefix of path, or -1.
func deepestAncestor(elems []elementDefinition, path string) int {
	best := -1
	for i, e := range elems {
		if strings.HasPrefix(path, e.Path+".") && (best < 0 || len(e.Path) > len(elems[best].Path)) {
			best = i
		}
	}
	return best
}

// expand inserts the elements of the datatype of elems[at] below it.
func (b *builder) expand(elems []elementDefinition, at int) ([]elementDefinition, error) {
	parent := elems[at]
	if len(parent.Type) != 1 {
		return nil, fmt.Errorf("cannot constrain inside %s, which has %d types", parent.Path, len(parent.Type))
	}
	code := parent.Type[0].Code
	dt := b.core[code]
	if dt == nil || dt.kind != "complex-type" {
		return nil, fmt.Errorf("cannot constrain inside %s of type %s", parent.Path, code)
	}
	for _, e := range elems[at+1:] {
		if strings.HasPrefix(e.Path, parent.Path+".") {
			return nil, fmt.Errorf("element below %s is not in the base definition", parent.Path)
		}
	}
	src := b.defs.structures[dt.url].Snapshot.Element[1:]
	inserted := make([]elementDefinition, len(src))
	for i, e := range src {
		e.Path = parent.Path + strings.TrimPrefix(e.Path, code)
		e.ID = e.Path
		inserted[i] = e
	}
	return slices.Insert(slices.Clip(elems), at+1, inserted...), nil
}

// mergeElement applies the differential element d of profile url to e.
func mergeElement(e, d *elementDefinition, url string) {
	if d.Min != nil {
		e.Min = d.Min
	}
	if d.Max != "" {
		e.Max = d.Max
	}
	if len(d.Type) > 0 {
		e.Type = d.Type
	}
	if d.Binding != nil {
		e.Binding = d.Binding
	}
	if d.Fixed != nil {
		e.Fixed, e.FixedType = d.Fixed, d.FixedType
	}
	if d.Pattern != nil {
		e.Pattern, e.PatternType = d.Pattern, d.PatternType
	}
	for _, c := range d.Constraint {
		if c.Source == "" {
			c.Source = url
		}
		e.Constraint = append(slices.Clip(e.Constraint), c)
	}
}
