package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/store"
)

// history serves the history of the system (typ ""), a type (id "") or an instance.
func (a *API) history(q *request, typ, id string) (*response, error) {
	hq, err := rest.ParseHistory(typ, id, q.c.Request.URL.Query())
	if err != nil {
		return nil, err
	}
	page, err := a.svc.History(q.ctx, hq)
	if err != nil {
		return nil, err
	}
	return bundleResponse(historyBundle(q.base, hq, page))
}

// historyBundle renders a page of history as a history Bundle, with self and next links.
func historyBundle(base string, hq store.HistoryQuery, page store.HistoryPage) map[string]any {
	self := strings.TrimSuffix(base+"/"+strings.Trim(strings.Join([]string{hq.Type, hq.ID}, "/"), "/"), "/") + "/_history"
	b := map[string]any{"resourceType": "Bundle", "type": "history"}
	if page.Total >= 0 {
		b["total"] = page.Total
	}
	params := url.Values{"_count": {strconv.Itoa(hq.Count)}}
	if !hq.Since.IsZero() {
		params.Set("_since", hq.Since.Format(time.RFC3339Nano))
	}
	links := []any{link("self", self, params, hq.Cursor)}
	if page.Next != "" {
		links = append(links, link("next", self, params, page.Next))
	}
	b["link"] = links
	if len(page.Entries) > 0 { // R4 JSON has no empty arrays
		entries := make([]any, 0, len(page.Entries))
		for _, e := range page.Entries {
			entries = append(entries, historyEntry(base, e))
		}
		b["entry"] = entries
	}
	return b
}

func link(rel, base string, params url.Values, cursor string) map[string]any {
	p := url.Values{}
	for k, v := range params {
		p[k] = v
	}
	if cursor != "" {
		p.Set("_cursor", cursor)
	}
	u := base
	if len(p) > 0 {
		u += "?" + p.Encode()
	}
	return map[string]any{"relation": rel, "url": u}
}

func historyEntry(base string, e store.Entry) map[string]any {
	entry := map[string]any{"fullUrl": base + "/" + e.Type + "/" + e.ID}
	req := map[string]any{"method": e.Method, "url": e.Type + "/" + e.ID}
	status := "200 OK"
	switch {
	case e.Method == "POST":
		req["url"] = e.Type
		status = "201 Created"
	case e.Deleted:
		req["method"] = "DELETE"
		status = "204 No Content"
	case e.Created:
		status = "201 Created"
	}
	entry["request"] = req
	entry["response"] = map[string]any{"status": status, "etag": etag(e.VersionID), "lastModified": e.LastUpdated.UTC().Format(fhir.InstantFormat)}
	if !e.Deleted {
		entry["resource"] = rawJSON(e.JSON)
	}
	return entry
}

func parseInstant(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Parse(time.RFC3339, v)
}

func bundleResponse(b map[string]any) (*response, error) {
	if entries, ok := b["entry"].([]any); ok && len(entries) == 0 {
		delete(b, "entry") // R4 JSON has no empty arrays
	}
	body, err := fhir.Marshal(b)
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusOK, body: body}, nil
}

// bundle processes a batch or transaction and renders its response Bundle.
func (a *API) bundle(q *request) (*response, error) {
	body, err := q.body(a.opts.MaxBody, resourceContent...)
	if err != nil {
		return nil, err
	}
	res, err := a.svc.Bundle(rest.WithBaseURL(q.ctx, q.base), body)
	if err != nil {
		return nil, err
	}
	entries := make([]any, len(res.Entries))
	for i, e := range res.Entries {
		entries[i] = a.responseEntry(q, e)
	}
	return bundleResponse(map[string]any{"resourceType": "Bundle", "type": res.Type + "-response", "entry": entries})
}

func (a *API) responseEntry(q *request, e rest.EntryResult) map[string]any {
	if e.Err != nil {
		status, issues := errorResponse(e.Err, a.opts.Logger)
		return map[string]any{"response": map[string]any{"status": statusLine(status), "outcome": fhir.OperationOutcome(issues)}}
	}
	ok := map[string]any{"status": statusLine(http.StatusOK)}
	switch {
	case e.Search != nil:
		return map[string]any{"resource": searchBundle(q.base, q.base+"/"+e.SearchType, *e.Search), "response": ok}
	case e.History != nil:
		return map[string]any{"resource": historyBundle(q.base, e.HistoryQuery, *e.History), "response": ok}
	case e.Capabilities:
		return map[string]any{"resource": rawJSON(a.cap), "response": ok}
	}
	if e.Resource != nil {
		r := *e.Resource
		return map[string]any{"fullUrl": q.base + "/" + r.Type + "/" + r.ID, "resource": rawJSON(r.JSON), "response": map[string]any{
			"status": statusLine(http.StatusOK), "etag": etag(r.VersionID), "lastModified": r.LastUpdated.UTC().Format(fhir.InstantFormat)}}
	}
	out := e.Outcome
	if out.Noop {
		return map[string]any{"response": map[string]any{"status": statusLine(http.StatusNoContent)}}
	}
	r := out.Resource
	status := http.StatusOK
	if out.Created {
		status = http.StatusCreated
	}
	if e.Method == "DELETE" {
		status = http.StatusNoContent
	}
	resp := map[string]any{"status": statusLine(status), "etag": etag(r.VersionID), "lastModified": r.LastUpdated.UTC().Format(fhir.InstantFormat)}
	entry := map[string]any{"response": resp}
	if e.Method != "DELETE" {
		resp["location"] = r.Type + "/" + r.ID + "/_history/" + r.VersionID
		entry["fullUrl"] = q.base + "/" + r.Type + "/" + r.ID
		switch q.prefer() {
		case "minimal":
		case "OperationOutcome":
			resp["outcome"] = fhir.OperationOutcome(out.Issues)
		default:
			entry["resource"] = rawJSON(r.JSON)
		}
	}
	if len(out.Issues) > 0 && q.prefer() != "OperationOutcome" {
		resp["outcome"] = fhir.OperationOutcome(out.Issues)
	}
	return entry
}

func statusLine(status int) string { return strconv.Itoa(status) + " " + http.StatusText(status) }

func (a *API) instanceHistory(q *request) (*response, error) {
	return a.history(q, q.c.Param("type"), q.c.Param("id"))
}
