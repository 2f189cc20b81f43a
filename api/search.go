package api

import (
	"context"
	"net/url"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/search"
)

// search serves a search interaction on typ (GET [type]?…, POST [type]/_search) as a searchset Bundle.
// See https://hl7.org/fhir/R4/http.html#search.
func (a *API) search(q *request, typ string, params url.Values) (*response, error) {
	page, err := a.svc.Search(q.searchContext(), typ, params)
	if err != nil {
		return nil, err
	}
	return bundleResponse(searchBundle(q.base, q.base+"/"+typ, page))
}

// systemSearch serves a search across the types named by _type (GET [base]?_type=…).
func (a *API) systemSearch(q *request) (*response, error) {
	return a.systemSearchParams(q, q.c.Request.URL.Query())
}

// systemSearchParams runs a system search (GET [base]?… or POST [base]/_search) with params.
func (a *API) systemSearchParams(q *request, params url.Values) (*response, error) {
	page, err := a.svc.SearchSystem(q.searchContext(), params)
	if err != nil {
		return nil, err
	}
	return bundleResponse(searchBundle(q.base, q.base+"/", page))
}

// searchContext is the request's context with its Prefer: handling (strict or lenient, the default) and its base
// URL (references to the server's resources match whether written relative or absolute under it).
func (q *request) searchContext() context.Context {
	return rest.WithBaseURL(search.WithStrictHandling(q.ctx, q.handling() == "strict"), q.base)
}

// handling returns the Prefer: handling preference, "strict" or "lenient" ("" when not given).
// See https://hl7.org/fhir/R4/search.html#errors.
func (q *request) handling() string {
	for _, part := range strings.Split(q.c.GetHeader("Prefer"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "handling="); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// searchBundle renders a page as a searchset Bundle: matches, included resources and the warnings as an
// OperationOutcome entry, the total when known, and self, next and previous links to self.
func searchBundle(base, self string, page rest.SearchPage) map[string]any {
	b := map[string]any{"resourceType": "Bundle", "type": "searchset"}
	if page.Total >= 0 {
		b["total"] = page.Total
	}
	links := []any{link("self", self, page.Self, "")}
	if page.Next != nil {
		links = append(links, link("next", self, page.Next, ""))
	}
	if page.Prev != nil {
		links = append(links, link("previous", self, page.Prev, ""))
	}
	b["link"] = links
	entries := []any{}
	for _, r := range page.Matches {
		entries = append(entries, searchEntry(base, r, "match"))
	}
	for _, r := range page.Included {
		entries = append(entries, searchEntry(base, r, "include"))
	}
	if len(page.Issues) > 0 {
		entries = append(entries, map[string]any{"resource": fhir.OperationOutcome(page.Issues), "search": map[string]any{"mode": "outcome"}})
	}
	if len(entries) > 0 { // R4 JSON has no empty arrays
		b["entry"] = entries
	}
	return b
}

func searchEntry(base string, r fhir.Resource, mode string) map[string]any {
	return map[string]any{"fullUrl": base + "/" + r.Type + "/" + r.ID, "resource": rawJSON(r.JSON), "search": map[string]any{"mode": mode}}
}
