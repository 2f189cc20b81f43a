package validate

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ErrNotLoaded is wrapped by the errors of Terminology for a value set or code system that the loaded definitions
// do not have (or not in the version asked for).
var ErrNotLoaded = errors.New("not loaded")

// Coding is one code of a value set and the code system it belongs to.
type Coding struct {
	System, Code string
}

// Terminology answers questions on the value sets and code systems the validator was loaded with, after New:
// the codes of a value set, and what a code of a complete code system subsumes or is subsumed by. It shares the
// validator's expansions, and remembers those it makes (they are bounded by the loaded definitions). It is safe
// for concurrent use.
// See https://hl7.org/fhir/R4/valueset.html#expansion and https://hl7.org/fhir/R4/codesystem.html#hierarchy.
type Terminology struct {
	mu    sync.Mutex
	terms *terminology
}

// newTerminologyOf keeps the value sets and code systems of terms (not the StructureDefinitions, which the
// validator no longer needs once built) for use after New.
func newTerminologyOf(terms *terminology) *Terminology {
	terms.defs = &definitions{valueSets: terms.defs.valueSets, codeSystems: terms.defs.codeSystems}
	return &Terminology{terms: terms}
}

// ValueSet returns the codes of the value set with the canonical url (optionally "url|version"), sorted by system
// and code. The error wraps ErrNotLoaded when no value set has that url (or it has another version), and
// ErrUnexpandable when its codes cannot be listed from the loaded definitions: it includes a code system that is
// not loaded or not complete (SNOMED CT, UCUM …), uses an unsupported filter, or includes itself.
func (t *Terminology) ValueSet(url string) ([]Coding, error) {
	u, version, versioned := strings.Cut(url, "|")
	vs, ok := t.terms.defs.valueSets[u]
	if !ok || (versioned && vs.Version != "" && vs.Version != version) {
		return nil, fmt.Errorf("value set %s: %w", url, ErrNotLoaded)
	}
	t.mu.Lock()
	set, err := t.terms.expand(u)
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([]Coding, 0, len(set.codings))
	for c := range set.codings {
		out = append(out, Coding{System: c.system, Code: c.code})
	}
	slices.SortFunc(out, func(a, b Coding) int { return cmp.Or(cmp.Compare(a.System, b.System), cmp.Compare(a.Code, b.Code)) })
	return out, nil
}

// Below returns code and every code of the code system it subsumes (its descendants by nested concepts and by
// the parent, child and subsumedBy properties), in the code system's order; a code the system does not define
// is returned alone. The error wraps ErrNotLoaded for a code system that is not loaded, and ErrUnexpandable for
// one whose content is not complete (its hierarchy is not known).
func (t *Terminology) Below(system, code string) ([]string, error) {
	cs, err := t.codeSystem(system)
	if err != nil {
		return nil, err
	}
	return cs.below(code), nil
}

// Above returns code and every code of the code system that subsumes it (its ancestors), in the code system's
// order; a code the system does not define is returned alone. Its errors are those of Below.
func (t *Terminology) Above(system, code string) ([]string, error) {
	cs, err := t.codeSystem(system)
	if err != nil {
		return nil, err
	}
	return cs.above(code), nil
}

func (t *Terminology) codeSystem(system string) (*codeSystem, error) {
	if _, ok := t.terms.defs.codeSystems[system]; !ok {
		return nil, fmt.Errorf("code system %s: %w", system, ErrNotLoaded)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.terms.codeSystem(system)
}
