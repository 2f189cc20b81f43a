package search

import (
	"fmt"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/store"
)

// Terminology is what the token modifiers :in, :not-in, :below and :above need to know of value sets and code
// systems (conformance.Terminology in production). Its errors for what it does not know are *fhir.Error values:
// of code invalid for a value set it does not have, not-supported for one it cannot expand and for a code system
// whose hierarchy it does not hold; the searcher reports them against the parameter (HTTP 400). Any other error
// is its own failure. It must be safe for concurrent use.
type Terminology interface {
	// ValueSetCodes returns the codes of the value set ref: a canonical URL, with an optional |version, or
	// ValueSet/id, a value set this server serves.
	ValueSetCodes(ref string) ([]fhirsearch.Token, error)
	// Below returns code and the codes of system it subsumes.
	Below(system, code string) ([]string, error)
	// Above returns code and the codes of system that subsume it.
	Above(system, code string) ([]string, error)
}

// termCond is the condition of a token value under :in, :not-in (the same condition, negated by the caller),
// :below or :above: any of the codes that the value set or the hierarchy gives, as system|code, and as |code for
// values without a system (elements of type code, whose system is implied by their binding).
func (pl *planner) termCond(c fhirsearch.Criterion, v fhirsearch.Value) (store.Cond, error) {
	terms := pl.s.opts.Terminology
	if terms == nil || c.Param.Code == "_id" {
		return store.Cond{}, fhir.Errorf(fhir.IssueNotSupported, c.Name, "the modifier :%s is not supported on %s here", c.Modifier, c.Param.Code)
	}
	var tokens []fhirsearch.Token
	var err error
	switch c.Modifier {
	case "in", "not-in":
		tokens, err = terms.ValueSetCodes(v.Text)
	default:
		f := terms.Below
		if c.Modifier == "above" {
			f = terms.Above
		}
		var codes []string
		codes, err = f(v.System, v.Code)
		for _, code := range codes {
			tokens = append(tokens, fhirsearch.Token{System: v.System, Code: code})
		}
	}
	if err != nil {
		return store.Cond{}, termError(c.Name, err)
	}
	if len(tokens) > pl.s.opts.MaxCodes {
		return store.Cond{}, fhir.Errorf(fhir.IssueTooCostly, c.Name, "%s=%s stands for %d codes, more than %d: narrow the search",
			c.Name, truncateName(v.Raw), len(tokens), pl.s.opts.MaxCodes)
	}
	keys := make([]any, 0, 2*len(tokens))
	for _, t := range tokens {
		keys = append(keys, tokenKey(t.System, t.Code), tokenKey("", t.Code))
	}
	return store.Cond{Field: field(c.Param.Code, ""), Op: store.OpEq, Values: keys}, nil
}

// termError reports an error of the terminology against the parameter name: what it does not know is the
// request's problem (400), anything else the server's.
func termError(name string, err error) error {
	fe, ok := fhir.AsError(err)
	if !ok || len(fe.Issues) == 0 {
		return fmt.Errorf("terminology for %s: %w", name, err)
	}
	code := fe.Code
	if code != fhir.IssueNotSupported && code != fhir.IssueTooCostly {
		code = fhir.IssueInvalid
	}
	return fhir.Errorf(code, name, "%s: %s", name, fe.Issues[0].Details)
}
