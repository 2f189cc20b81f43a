package search

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/store"
)

// Options configure a Searcher; DefaultOptions gives the defaults.
type Options struct {
	// DefaultCount is the page size without _count; MaxCount the largest page (a larger _count is lowered).
	DefaultCount, MaxCount int
	// MaxChainMatches bounds the resources a chain or reverse chain may match on one type (beyond it the search
	// fails with too-costly, HTTP 400).
	MaxChainMatches int
	// MaxIncluded bounds the resources _include and _revinclude add to a page (beyond it they are cut, with a
	// warning); MaxIterate bounds the rounds of :iterate.
	MaxIncluded, MaxIterate int
	// MaxMatch bounds the resources a conditional interaction's criteria are matched against.
	MaxMatch int
	// BaseURL is the service's public base URL, when configured: a reference to one of its resources is searched
	// for and included whether written relative (Type/id) or absolute ([base]/Type/id). A base URL in a search's
	// context (rest.WithBaseURL, the base the request was made to) takes its place.
	BaseURL string
	// Terminology resolves the token modifiers :in, :not-in, :below and :above; nil refuses them (not-supported).
	Terminology Terminology
	// MaxCodes bounds the codes one value of those modifiers may stand for (beyond it the search fails with
	// too-costly, HTTP 400).
	MaxCodes int
	// Clock gives now, for ap on dates.
	Clock func() time.Time
}

// DefaultOptions returns pages of 20 and at most 1000, 1000 chain matches and included resources, 3 iterations,
// 1000 codes per value set or hierarchy, and no terminology.
func DefaultOptions() Options {
	return Options{DefaultCount: 20, MaxCount: 1000, MaxChainMatches: 1000, MaxIncluded: 1000, MaxIterate: 3, MaxMatch: 100,
		MaxCodes: 1000, Clock: time.Now}
}

// Searcher runs FHIR searches over a store whose Indexer includes this package's Indexer. It implements
// rest.Searcher; safe for concurrent use.
type Searcher struct {
	store      store.Store
	reg        *fhirsearch.Registry
	summarizer *fhirsearch.Summarizer
	opts       Options
}

var _ rest.Searcher = (*Searcher)(nil)

// New returns a Searcher over st with the parameters of reg.
func New(st store.Store, reg *fhirsearch.Registry, opts Options) *Searcher {
	d := DefaultOptions()
	if opts.DefaultCount <= 0 {
		opts.DefaultCount = d.DefaultCount
	}
	if opts.MaxCount <= 0 {
		opts.MaxCount = d.MaxCount
	}
	if opts.MaxChainMatches <= 0 {
		opts.MaxChainMatches = d.MaxChainMatches
	}
	if opts.MaxIncluded <= 0 {
		opts.MaxIncluded = d.MaxIncluded
	}
	if opts.MaxIterate <= 0 {
		opts.MaxIterate = d.MaxIterate
	}
	if opts.MaxMatch <= 0 {
		opts.MaxMatch = d.MaxMatch
	}
	if opts.MaxCodes <= 0 {
		opts.MaxCodes = d.MaxCodes
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Searcher{store: st, reg: reg, summarizer: fhirsearch.NewSummarizer(), opts: opts}
}

type strictKey struct{}

// WithStrictHandling returns ctx saying whether the request asked for Prefer: handling=strict, under which an
// unknown search parameter is an error rather than ignored with a warning.
func WithStrictHandling(ctx context.Context, strict bool) context.Context {
	return context.WithValue(ctx, strictKey{}, strict)
}

func strictHandling(ctx context.Context) bool {
	s, _ := ctx.Value(strictKey{}).(bool)
	return s
}

func (s *Searcher) parse(ctx context.Context, typ string, params url.Values, strict bool) (*fhirsearch.Query, error) {
	return s.reg.Parse(typ, params, fhirsearch.ParseOptions{Strict: strict || strictHandling(ctx), BaseURL: s.baseURL(ctx)})
}

// baseURL is the service's base URL for a search in ctx: the request's (rest.WithBaseURL), else the configured
// one; "" when neither is known.
//
// References are indexed as written, and the base is applied when searching rather than when indexing: the
// indexer does not know the base when it is derived from each request (no ACCORD_BASE_URL), and a base
// configured later would leave the index of stored resources stale.
func (s *Searcher) baseURL(ctx context.Context) string {
	if b := rest.BaseURLFrom(ctx); b != "" {
		return b
	}
	return strings.TrimSuffix(s.opts.BaseURL, "/")
}

// find runs one store query; the caller's restriction (store.WithRestriction) applies to every query a search
// makes, chains, reverse chains and includes included, so that what the caller may not see decides nothing.
func (s *Searcher) find(ctx context.Context, typ string, q store.Query) (store.FindPage, error) {
	if r := store.RestrictionFrom(ctx); r != nil {
		q.Conds = append(q.Conds[:len(q.Conds):len(q.Conds)], r(typ)...)
	}
	return s.store.Find(ctx, typ, q)
}

// Match returns the resources of typ matching params, the criteria of a conditional interaction (at most
// Options.MaxMatch of them). Unknown parameters are an error (conditional interactions are strict); result
// parameters are ignored; criteria that select nothing are an error.
func (s *Searcher) Match(ctx context.Context, typ string, params url.Values) ([]fhir.Resource, error) {
	q, err := s.parse(ctx, typ, params, true)
	if err != nil {
		return nil, err
	}
	if len(q.Criteria) == 0 {
		return nil, fhir.Errorf(fhir.IssueInvalid, "", "conditional criteria for %s are empty", typ)
	}
	pl := &planner{s: s, ctx: ctx, now: s.opts.Clock()}
	conds, err := pl.conds(q.Criteria)
	if err != nil {
		return nil, err
	}
	page, err := s.find(ctx, typ, store.Query{Conds: conds, Count: s.opts.MaxMatch})
	if err != nil {
		return nil, err
	}
	return page.Resources, nil
}

// ClaimKey is the canonical form of params under typ (type, then the parameters sorted by name, their values
// sorted, and the comma-separated alternatives of each value sorted, so that identifier=a,b and identifier=b,a
// claim the same key), or "" for criteria that do not parse, name unknown parameters or hold result parameters.
func (s *Searcher) ClaimKey(typ string, params url.Values) string {
	q, err := s.reg.Parse(typ, params, fhirsearch.ParseOptions{Strict: true, BaseURL: s.opts.BaseURL})
	if err != nil || len(q.Criteria) == 0 || len(q.Params) != len(params) || len(q.Sort) > 0 || q.Count >= 0 ||
		len(q.Includes)+len(q.RevIncludes) > 0 || q.Summary != "" || len(q.Elements) > 0 || q.Total != "" {
		return ""
	}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(typ)
	sep := byte('?')
	for _, n := range names {
		vals := make([]string, len(params[n]))
		for i, v := range params[n] {
			vals[i] = canonicalValue(v)
		}
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteByte(sep)
			sep = '&'
			fmt.Fprintf(&b, "%s=%s", url.QueryEscape(n), url.QueryEscape(v))
		}
	}
	return b.String()
}

// canonicalValue is v with its alternatives (split at the commas not escaped as \,) sorted and without
// repetitions or empty ones, which select nothing more.
func canonicalValue(v string) string {
	alts := slices.DeleteFunc(fhirsearch.Alternatives(v), func(a string) bool { return a == "" })
	slices.Sort(alts)
	return strings.Join(slices.Compact(alts), ",")
}

// Params lists the search parameters of typ, for the CapabilityStatement: every R4 parameter of the type that
// Accord implements.
func (s *Searcher) Params(typ string) []rest.SearchParam {
	params := s.reg.Params(typ)
	out := make([]rest.SearchParam, 0, len(params))
	for _, p := range params {
		out = append(out, rest.SearchParam{Name: p.Code, Type: string(p.Type), Definition: p.URL})
	}
	return out
}

// Search runs a search interaction on typ: criteria, restrict (added to the query), sort, keyset paging,
// _include and _revinclude, _total, _summary and _elements. See the errors of fhirsearch.Registry.Parse; a bad
// _cursor, and a chain that matches too many resources (too-costly), are 400 errors too.
func (s *Searcher) Search(ctx context.Context, typ string, params url.Values, restrict []store.Cond) (rest.SearchPage, error) {
	q, err := s.parse(ctx, typ, params, false)
	if err != nil {
		return rest.SearchPage{}, err
	}
	return s.run(ctx, q, restrict)
}

// pageSize is the _count to use.
func (s *Searcher) pageSize(q *fhirsearch.Query) int {
	if q.Count < 0 {
		return s.opts.DefaultCount
	}
	return min(q.Count, s.opts.MaxCount)
}

// sortKeys are the store keys of _sort; without one, _lastUpdated ascending (oldest first, so that resources
// added while a client pages arrive on later pages).
func sortKeys(q *fhirsearch.Query) []store.SortKey {
	if len(q.Sort) == 0 {
		return []store.SortKey{{Field: "ts"}}
	}
	keys := make([]store.SortKey, len(q.Sort))
	for i, k := range q.Sort {
		f := field(k.Param.Code, "sort")
		switch k.Param.Code {
		case "_id":
			f = "_id"
		case "_lastUpdated":
			f = "ts"
		}
		keys[i] = store.SortKey{Field: f, Descending: k.Descending}
	}
	return keys
}

// run runs a parsed search: one query for the page (two with _total), plus those of chains and includes.
func (s *Searcher) run(ctx context.Context, q *fhirsearch.Query, restrict []store.Cond) (rest.SearchPage, error) {
	pl := &planner{s: s, ctx: ctx, now: s.opts.Clock()}
	conds, err := pl.conds(q.Criteria)
	if err != nil {
		return rest.SearchPage{}, err
	}
	conds = append(conds, restrict...)
	count := s.pageSize(q)
	page := rest.SearchPage{Total: -1, Self: linkParams(q, count, q.Cursor), Issues: q.Issues}
	if q.Summary == "count" || count == 0 {
		found, err := s.find(ctx, q.Type, store.Query{Conds: conds, CountOnly: true})
		page.Total = found.Total
		return page, err
	}
	keys := sortKeys(q)
	p, err := s.page(ctx, q, keys, store.Query{Conds: conds, Sort: keys, Fields: s.matchFields(q, keys),
		CountTotal: q.Total == "accurate" || q.Total == "estimate"}, count)
	if err != nil {
		return rest.SearchPage{}, err
	}
	page.Total = p.total
	page.Next, page.Prev = p.links(q, keys, count)
	included, issues, err := s.include(ctx, q, p.matches, p.fields)
	if err != nil {
		return rest.SearchPage{}, err
	}
	page.Included, page.Issues = included, append(page.Issues, issues...)
	if page.Matches, err = s.summarize(p.matches, q); err != nil {
		return rest.SearchPage{}, err
	}
	return page, nil
}

// pageResult is one page of matches with what its links need.
type pageResult struct {
	matches          []fhir.Resource
	fields           []map[string]any
	hasPrev, hasNext bool
	total            int
}

// page reads the page of sq that q's cursor selects: count resources after (or before) the cursor's position,
// reading one more to know whether there is a page beyond.
func (s *Searcher) page(ctx context.Context, q *fhirsearch.Query, keys []store.SortKey, sq store.Query, count int) (pageResult, error) {
	sq.Count = count + 1
	var cur cursor
	if q.Cursor != "" {
		c, pos, err := decodeCursor(q.Cursor, keys)
		if err != nil {
			return pageResult{}, err
		}
		cur = c
		if c.Before {
			sq.Before = pos
		} else {
			sq.After = pos
		}
	}
	found, err := s.find(ctx, q.Type, sq)
	if err != nil {
		return pageResult{}, err
	}
	p := pageResult{matches: found.Resources, fields: found.Fields, total: found.Total,
		hasPrev: q.Cursor != "" && !cur.Before, hasNext: cur.Before}
	if len(p.matches) > count {
		if cur.Before {
			p.matches, p.fields, p.hasPrev = p.matches[1:], p.fields[1:], true
		} else {
			p.matches, p.fields, p.hasNext = p.matches[:count], p.fields[:count], true
		}
	}
	if q.Total == "" && q.Cursor == "" && !p.hasNext { // the whole result is this page: its size is the total
		p.total = len(p.matches)
	}
	return p, nil
}

// links returns the parameters of the next and previous pages (nil when none).
func (p pageResult) links(q *fhirsearch.Query, keys []store.SortKey, count int) (next, prev url.Values) {
	if len(p.matches) == 0 {
		return nil, nil
	}
	if p.hasNext {
		last := len(p.matches) - 1
		next = linkParams(q, count, newCursor(keys, p.matches[last], p.fields[last], false).encode())
	}
	if p.hasPrev {
		prev = linkParams(q, count, newCursor(keys, p.matches[0], p.fields[0], true).encode())
	}
	return next, prev
}

// matchFields are the index fields a page's matches must come with: their sort values (for the cursors) and
// the references _include follows.
func (s *Searcher) matchFields(q *fhirsearch.Query, keys []store.SortKey) []string {
	fields := []string{}
	for _, k := range keys {
		if k.Field != "_id" && k.Field != "ts" {
			fields = append(fields, k.Field)
		}
	}
	return append(fields, s.includeFields(q.Type, q.Includes, false)...)
}

// linkParams are the parameters of a page link: the request's, the page size, and the cursor.
func linkParams(q *fhirsearch.Query, count int, cur string) url.Values {
	v := url.Values{}
	for k, vals := range q.Params {
		v[k] = vals
	}
	v.Set("_count", strconv.Itoa(count))
	if cur != "" {
		v.Set("_cursor", cur)
	}
	return v
}

// summarize applies _summary and _elements to the matches.
func (s *Searcher) summarize(matches []fhir.Resource, q *fhirsearch.Query) ([]fhir.Resource, error) {
	if (q.Summary == "" || q.Summary == "false") && len(q.Elements) == 0 {
		return matches, nil
	}
	out := make([]fhir.Resource, len(matches))
	for i, r := range matches {
		obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
		if err != nil {
			return nil, fmt.Errorf("summarise %s: %w", r.Reference(), err)
		}
		b, err := fhir.Marshal(s.summarizer.Summarize(obj, q.Summary, q.Elements))
		if err != nil {
			return nil, fmt.Errorf("summarise %s: %w", r.Reference(), err)
		}
		r.JSON = b
		out[i] = r
	}
	return out, nil
}
