package conformance

import (
	"errors"
	"fmt"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/fhir/validate"
)

// Terminology answers the token search modifiers :in, :not-in, :below and :above from the value sets and code
// systems the validator loaded (R4's and the guide's), naming the guide's value sets by id too (ValueSet/id), as
// the catalog serves them. It implements search.Terminology and is safe for concurrent use.
type Terminology struct {
	cat   *Catalog
	codes *validate.Terminology
}

// NewTerminology returns the terminology of codes (validation.Pipeline.Terminology in production), with the
// value set ids of cat; cat may be nil (no value set is then known by id), codes may not.
func NewTerminology(cat *Catalog, codes *validate.Terminology) *Terminology {
	return &Terminology{cat: cat, codes: codes}
}

// ValueSetCodes returns the codes of the value set ref: a canonical URL with an optional |version, or
// ValueSet/id, a value set of the guide. It is a *fhir.Error of code invalid for a value set it does not know,
// and not-supported for one whose codes cannot be listed (it includes SNOMED CT, UCUM …, or uses filters that
// are not supported).
func (t *Terminology) ValueSetCodes(ref string) ([]fhirsearch.Token, error) {
	url := ref
	if id, ok := strings.CutPrefix(ref, "ValueSet/"); ok {
		var e *entry
		if t.cat != nil {
			e = t.cat.find("ValueSet", id)
		}
		if e == nil {
			return nil, fhir.Errorf(fhir.IssueInvalid, "", "this server has no %s", truncate(ref, 80))
		}
		url = e.url
	}
	codes, err := t.codes.ValueSet(url)
	switch {
	case errors.Is(err, validate.ErrNotLoaded):
		return nil, fhir.Errorf(fhir.IssueInvalid, "", "the value set %s is not known to this server", truncate(ref, 120))
	case errors.Is(err, validate.ErrUnexpandable):
		return nil, fhir.Errorf(fhir.IssueNotSupported, "", "the value set %s cannot be expanded here (%s)", truncate(ref, 120), err)
	case err != nil:
		return nil, fmt.Errorf("expand %s: %w", truncate(ref, 120), err)
	}
	out := make([]fhirsearch.Token, len(codes))
	for i, c := range codes {
		out[i] = fhirsearch.Token{System: c.System, Code: c.Code}
	}
	return out, nil
}

// Below returns code and the codes of system it subsumes. It is a *fhir.Error of code not-supported for a code
// system whose hierarchy is not known here (one that is not loaded, such as SNOMED CT, or not complete).
func (t *Terminology) Below(system, code string) ([]string, error) {
	return hierarchy(t.codes.Below, system, code)
}

// Above returns code and the codes of system that subsume it; its errors are those of Below.
func (t *Terminology) Above(system, code string) ([]string, error) {
	return hierarchy(t.codes.Above, system, code)
}

// hierarchy calls f, reporting a code system whose hierarchy it does not hold as not supported.
func hierarchy(f func(system, code string) ([]string, error), system, code string) ([]string, error) {
	codes, err := f(system, code)
	switch {
	case errors.Is(err, validate.ErrNotLoaded), errors.Is(err, validate.ErrUnexpandable):
		return nil, fhir.Errorf(fhir.IssueNotSupported, "", "the hierarchy of the code system %s is not known to this server", truncate(system, 120))
	case err != nil:
		return nil, fmt.Errorf("code system %s: %w", truncate(system, 120), err)
	}
	return codes, nil
}
