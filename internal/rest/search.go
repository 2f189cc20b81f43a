package rest

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/store"
)

// SystemSearcher is a Searcher that also searches several types at once, in one order with one paging.
type SystemSearcher interface {
	// SearchTypes runs a search on every type in types; restrict holds each type's added conditions (as for
	// Searcher.Search).
	SearchTypes(ctx context.Context, types []string, params url.Values, restrict map[string][]store.Cond) (SearchPage, error)
}

// SearchSystem runs a search across the types named by the _type parameter (GET [base]?_type=Patient,Task&…), for
// the caller: each type needs its search scope, and the caller's organisation scoping applies to each.
// It returns an *fhir.Error of code invalid (400) without _type or with an unknown type in it.
// See https://hl7.org/fhir/R4/http.html#search.
func (s *Service) SearchSystem(ctx context.Context, params url.Values) (SearchPage, error) {
	var types []string
	for _, v := range params["_type"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" && !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	if len(types) == 0 {
		return SearchPage{}, fhir.Errorf(fhir.IssueInvalid, "_type", "a search of the whole system needs _type, the resource types to search")
	}
	for _, t := range types {
		if !fhir.IsResourceType(t) {
			return SearchPage{}, fhir.Errorf(fhir.IssueInvalid, "_type", "%s is not an R4 resource type", truncate(t, 40))
		}
	}
	ss, ok := s.search.(SystemSearcher)
	if !ok {
		return SearchPage{}, fhir.Errorf(fhir.IssueNotSupported, "_type", "searching several types at once is not supported")
	}
	var p auth.Principal
	var vis *auth.Visibility
	for _, t := range types {
		var err error
		if p, err = s.authorize(ctx, t, auth.InteractionSearch); err != nil {
			return SearchPage{}, err
		}
		if vis == nil {
			if vis, err = s.scoping.Visibility(ctx, p); err != nil {
				return SearchPage{}, err
			}
		}
	}
	page, err := ss.SearchTypes(store.WithRestriction(ctx, vis.Conds), types, params, nil)
	if err != nil {
		return page, err
	}
	if page.Included, err = s.visibleIncluded(ctx, p, vis, page.Included); err != nil {
		return SearchPage{}, err
	}
	for _, list := range [][]fhir.Resource{page.Matches, page.Included} {
		for _, r := range list {
			audit.Touch(ctx, r.Type+"/"+r.ID+"/_history/"+r.VersionID)
		}
	}
	return page, nil
}
