package validate

import (
	"fmt"
	"slices"
	"strings"
)

// maxProfileDepth bounds chains of profiles on profiles (and catches cycles).
const maxProfileDepth = 16

// snapshot returns the snapshot of a profile: its own, or one generated from its differential applied to the
// snapshot of its base definition. Generation handles constraints on existing elements, inside datatypes (by
// expanding the datatype's elements) and slices (added after the element they slice). Elements are found by
// id, so differential elements need ids when they are inside slices.
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
	for i := range elems {
		elems[i].ID = elementID(&elems[i])
	}
	for _, d := range sd.Differential.Element {
		i, grown, err := b.find(elems, &d)
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", sd.URL, err)
		}
		elems = grown
		mergeElement(&elems[i], &d, sd.URL)
	}
	return elems, nil
}

// find returns the index of the element d constrains, first adding it when d starts a slice, and expanding
// the elements of the datatypes on the way when its id goes inside one ("Task.code.coding" below "Task.code"
// of type CodeableConcept).
func (b *builder) find(elems []elementDefinition, d *elementDefinition) (int, []elementDefinition, error) {
	id := elementID(d)
	for {
		if i := indexID(elems, id); i >= 0 {
			return i, elems, nil
		}
		if d.SliceName != "" {
			if sliced, ok := strings.CutSuffix(id, ":"+d.SliceName); ok {
				if j := indexID(elems, sliced); j >= 0 {
					return addSliceElement(elems, j, d.SliceName)
				}
			}
		}
		at := deepestAncestor(elems, id)
		if at < 0 {
			return 0, nil, fmt.Errorf("element %s is not in the base definition", id)
		}
		expanded, err := b.expand(elems, at)
		if err != nil {
			return 0, nil, fmt.Errorf("element %s: %w", id, err)
		}
		elems = expanded
	}
}

func indexID(elems []elementDefinition, id string) int {
	return slices.IndexFunc(elems, func(e elementDefinition) bool { return e.ID == id })
}

// addSliceElement inserts a slice named name of elems[j] after the elements below elems[j] and its earlier
// slices, as a copy of elems[j] with min 0 and no slicing, and returns its index.
func addSliceElement(elems []elementDefinition, j int, name string) (int, []elementDefinition, error) {
	base := elems[j]
	end := j + 1
	for end < len(elems) && (strings.HasPrefix(elems[end].ID, base.ID+".") || strings.HasPrefix(elems[end].ID, base.ID+":")) {
		end++
	}
	sl := base
	zero := 0
	sl.ID, sl.SliceName, sl.Slicing, sl.Min = base.ID+":"+name, name, nil, &zero
	return end, slices.Insert(slices.Clip(elems), end, sl), nil
}

// deepestAncestor returns the index of the element of elems whose id is the longest prefix of id, or -1.
func deepestAncestor(elems []elementDefinition, id string) int {
	best := -1
	for i, e := range elems {
		if strings.HasPrefix(id, e.ID+".") && (best < 0 || len(e.ID) > len(elems[best].ID)) {
			best = i
		}
	}
	return best
}

// expand inserts the elements of the datatype of elems[at] below it.
func (b *builder) expand(elems []elementDefinition, at int) ([]elementDefinition, error) {
	parent := elems[at]
	if len(parent.Type) != 1 {
		return nil, fmt.Errorf("cannot constrain inside %s, which has %d types", parent.ID, len(parent.Type))
	}
	code := parent.Type[0].Code
	dt := b.core[code]
	if dt == nil || dt.kind != "complex-type" {
		return nil, fmt.Errorf("cannot constrain inside %s of type %s", parent.ID, code)
	}
	for _, e := range elems[at+1:] {
		if strings.HasPrefix(e.ID, parent.ID+".") {
			return nil, fmt.Errorf("element below %s is not in the base definition", parent.ID)
		}
	}
	src := b.defs.structures[dt.url].Snapshot.Element[1:]
	inserted := make([]elementDefinition, len(src))
	for i, e := range src {
		e.ID = parent.ID + strings.TrimPrefix(elementID(&e), code)
		e.Path = parent.Path + strings.TrimPrefix(e.Path, code)
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
	if d.Slicing != nil {
		e.Slicing = d.Slicing
	}
	if d.Fixed != nil {
		e.Fixed, e.FixedType = d.Fixed, d.FixedType
	}
	if d.Pattern != nil {
		e.Pattern, e.PatternType = d.Pattern, d.PatternType
	}
	if code := extensionCode(d.Extension, ClauseExtension); code != "" {
		e.Extension = append(slices.DeleteFunc(slices.Clone(e.Extension), func(x extensionDef) bool {
			return x.URL == ClauseExtension
		}), extensionDef{URL: ClauseExtension, ValueCode: code})
	}
	for _, c := range d.Constraint {
		if c.Source == "" {
			c.Source = url
		}
		e.Constraint = append(slices.Clip(e.Constraint), c)
	}
}
