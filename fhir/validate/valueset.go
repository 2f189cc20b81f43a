package validate

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// codeSet is an expanded value set: its codes with their system, and the codes alone for elements of type code
// (whose system is implied by the binding).
type codeSet struct {
	url     string
	codes   map[string]struct{}
	codings map[coding]struct{}
}

type coding struct{ system, code string }

func newCodeSet(url string) *codeSet {
	return &codeSet{url: url, codes: map[string]struct{}{}, codings: map[coding]struct{}{}}
}

func (s *codeSet) add(system, code string) {
	s.codes[code] = struct{}{}
	s.codings[coding{system, code}] = struct{}{}
}

// hasCode reports whether code is in the set under any system.
func (s *codeSet) hasCode(code string) bool {
	_, ok := s.codes[code]
	return ok
}

// hasCoding reports whether system|code is in the set.
func (s *codeSet) hasCoding(system, code string) bool {
	_, ok := s.codings[coding{system, code}]
	return ok
}

// ErrUnexpandable marks a value set that cannot be expanded from the loaded definitions (a CodeSystem that is
// external, such as UCUM or BCP 13, or not complete, or an unsupported filter), whose bindings are not checked,
// and a code system whose hierarchy Terminology does not hold.
var ErrUnexpandable = errors.New("cannot be expanded")

// terminology expands value sets on demand, memoising every result: during New, and after it behind the lock of
// Terminology.
type terminology struct {
	defs    *definitions
	systems map[string]*codeSystem
	sets    map[string]*codeSet
	failed  map[string]error
	busy    map[string]bool
}

func newTerminology(defs *definitions) *terminology {
	return &terminology{defs: defs, systems: map[string]*codeSystem{}, sets: map[string]*codeSet{},
		failed: map[string]error{}, busy: map[string]bool{}}
}

// expand returns the value set with canonical url (a "|version" suffix is ignored), or an error wrapping
// ErrUnexpandable when its codes cannot be listed from the loaded definitions.
func (t *terminology) expand(url string) (*codeSet, error) {
	url, _, _ = strings.Cut(url, "|")
	if s, ok := t.sets[url]; ok {
		return s, nil
	}
	if err, ok := t.failed[url]; ok {
		return nil, err
	}
	if t.busy[url] {
		return nil, fmt.Errorf("value set %s includes itself: %w", url, ErrUnexpandable)
	}
	t.busy[url] = true
	s, err := t.compose(url)
	delete(t.busy, url)
	if err != nil {
		t.failed[url] = err
		return nil, err
	}
	t.sets[url] = s
	return s, nil
}

func (t *terminology) compose(url string) (*codeSet, error) {
	vs, ok := t.defs.valueSets[url]
	if !ok {
		return nil, fmt.Errorf("value set %s is not loaded: %w", url, ErrUnexpandable)
	}
	if vs.Compose == nil {
		return nil, fmt.Errorf("value set %s has no compose: %w", url, ErrUnexpandable)
	}
	s := newCodeSet(url)
	for _, rule := range vs.Compose.Include {
		if err := t.apply(rule, s.add); err != nil {
			return nil, fmt.Errorf("value set %s: %w", url, err)
		}
	}
	for _, rule := range vs.Compose.Exclude {
		err := t.apply(rule, func(system, code string) {
			delete(s.codings, coding{system, code})
		})
		if err != nil {
			return nil, fmt.Errorf("value set %s: %w", url, err)
		}
	}
	if len(vs.Compose.Exclude) > 0 { // a code may remain under another system
		clear(s.codes)
		for c := range s.codings {
			s.codes[c.code] = struct{}{}
		}
	}
	return s, nil
}

// apply calls add for every code that one include or exclude rule selects: the codes of its system (all,
// listed, or filtered), restricted to the value sets it names.
func (t *terminology) apply(rule composeRule, add func(system, code string)) error {
	within, err := t.expandAll(rule.ValueSet)
	if err != nil {
		return err
	}
	in := func(system, code string) bool {
		for _, s := range within {
			if !s.hasCoding(system, code) {
				return false
			}
		}
		return true
	}
	if rule.System == "" {
		if len(within) == 0 {
			return fmt.Errorf("include without system or value set: %w", ErrUnexpandable)
		}
		for c := range within[0].codings {
			if in(c.system, c.code) {
				add(c.system, c.code)
			}
		}
		return nil
	}
	if len(rule.Concept) > 0 {
		for _, c := range rule.Concept {
			if in(rule.System, c.Code) {
				add(rule.System, c.Code)
			}
		}
		return nil
	}
	cs, err := t.codeSystem(rule.System)
	if err != nil {
		return err
	}
	codes, err := cs.filter(rule.Filter)
	if err != nil {
		return fmt.Errorf("code system %s: %w", rule.System, err)
	}
	for _, code := range codes {
		if in(rule.System, code) {
			add(rule.System, code)
		}
	}
	return nil
}

func (t *terminology) expandAll(urls []string) ([]*codeSet, error) {
	sets := make([]*codeSet, 0, len(urls))
	for _, u := range urls {
		s, err := t.expand(u)
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	return sets, nil
}

func (t *terminology) codeSystem(url string) (*codeSystem, error) {
	if cs, ok := t.systems[url]; ok {
		return cs, nil
	}
	r, ok := t.defs.codeSystems[url]
	if !ok {
		return nil, fmt.Errorf("code system %s is not loaded: %w", url, ErrUnexpandable)
	}
	if r.Content != "complete" {
		return nil, fmt.Errorf("code system %s has content %q: %w", url, r.Content, ErrUnexpandable)
	}
	cs := newCodeSystem(r.Concept)
	t.systems[url] = cs
	return cs, nil
}

// filter returns the codes that pass every filter (all codes when there is none).
// See https://hl7.org/fhir/R4/valueset-filter-operator.html.
func (cs *codeSystem) filter(filters []filter) ([]string, error) {
	codes := cs.codes
	for _, f := range filters {
		keep, err := cs.matcher(f)
		if err != nil {
			return nil, err
		}
		var next []string
		for _, c := range codes {
			if keep(c) {
				next = append(next, c)
			}
		}
		codes = next
	}
	return codes, nil
}

func (cs *codeSystem) matcher(f filter) (func(string) bool, error) {
	switch {
	case f.Op == "is-a" && f.Property == "concept":
		return func(c string) bool { return c == f.Value || cs.descends(c, f.Value) }, nil
	case f.Op == "descendent-of" && f.Property == "concept":
		return func(c string) bool { return cs.descends(c, f.Value) }, nil
	case f.Op == "is-not-a" && f.Property == "concept":
		return func(c string) bool { return c != f.Value && !cs.descends(c, f.Value) }, nil
	case f.Op == "generalizes" && f.Property == "concept":
		return func(c string) bool { return c == f.Value || cs.descends(f.Value, c) }, nil
	case f.Op == "in" && (f.Property == "concept" || f.Property == "code"):
		set := map[string]bool{}
		for _, v := range strings.Split(f.Value, ",") {
			set[strings.TrimSpace(v)] = true
		}
		return func(c string) bool { return set[c] }, nil
	case f.Op == "regex" && f.Property == "code":
		re, err := regexp.Compile("^(?:" + f.Value + ")$")
		if err != nil {
			return nil, fmt.Errorf("filter regex %q: %v: %w", f.Value, err, ErrUnexpandable)
		}
		return re.MatchString, nil
	case f.Op == "=":
		return func(c string) bool { return cs.props[c][f.Property] == f.Value }, nil
	}
	return nil, fmt.Errorf("filter %s %s: %w", f.Property, f.Op, ErrUnexpandable)
}
