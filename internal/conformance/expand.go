package conformance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// ExpandRequest is what $expand asks: the value set (by id at the instance level, else by canonical url), a
// text filter, and paging.
type ExpandRequest struct {
	ID, URL string
	Filter  string
	Offset  int
	Count   int // -1: all
}

// maxExpandDepth bounds value sets that include value sets.
const maxExpandDepth = 8

// Expand returns the ValueSet with its expansion: the codes of the guide's value set, each with its system and
// display, optionally filtered (case-insensitive, on code or display) and paged. It is a *fhir.Error of code
// not-found for a value set the guide does not define, and of code not-supported for one that includes codes of
// a system the guide does not define without listing them.
// See https://hl7.org/fhir/R4/valueset-operation-expand.html.
func (c *Catalog) Expand(req ExpandRequest) (fhir.Object, error) {
	e := c.find("ValueSet", req.ID)
	if req.ID == "" {
		u, _, _ := strings.Cut(req.URL, "|")
		if e = c.byURL[u]; e != nil && e.res.Type != "ValueSet" {
			e = nil
		}
	}
	if e == nil {
		return nil, fhir.Errorf(fhir.IssueNotFound, "", "the implementation guide has no such ValueSet")
	}
	codes, err := c.codes(e, 0)
	if err != nil {
		return nil, err
	}
	if req.Filter != "" {
		f := strings.ToLower(req.Filter)
		codes = slices.DeleteFunc(codes, func(x concept) bool {
			return !strings.Contains(strings.ToLower(x.code), f) && !strings.Contains(strings.ToLower(x.display), f)
		})
	}
	total := len(codes)
	page := codes[min(req.Offset, total):]
	if req.Count >= 0 && req.Count < len(page) {
		page = page[:req.Count]
	}
	return c.render(e, req, total, page), nil
}

type concept struct{ system, code, display string }

// codes lists the codes of value set e, in the order of its compose.
func (c *Catalog) codes(e *entry, depth int) ([]concept, error) {
	if depth > maxExpandDepth {
		return nil, fhir.Errorf(fhir.IssueTooCostly, "", "value sets include each other deeper than %d", maxExpandDepth)
	}
	compose, _ := e.obj["compose"].(map[string]any)
	var out []concept
	for _, inc := range list(compose["include"]) {
		got, err := c.include(inc, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	for _, exc := range list(compose["exclude"]) {
		drop, err := c.include(exc, depth)
		if err != nil {
			return nil, err
		}
		out = slices.DeleteFunc(out, func(x concept) bool {
			return slices.ContainsFunc(drop, func(d concept) bool { return d.system == x.system && d.code == x.code })
		})
	}
	return out, nil
}

// include lists the codes of one include (or exclude) rule: its concepts, or every code of its system, within
// the value sets it names.
func (c *Catalog) include(rule fhir.Object, depth int) ([]concept, error) {
	system := str(rule, "system")
	var out []concept
	switch listed := list(rule["concept"]); {
	case len(list(rule["filter"])) > 0:
		return nil, fhir.Errorf(fhir.IssueNotSupported, "", "value sets with filters cannot be expanded here")
	case len(listed) > 0:
		for _, x := range listed {
			out = append(out, concept{system, str(x, "code"), str(x, "display")})
		}
		if cs := c.byURL[system]; cs != nil {
			for i := range out {
				if out[i].display == "" {
					out[i].display = lookup(list(cs.obj["concept"]), out[i].code)
				}
			}
		}
	case system != "":
		cs := c.byURL[system]
		if cs == nil || cs.res.Type != "CodeSystem" {
			return nil, fhir.Errorf(fhir.IssueNotSupported, "", "the code system %s is not part of the implementation guide", truncate(system, 120))
		}
		walk(list(cs.obj["concept"]), func(x fhir.Object) { out = append(out, concept{system, str(x, "code"), str(x, "display")}) })
	}
	for _, v := range strList(rule["valueSet"]) {
		u, _, _ := strings.Cut(v, "|")
		inner := c.byURL[u]
		if inner == nil || inner.res.Type != "ValueSet" {
			return nil, fhir.Errorf(fhir.IssueNotSupported, "", "the value set %s is not part of the implementation guide", truncate(v, 120))
		}
		got, err := c.codes(inner, depth+1)
		if err != nil {
			return nil, err
		}
		if system == "" && len(out) == 0 {
			out = got
			continue
		}
		out = slices.DeleteFunc(out, func(x concept) bool {
			return !slices.ContainsFunc(got, func(g concept) bool { return g.system == x.system && g.code == x.code })
		})
	}
	return out, nil
}

func (c *Catalog) render(e *entry, req ExpandRequest, total int, page []concept) fhir.Object {
	out := make(fhir.Object, len(e.obj)+1)
	for k, v := range e.obj {
		if k != "compose" && k != "text" {
			out[k] = v
		}
	}
	contains := make([]any, len(page))
	for i, x := range page {
		m := map[string]any{"system": x.system, "code": x.code}
		if x.display != "" {
			m["display"] = x.display
		}
		contains[i] = m
	}
	exp := map[string]any{
		"identifier": fmt.Sprintf("urn:accord:expansion:%s:%s", e.res.ID, str(e.obj, "version")),
		"timestamp":  c.loaded.Format(fhir.InstantFormat), "total": total, "offset": min(req.Offset, total),
		"contains": contains,
	}
	var ps []any
	if req.Filter != "" {
		ps = append(ps, map[string]any{"name": "filter", "valueString": req.Filter})
	}
	if req.Count >= 0 {
		ps = append(ps, map[string]any{"name": "count", "valueInteger": req.Count})
	}
	if len(ps) > 0 {
		exp["parameter"] = ps
	}
	if len(contains) == 0 {
		delete(exp, "contains")
	}
	out["expansion"] = exp
	return out
}

func walk(concepts []fhir.Object, f func(fhir.Object)) {
	for _, x := range concepts {
		f(x)
		walk(list(x["concept"]), f)
	}
}

func lookup(concepts []fhir.Object, code string) string {
	var display string
	walk(concepts, func(x fhir.Object) {
		if str(x, "code") == code && display == "" {
			display = str(x, "display")
		}
	})
	return display
}

func list(v any) []fhir.Object {
	items, _ := v.([]any)
	out := make([]fhir.Object, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func strList(v any) []string {
	items, _ := v.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
