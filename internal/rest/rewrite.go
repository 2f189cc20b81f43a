package rest

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
)

// rewriteRefs replaces, in a transaction entry's resource, what names another entry by its fullUrl (refs maps
// each fullUrl to Type/id), as R4 asks ("Servers SHALL replace all matching links in the bundle, whether they are
// found in the resource ids, resource references, elements of type uri, url, oid, uuid, and <a href="" & <img
// src="" in the narrative", http.html#trules): references (and conditional references, by their one match), href
// and src in narrative, and elements of type uri, url, canonical, oid and uuid. A urn:uuid or urn:oid reference
// that is no entry's fullUrl fails the entry. ty types the elements; one serves a whole transaction.
func (s *Service) rewriteRefs(ctx context.Context, e *entry, refs map[string]string, ty *typer) error {
	rw := &rewriter{s: s, ctx: ctx, e: e, refs: refs}
	if err := rw.walk(e.obj, "resource", e.typ); err != nil {
		return err
	}
	for _, u := range rw.uris {
		if slices.Contains(uriTypes, ty.typeOf(e.obj, u.expr)) {
			u.replace()
		}
	}
	return nil
}

// typer tells the FHIR type of an element from the FHIRPath model. Its engine is made on first use: it is seldom
// needed, and costly to make (milliseconds).
type typer struct {
	engine *fhirpath.Engine
}

// typeOf returns the FHIR type of the one element expr selects in obj, "" when it selects none or several.
func (t *typer) typeOf(obj fhir.Object, expr string) string {
	if t.engine == nil {
		t.engine = fhirpath.NewEngine()
	}
	x, err := t.engine.Compile(expr)
	if err != nil {
		return ""
	}
	vals, err := x.Evaluate(obj)
	if err != nil || len(vals) != 1 {
		return ""
	}
	return vals[0].FHIRType()
}

// rewriter rewrites one entry's resource.
type rewriter struct {
	s    *Service
	ctx  context.Context
	e    *entry
	refs map[string]string
	// uris are the strings outside references and narrative that equal a fullUrl: replaced only when their
	// element is of a uri type (not, say, an Identifier.value), which the FHIRPath model tells.
	uris []uriElement
}

// uriElement is a string equal to a fullUrl: its element's FHIRPath and how to replace it.
type uriElement struct {
	expr    string
	replace func()
}

// uriTypes are the FHIR types whose values R4 rewrites: uri and its specialisations.
var uriTypes = []string{"uri", "url", "canonical", "oid", "uuid"}

// walk rewrites node; path is its place for errors (resource.subject), expr its FHIRPath (Observation.`subject`).
func (rw *rewriter) walk(node any, path, expr string) error {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if err := rw.member(n, k, v, path+"."+k, expr+"."+pathName(k)); err != nil {
				return err
			}
		}
	case []any:
		for i, v := range n {
			x := fmt.Sprintf("%s[%d]", expr, i)
			if str, ok := v.(string); ok {
				rw.candidate(str, x, func(to string) { n[i] = to })
				continue
			}
			if err := rw.walk(v, fmt.Sprintf("%s[%d]", path, i), x); err != nil {
				return err
			}
		}
	}
	return nil
}

// member rewrites the member k of obj, whose value is v.
func (rw *rewriter) member(obj map[string]any, k string, v any, path, expr string) error {
	str, ok := v.(string)
	switch {
	case !ok:
		return rw.walk(v, path, expr)
	case k == "reference":
		resolved, err := rw.s.resolveRef(rw.ctx, rw.e, str, path, rw.refs)
		if err != nil {
			return err
		}
		obj[k] = resolved
	case k == "div" && strings.HasSuffix(path, ".text.div"):
		obj[k] = rewriteNarrative(str, rw.refs)
	default:
		rw.candidate(str, expr, func(to string) { obj[k] = to })
	}
	return nil
}

// candidate notes a string that equals a fullUrl, to replace if its element is of a uri type.
func (rw *rewriter) candidate(str, expr string, set func(string)) {
	if to, ok := rw.refs[str]; ok {
		rw.uris = append(rw.uris, uriElement{expr: expr, replace: func() { set(to) }})
	}
}

// pathName is a JSON member name as a FHIRPath name: a primitive's extensions (_birthDate) are the primitive's
// (birthDate); quoted, since element names may be FHIRPath keywords.
func pathName(k string) string {
	return "`" + strings.TrimPrefix(k, "_") + "`"
}

// resolveRef returns what a reference becomes: Type/id for another entry's fullUrl or for the one match of a
// conditional reference (Type?criteria), the reference itself otherwise.
func (s *Service) resolveRef(ctx context.Context, e *entry, ref, path string, refs map[string]string) (string, error) {
	if to, ok := refs[ref]; ok {
		return to, nil
	}
	if strings.HasPrefix(ref, "urn:uuid:") || strings.HasPrefix(ref, "urn:oid:") {
		return "", entryErr(e.index, fhir.IssueInvalid, path, "the reference %q matches no fullUrl in the Bundle", truncate(ref, 100))
	}
	typ, query, isQuery := strings.Cut(ref, "?")
	if !isQuery || !fhir.IsResourceType(typ) {
		return ref, nil
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return "", entryErr(e.index, fhir.IssueInvalid, path, "the conditional reference has a malformed query")
	}
	m, _, err := s.matchOne(ctx, typ, params) // what the caller may not see matches nothing
	switch {
	case err != nil: // several matches: store.ErrPreconditionFailed
		return "", &EntryError{Index: e.index, Err: err}
	case m == nil:
		return "", entryErr(e.index, fhir.IssueInvalid, path, "the conditional reference matches no %s", typ)
	}
	return m.Reference(), nil
}
