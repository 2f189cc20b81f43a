package conformance

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
)

// Page is one page of a search of the catalog.
type Page struct {
	// Matches are the page's resources, cut as _summary and _elements ask.
	Matches []fhir.Resource
	// Total is the number of matches on every page, -1 under _total=none.
	Total int
	// Self, Next and Prev are the parameters of the links to this page and to the next and previous ones (nil
	// when there is none).
	Self, Next, Prev url.Values
}

// Search runs a search of typ: the resources matching every parameter of SearchParams(typ), sorted as _sort
// asks (by id without it), _count at a time from the position of _cursor (every match without _count), cut as
// _summary and _elements ask, with their number unless _total=none (only their number with _summary=count or
// _count=0). It never ignores a parameter: an unknown one, one R4 defines but the catalog does not implement,
// a modifier it does not implement (:in, :not-in, :below, :above), _include, _revinclude and _has are a
// *fhir.Error of code not-supported, and a malformed value (of _count, _sort, _cursor …) one of code invalid,
// naming the parameter (HTTP 400 both). See https://hl7.org/fhir/R4/search.html.
func (c *Catalog) Search(typ string, params url.Values) (Page, error) {
	q, err := c.parse(typ, params)
	if err != nil {
		return Page{}, err
	}
	now := time.Now()
	var found []*entry
	for _, e := range c.byType[typ] {
		if matchesAll(e, q.Criteria, now) {
			found = append(found, e)
		}
	}
	sortEntries(found, q.Sort)
	return c.page(q, found)
}

// parse parses a search of typ with the registry of the catalog's parameters, strictly (an unknown parameter
// is an error), and refuses what the catalog does not implement.
func (c *Catalog) parse(typ string, params url.Values) (*fhirsearch.Query, error) {
	for _, name := range sortedKeys(params) {
		code, _, _ := strings.Cut(name, ":")
		code, _, _ = strings.Cut(code, ".")
		_, known := c.reg.Param(typ, code)
		switch {
		case !slices.ContainsFunc(params[name], func(v string) bool { return v != "" }): // R4: empty ones are ignored
		case code == "_include" || code == "_revinclude" || code == "_has":
			return nil, fhir.Errorf(fhir.IssueNotSupported, name, "%s is not supported on the implementation guide's conformance resources", code)
		case !known && !strings.HasPrefix(code, "_"):
			return nil, fhir.Errorf(fhir.IssueNotSupported, name, "%s does not support the search parameter %q here (%s)",
				typ, truncate(code, 40), strings.Join(codes(SearchParams(typ)), ", "))
		}
	}
	q, err := c.reg.Parse(typ, params, fhirsearch.ParseOptions{Strict: true})
	if err != nil {
		return nil, err
	}
	for _, cr := range q.Criteria {
		switch cr.Modifier {
		case "in", "not-in", "below", "above":
			return nil, fhir.Errorf(fhir.IssueNotSupported, cr.Name, "the modifier :%s is not supported on %s here", cr.Modifier, cr.Param.Code)
		}
	}
	return q, nil
}

func codes(defs []fhirsearch.Definition) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.Code
	}
	return out
}

// page cuts the page the query's _cursor and _count select out of found, with its links.
func (c *Catalog) page(q *fhirsearch.Query, found []*entry) (Page, error) {
	start, err := decodeCursor(q)
	if err != nil {
		return Page{}, err
	}
	p := Page{Total: len(found), Self: linkParams(q, "")}
	if q.Summary == "count" || q.Count == 0 {
		return p, nil
	}
	if q.Total == "none" {
		p.Total = -1
	}
	start, end := min(start, len(found)), len(found)
	if q.Count > 0 {
		end = min(start+q.Count, len(found))
		if end < len(found) {
			p.Next = linkParams(q, encodeCursor(q, end))
		}
		if start > 0 {
			p.Prev = linkParams(q, encodeCursor(q, max(0, start-q.Count)))
		}
	}
	p.Self = linkParams(q, encodeCursor(q, start))
	p.Matches, err = c.summarize(found[start:end], q)
	return p, err
}

// linkParams are the parameters of a page link: the request's, as parsed, and the page's cursor ("" for the
// first page).
func linkParams(q *fhirsearch.Query, cursor string) url.Values {
	v := url.Values{}
	for k, vals := range q.Params {
		v[k] = vals
	}
	if cursor != "" {
		v.Set("_cursor", cursor)
	}
	return v
}

// cursor is the position of a page, opaque to clients (base64url JSON): the offset of its first match in the
// order Sort names. The catalog does not change while the process runs, so an offset is never stale.
type cursor struct {
	Sort   string `json:"o"`
	Offset int    `json:"n"`
}

// sortSignature names the order of a query: its _sort keys, with - for descending.
func sortSignature(q *fhirsearch.Query) string {
	parts := make([]string, len(q.Sort))
	for i, k := range q.Sort {
		parts[i] = k.Param.Code
		if k.Descending {
			parts[i] = "-" + parts[i]
		}
	}
	return strings.Join(parts, ",")
}

// encodeCursor is the _cursor of the page starting at offset ("" for the first).
func encodeCursor(q *fhirsearch.Query, offset int) string {
	if offset == 0 {
		return ""
	}
	b, _ := json.Marshal(cursor{Sort: sortSignature(q), Offset: offset}) // a string and an int always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the offset of the query's _cursor (0 without one); a cursor that is malformed or of
// another order is a *fhir.Error of code invalid.
func decodeCursor(q *fhirsearch.Query) (int, error) {
	if q.Cursor == "" {
		return 0, nil
	}
	bad := fhir.Errorf(fhir.IssueInvalid, "_cursor", "the _cursor is not one of this search's page links")
	raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	if err != nil {
		return 0, bad
	}
	var cur cursor
	if err := json.Unmarshal(raw, &cur); err != nil || cur.Sort != sortSignature(q) || cur.Offset < 0 {
		return 0, bad
	}
	return cur.Offset, nil
}

// summarize returns the resources of list, cut as _summary and _elements ask.
func (c *Catalog) summarize(list []*entry, q *fhirsearch.Query) ([]fhir.Resource, error) {
	out := make([]fhir.Resource, len(list))
	cut := (q.Summary != "" && q.Summary != "false") || len(q.Elements) > 0
	for i, e := range list {
		out[i] = e.res
		if !cut {
			continue
		}
		b, err := fhir.Marshal(c.summarizer.Summarize(e.obj, q.Summary, q.Elements))
		if err != nil {
			return nil, fmt.Errorf("summarise %s/%s: %w", e.res.Type, e.res.ID, err)
		}
		out[i].JSON = b
	}
	return out, nil
}

func sortedKeys(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
