package search

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/store"
)

// Identifiers indexes and matches the parameters conditional interactions use: _id and identifier (token).
// It is the minimal search that conditional create, update, delete and references need.
type Identifiers struct {
	store store.Store
}

// NewIdentifiers returns an Identifiers searcher over st.
func NewIdentifiers(st store.Store) *Identifiers { return &Identifiers{store: st} }

const identifierField = "identifier"

// Index returns the identifier tokens of obj: "system|value" and the bare value (or "|value" without a system).
func (Identifiers) Index(typ string, obj fhir.Object) (map[string]any, error) {
	var tokens []any
	add := func(id map[string]any) {
		sys, _ := id["system"].(string)
		val, _ := id["value"].(string)
		if val == "" {
			return
		}
		tokens = append(tokens, sys+"|"+val)
		if sys != "" {
			tokens = append(tokens, val)
		}
	}
	switch v := obj["identifier"].(type) {
	case []any:
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				add(m)
			}
		}
	case map[string]any:
		add(v)
	}
	if len(tokens) == 0 {
		return nil, nil
	}
	return map[string]any{identifierField: tokens}, nil
}

// Match returns the resources matching params; parameters other than _id and identifier are refused.
func (s *Identifiers) Match(ctx context.Context, typ string, params url.Values) ([]fhir.Resource, error) {
	q, err := s.query(typ, params)
	if err != nil {
		return nil, err
	}
	page, err := s.store.Find(ctx, typ, q)
	if err != nil {
		return nil, err
	}
	return page.Resources, nil
}

func (s *Identifiers) query(typ string, params url.Values) (store.Query, error) {
	var q store.Query
	for name, values := range params {
		for _, v := range values {
			alts := strings.Split(v, ",")
			switch name {
			case "_id":
				q.Conds = append(q.Conds, store.Cond{Field: "_id", Op: store.OpEq, Values: toAny(alts)})
			case "identifier":
				q.Conds = append(q.Conds, store.Cond{Field: identifierField, Op: store.OpEq, Values: toAny(alts)})
			default:
				return q, fhir.Errorf(fhir.IssueNotSupported, "", "search parameter %q is not supported in conditional requests yet", name)
			}
		}
	}
	if len(q.Conds) == 0 {
		return q, fhir.Errorf(fhir.IssueInvalid, "", "conditional criteria for %s are empty", typ)
	}
	return q, nil
}

// ClaimKey is the canonical form of params (sorted names and values) under typ, or "" for criteria it cannot
// check.
func (s *Identifiers) ClaimKey(typ string, params url.Values) string {
	if _, err := s.query(typ, params); err != nil {
		return ""
	}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(typ)
	for i, n := range names {
		vals := slices.Clone(params[n])
		slices.Sort(vals)
		for _, v := range vals {
			if i > 0 || b.Len() > len(typ) {
				b.WriteByte('&')
			} else {
				b.WriteByte('?')
			}
			fmt.Fprintf(&b, "%s=%s", url.QueryEscape(n), url.QueryEscape(v))
		}
	}
	return b.String()
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// maxCount is the largest page a search returns.
const maxCount = 1000

// Search runs a search on _id and identifier, with _count and offset paging; other parameters are refused.
func (s *Identifiers) Search(ctx context.Context, typ string, params url.Values) (rest.SearchPage, error) {
	criteria := url.Values{}
	count, offset := 20, 0
	for name, vals := range params {
		switch name {
		case "_count", "_offset":
			n, err := strconv.Atoi(vals[0])
			if err != nil || n < 0 {
				return rest.SearchPage{}, fhir.Errorf(fhir.IssueInvalid, name, "%s must be a whole number of 0 or more", name)
			}
			if name == "_count" {
				count = min(n, maxCount)
			} else {
				offset = n
			}
		case "_format", "_pretty":
		default:
			criteria[name] = vals
		}
	}
	q := store.Query{Count: count + 1, Offset: offset, CountTotal: true}
	if len(criteria) > 0 {
		var err error
		if q, err = s.query(typ, criteria); err != nil {
			return rest.SearchPage{}, err
		}
		q.Count, q.Offset, q.CountTotal = count+1, offset, true
	}
	found, err := s.store.Find(ctx, typ, q)
	if err != nil {
		return rest.SearchPage{}, err
	}
	page := rest.SearchPage{Matches: found.Resources, Total: found.Total, Self: pageParams(criteria, count, offset)}
	if len(page.Matches) > count {
		page.Matches = page.Matches[:count]
		page.Next = pageParams(criteria, count, offset+count)
	}
	if offset > 0 {
		page.Prev = pageParams(criteria, count, max(0, offset-count))
	}
	return page, nil
}

func pageParams(criteria url.Values, count, offset int) url.Values {
	v := url.Values{}
	for k, vals := range criteria {
		v[k] = vals
	}
	v.Set("_count", strconv.Itoa(count))
	if offset > 0 {
		v.Set("_offset", strconv.Itoa(offset))
	}
	return v
}

// Params lists _id and identifier.
func (s *Identifiers) Params(typ string) []rest.SearchParam {
	return []rest.SearchParam{
		{Name: "_id", Type: "token", Definition: "http://hl7.org/fhir/SearchParameter/Resource-id"},
		{Name: "identifier", Type: "token", Documentation: "identifier system|value, value, or |value"},
	}
}
