package search

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/store"
)

var _ rest.SystemSearcher = (*Searcher)(nil)

// item is one match of a search over several types.
type item struct {
	r      fhir.Resource
	fields map[string]any
}

// SearchTypes runs one search over several types (system search): every criterion must be a parameter of every
// type; the results are in one order — the sort keys, then the type, then the id — with one keyset paging. Each
// type costs one query per page (two with _total).
func (s *Searcher) SearchTypes(ctx context.Context, types []string, params url.Values, restrict map[string][]store.Cond) (rest.SearchPage, error) {
	qs, err := s.parseTypes(ctx, types, params)
	if err != nil {
		return rest.SearchPage{}, err
	}
	q0 := qs[types[0]]
	count := s.pageSize(q0)
	withTypes := func(v url.Values) url.Values {
		if v != nil {
			v.Set("_type", strings.Join(types, ","))
		}
		return v
	}
	page := rest.SearchPage{Total: -1, Self: withTypes(linkParams(q0, count, q0.Cursor)), Issues: q0.Issues}
	conds, err := s.typeConds(ctx, qs, types, restrict)
	if err != nil {
		return rest.SearchPage{}, err
	}
	if q0.Summary == "count" || count == 0 {
		page.Total, err = s.countTypes(ctx, types, conds)
		return page, err
	}
	keys := sortKeys(q0)
	p, err := s.pageTypes(ctx, qs, types, conds, keys, count)
	if err != nil {
		return rest.SearchPage{}, err
	}
	page.Total = p.total
	next, prev := p.links(q0, keys, count)
	page.Next, page.Prev = withTypes(next), withTypes(prev)
	return s.finishTypes(ctx, qs, types, p, page)
}

// typeConds are the conditions of each type's criteria and restrictions.
func (s *Searcher) typeConds(ctx context.Context, qs map[string]*fhirsearch.Query, types []string, restrict map[string][]store.Cond) (map[string][]store.Cond, error) {
	pl := &planner{s: s, ctx: ctx, now: s.opts.Clock()}
	conds := map[string][]store.Cond{}
	for _, t := range types {
		c, err := pl.conds(qs[t].Criteria)
		if err != nil {
			return nil, err
		}
		conds[t] = append(c, restrict[t]...)
	}
	return conds, nil
}

// countTypes is the total of matches over the types.
func (s *Searcher) countTypes(ctx context.Context, types []string, conds map[string][]store.Cond) (int, error) {
	total := 0
	for _, t := range types {
		found, err := s.find(ctx, t, store.Query{Conds: conds[t], CountOnly: true})
		if err != nil {
			return 0, err
		}
		total += found.Total
	}
	return total, nil
}

// pageTypes reads, from each type, the page the cursor selects in that type's order, merges them into the order
// over all types and keeps count of them (the first after the cursor, or the last before it).
func (s *Searcher) pageTypes(ctx context.Context, qs map[string]*fhirsearch.Query, types []string, conds map[string][]store.Cond, keys []store.SortKey, count int) (pageResult, error) {
	q0 := qs[types[0]]
	var cur cursor
	var pos *store.Position
	if q0.Cursor != "" {
		var err error
		if cur, pos, err = decodeCursor(q0.Cursor, keys); err != nil {
			return pageResult{}, err
		}
	}
	countTotal := q0.Total == "accurate" || q0.Total == "estimate"
	var items []item
	p := pageResult{hasPrev: q0.Cursor != "" && !cur.Before, hasNext: cur.Before}
	for _, t := range types {
		sq := store.Query{Conds: conds[t], Sort: keys, Count: count + 1, Fields: s.matchFields(qs[t], keys), CountTotal: countTotal}
		if pos != nil && cur.Before {
			sq.Before = typePosition(keys, t, cur, pos)
		} else if pos != nil {
			sq.After = typePosition(keys, t, cur, pos)
		}
		found, err := s.find(ctx, t, sq)
		if err != nil {
			return pageResult{}, err
		}
		p.total += found.Total
		for i, r := range found.Resources {
			items = append(items, item{r: r, fields: found.Fields[i]})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return compareItems(keys, a, b) })
	switch {
	case cur.Before && len(items) > count:
		items, p.hasPrev = items[len(items)-count:], true
	case len(items) > count:
		items, p.hasNext = items[:count], true
	}
	if !countTotal {
		p.total = -1
		if q0.Total == "" && q0.Cursor == "" && !p.hasNext {
			p.total = len(items)
		}
	}
	for _, it := range items {
		p.matches, p.fields = append(p.matches, it.r), append(p.fields, it.fields)
	}
	return p, nil
}

// finishTypes adds the included resources of each type's matches and applies _summary and _elements.
func (s *Searcher) finishTypes(ctx context.Context, qs map[string]*fhirsearch.Query, types []string, p pageResult, page rest.SearchPage) (rest.SearchPage, error) {
	for _, t := range types {
		var matches []fhir.Resource
		var fields []map[string]any
		for i, r := range p.matches {
			if r.Type == t {
				matches, fields = append(matches, r), append(fields, p.fields[i])
			}
		}
		included, issues, err := s.include(ctx, qs[t], matches, fields)
		if err != nil {
			return rest.SearchPage{}, err
		}
		page.Included, page.Issues = append(page.Included, included...), append(page.Issues, issues...)
	}
	for _, r := range p.matches {
		m, err := s.summarize([]fhir.Resource{r}, qs[r.Type])
		if err != nil {
			return rest.SearchPage{}, err
		}
		page.Matches = append(page.Matches, m...)
	}
	return page, nil
}

// parseTypes parses params for each type. A parameter known to some of the types but not all is an error: it
// cannot select the resources of the others.
func (s *Searcher) parseTypes(ctx context.Context, types []string, params url.Values) (map[string]*fhirsearch.Query, error) {
	qs := make(map[string]*fhirsearch.Query, len(types))
	for _, t := range types {
		q, err := s.parse(ctx, t, params, false)
		if err != nil {
			return nil, err
		}
		qs[t] = q
	}
	for name := range params {
		var known, unknown []string
		for _, t := range types {
			if _, ok := qs[t].Params[name]; ok {
				known = append(known, t)
			} else {
				unknown = append(unknown, t)
			}
		}
		if len(known) > 0 && len(unknown) > 0 {
			return nil, fhir.Errorf(fhir.IssueInvalid, name, "%s is a search parameter of %s but not of %s: a search of several types takes only their common parameters",
				truncateName(name), strings.Join(known, ", "), strings.Join(unknown, ", "))
		}
	}
	return qs, nil
}

func truncateName(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// The ids that sort before and after every id (ids are letters, digits, - and .).
const (
	idFirst = ""
	idLast  = "~"
)

// typePosition is the cursor's position as it applies to type t: at the cursor's type its own id; for a type
// before it in the order, after every id with the cursor's values; for a type after it, before every one.
func typePosition(keys []store.SortKey, t string, c cursor, pos *store.Position) *store.Position {
	desc := len(keys) > 0 && keys[0].Descending
	order := cmp.Compare(t, c.Type)
	if desc {
		order = -order
	}
	p := &store.Position{Values: pos.Values, ID: pos.ID}
	switch {
	case order < 0 && !desc, order > 0 && desc:
		p.ID = idLast
	case order < 0, order > 0:
		p.ID = idFirst
	}
	return p
}

// compareItems orders items as the store orders one type (an absent value first, ascending), then by type and
// id in the direction of the first key.
func compareItems(keys []store.SortKey, a, b item) int {
	for _, k := range keys {
		c := compareValues(sortValue(k.Field, a), sortValue(k.Field, b))
		if k.Descending {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	c := cmp.Compare(a.r.Type, b.r.Type)
	if c == 0 {
		c = cmp.Compare(a.r.ID, b.r.ID)
	}
	if len(keys) > 0 && keys[0].Descending {
		c = -c
	}
	return c
}

func sortValue(f string, it item) any {
	switch f {
	case "_id":
		return it.r.ID
	case "ts":
		return it.r.LastUpdated
	}
	if s, ok := it.fields[f].(string); ok {
		return s
	}
	return nil
}

func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	if ta, ok := a.(time.Time); ok {
		tb, _ := b.(time.Time)
		return ta.Compare(tb)
	}
	sa, _ := a.(string)
	sb, _ := b.(string)
	return cmp.Compare(sa, sb)
}
