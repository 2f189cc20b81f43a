package search

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/store"
)

// includeParams are the reference parameters an include follows from resources of typ: its own, or with * all
// the type's reference parameters.
func (s *Searcher) includeParams(typ string, inc fhirsearch.Include) []*fhirsearch.Param {
	if inc.Type != typ {
		return nil
	}
	if inc.Param != nil {
		return []*fhirsearch.Param{inc.Param}
	}
	var out []*fhirsearch.Param
	for _, p := range s.reg.Params(typ) {
		if p.Type == fhirsearch.TypeReference {
			out = append(out, p)
		}
	}
	return out
}

// includeFields are the index fields the includes follow from resources of typ (only the :iterate ones when
// iterateOnly).
func (s *Searcher) includeFields(typ string, includes []fhirsearch.Include, iterateOnly bool) []string {
	var out []string
	for _, inc := range includes {
		if iterateOnly && !inc.Iterate {
			continue
		}
		for _, p := range s.includeParams(typ, inc) {
			if f := field(p.Code, ""); !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// includer collects the resources of _include and _revinclude, round by round: the first round from the
// matches, each further round (for :iterate) from what the previous one added.
type includer struct {
	s        *Searcher
	ctx      context.Context
	q        *fhirsearch.Query
	have     map[string]bool
	included []fhir.Resource
	full     bool
	base     string // the service's base URL: references under it are to its resources
}

// include returns the resources the matches include and revinclude, with a warning when Options.MaxIncluded cut
// them. It makes one query per included type and per _revinclude in each round.
func (s *Searcher) include(ctx context.Context, q *fhirsearch.Query, matches []fhir.Resource, fields []map[string]any) ([]fhir.Resource, []fhir.Issue, error) {
	if len(q.Includes)+len(q.RevIncludes) == 0 || len(matches) == 0 {
		return nil, nil, nil
	}
	in := &includer{s: s, ctx: ctx, q: q, have: map[string]bool{}, base: s.baseURL(ctx)}
	for _, r := range matches {
		in.have[r.Reference()] = true
	}
	frontier, frontierFields := matches, fields
	for round := 0; round <= s.opts.MaxIterate && len(frontier) > 0 && !in.full; round++ {
		var err error
		frontier, frontierFields, err = in.round(frontier, frontierFields, round > 0)
		if err != nil {
			return nil, nil, err
		}
	}
	var issues []fhir.Issue
	if in.full {
		issues = append(issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: fhir.IssueTooCostly,
			Details: "_include and _revinclude were cut at " + strconv.Itoa(s.opts.MaxIncluded) + " resources"})
	}
	return in.included, issues, nil
}

// round adds the resources that frontier includes and revincludes; it returns them, with the fields the next
// round needs.
func (in *includer) round(frontier []fhir.Resource, fields []map[string]any, iterating bool) ([]fhir.Resource, []map[string]any, error) {
	next, nextFields, err := in.forward(frontier, fields, iterating)
	if err != nil {
		return nil, nil, err
	}
	for _, inc := range in.q.RevIncludes {
		if iterating && !inc.Iterate {
			continue
		}
		refs := in.revRefs(frontier, inc)
		if len(refs) == 0 {
			continue
		}
		page, err := in.fetch(inc.Type, store.Cond{Field: field(inc.Param.Code, ""), Op: store.OpEq, Values: refs})
		if err != nil {
			return nil, nil, err
		}
		for i, r := range page.Resources {
			if !in.have[r.Reference()] {
				in.have[r.Reference()] = true
				next, nextFields = append(next, r), append(nextFields, page.Fields[i])
			}
		}
	}
	room := in.s.opts.MaxIncluded - len(in.included)
	if len(next) > room {
		next, nextFields, in.full = next[:room], nextFields[:room], true
	}
	in.included = append(in.included, next...)
	return next, nextFields, nil
}

// forward reads the resources that the frontier's references name (_include): one query per type.
func (in *includer) forward(frontier []fhir.Resource, fields []map[string]any, iterating bool) ([]fhir.Resource, []map[string]any, error) {
	wanted := map[string][]any{} // type → ids
	for i, r := range frontier {
		for _, inc := range in.q.Includes {
			if iterating && !inc.Iterate {
				continue
			}
			for _, p := range in.s.includeParams(r.Type, inc) {
				for _, ref := range fhirsearch.Strings(fields[i][field(p.Code, "")]) {
					ref = localRef(ref, in.base)
					typ, id, ok := strings.Cut(ref, "/")
					if !ok || !fhir.IsResourceType(typ) || !fhir.ValidID(id) || (inc.Target != "" && typ != inc.Target) || in.have[ref] {
						continue
					}
					in.have[ref] = true
					wanted[typ] = append(wanted[typ], id)
				}
			}
		}
	}
	types := make([]string, 0, len(wanted))
	for t := range wanted {
		types = append(types, t)
	}
	slices.Sort(types)
	var next []fhir.Resource
	var nextFields []map[string]any
	for _, typ := range types {
		page, err := in.fetch(typ, store.Cond{Field: "_id", Op: store.OpEq, Values: wanted[typ]})
		if err != nil {
			return nil, nil, err
		}
		next, nextFields = append(next, page.Resources...), append(nextFields, page.Fields...)
	}
	return next, nextFields, nil
}

// revRefs are the references to frontier resources that a _revinclude's parameter may hold.
func (in *includer) revRefs(frontier []fhir.Resource, inc fhirsearch.Include) []any {
	var refs []any
	for _, r := range frontier {
		if len(inc.Param.Targets) == 0 || slices.Contains(inc.Param.Targets, r.Type) {
			if inc.Target == "" || inc.Target == r.Type {
				refs = append(refs, refKeys(r.Reference(), in.base)...)
			}
		}
	}
	return refs
}

// localRef is ref relative to base when it is an absolute reference under base, ref otherwise.
func localRef(ref, base string) string {
	if base != "" {
		if rel, ok := strings.CutPrefix(ref, base+"/"); ok {
			return rel
		}
	}
	return ref
}

// refKeys are the index keys of references to a resource of the service (ref is Type/id): ref, and with the
// base known its absolute form.
func refKeys(ref, base string) []any {
	if base == "" {
		return []any{ref}
	}
	return []any{ref, base + "/" + ref}
}

// fetch reads the resources of typ meeting cond, with the fields of the :iterate includes from typ.
func (in *includer) fetch(typ string, cond store.Cond) (store.FindPage, error) {
	fields := in.s.includeFields(typ, in.q.Includes, true)
	page, err := in.s.find(in.ctx, typ, store.Query{Conds: []store.Cond{cond}, Count: in.s.opts.MaxIncluded + 1, Fields: fields})
	if err != nil {
		return page, err
	}
	if page.Fields == nil {
		page.Fields = make([]map[string]any, len(page.Resources))
	}
	return page, nil
}

// Includes lists the values _include accepts on a search of typ, for the CapabilityStatement: * and typ:param for
// each of its reference parameters, sorted.
func (s *Searcher) Includes(typ string) []string {
	var out []string
	for _, p := range s.reg.Params(typ) {
		if p.Type == fhirsearch.TypeReference {
			out = append(out, typ+":"+p.Code)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return append([]string{"*"}, out...)
}

// RevIncludes lists the values _revinclude accepts on a search of typ that may include resources, for the
// CapabilityStatement: Other:param for every reference parameter of every type that may refer to typ (its
// targets include typ, or it has none), sorted.
func (s *Searcher) RevIncludes(typ string) []string {
	var out []string
	for _, other := range fhir.ResourceTypes() {
		for _, p := range s.reg.Params(other) {
			if p.Type == fhirsearch.TypeReference && (len(p.Targets) == 0 || slices.Contains(p.Targets, typ)) {
				out = append(out, other+":"+p.Code)
			}
		}
	}
	slices.Sort(out)
	return out
}
