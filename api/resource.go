package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/rest"
)

func (a *API) typeGet(q *request) (*response, error) {
	typ := q.c.Param("type")
	switch {
	case typ == "_history":
		return a.history(q, "", "")
	case strings.HasPrefix(typ, "$"):
		return nil, &statusError{status: http.StatusMethodNotAllowed, msg: "operation " + truncate(typ, 40) + " is not available with GET"}
	}
	return a.search(q, typ, q.c.Request.URL.Query())
}

func (a *API) typePost(q *request) (*response, error) {
	typ := q.c.Param("type")
	if typ == "$validate" {
		return a.validate(q, "")
	}
	if typ == "_search" { // POST [base]/_search: the system search, its parameters in the form body
		params, err := a.searchForm(q)
		if err != nil {
			return nil, err
		}
		return a.systemSearchParams(q, params)
	}
	if strings.HasPrefix(typ, "$") || typ == "_history" {
		return nil, notFound("no such operation: " + truncate(typ, 40))
	}
	body, err := q.body(a.opts.MaxBody, resourceContent...)
	if err != nil {
		return nil, err
	}
	out, err := a.svc.Create(q.ctx, typ, body, q.c.GetHeader("If-None-Exist"))
	if err != nil {
		return nil, err
	}
	status := http.StatusCreated
	if out.Existing {
		status = http.StatusOK
	}
	return a.resourceResponse(q, status, out.Resource, out.Issues), nil
}

func (a *API) instanceGet(q *request) (*response, error) {
	typ, id := q.c.Param("type"), q.c.Param("id")
	switch {
	case id == "_history":
		return a.history(q, typ, "")
	case strings.HasPrefix(id, "$"):
		return nil, &statusError{status: http.StatusMethodNotAllowed, msg: "operation " + truncate(id, 40) + " is not available with GET"}
	}
	summary, elements, err := readSubset(q)
	if err != nil {
		return nil, err
	}
	r, err := a.svc.Read(q.ctx, typ, id)
	if err != nil {
		return nil, err
	}
	return a.subsetResponse(q, r, summary, elements)
}

func (a *API) vread(q *request) (*response, error) {
	summary, elements, err := readSubset(q)
	if err != nil {
		return nil, err
	}
	r, err := a.svc.VRead(q.ctx, q.c.Param("type"), q.c.Param("id"), q.c.Param("vid"))
	if err != nil {
		return nil, err
	}
	return a.subsetResponse(q, r, summary, elements)
}

// readSubset reads the _summary and _elements of a read or vread (R4 search.html#summary: they apply to reads as
// to searches); _summary=count has no meaning for one resource.
func readSubset(q *request) (summary string, elements []string, err error) {
	query := q.c.Request.URL.Query()
	if vs := query["_summary"]; len(vs) > 0 {
		if summary = vs[0]; len(vs) > 1 || !slices.Contains([]string{"true", "text", "data", "false"}, summary) {
			return "", nil, badParam("_summary", "_summary on a read must be given once, as true, text, data or false")
		}
	}
	if vs := query["_elements"]; len(vs) > 0 {
		if len(vs) > 1 {
			return "", nil, badParam("_elements", "_elements must be given once, its elements separated by commas")
		}
		for _, e := range strings.Split(vs[0], ",") {
			if e = strings.TrimSpace(e); e == "" || strings.ContainsAny(e, ".:()") {
				return "", nil, badParam("_elements", "_elements lists top-level element names separated by commas")
			}
			elements = append(elements, e)
		}
	}
	return summary, elements, nil
}

// subsetResponse is the read response of r, cut as summary and elements ask (marked SUBSETTED) when they do.
func (a *API) subsetResponse(q *request, r fhir.Resource, summary string, elements []string) (*response, error) {
	resp := a.readResponse(q, r)
	if (summary == "" || summary == "false") && len(elements) == 0 {
		return resp, nil
	}
	obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
	if err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", r.Type, r.ID, err)
	}
	if resp.body, err = fhir.Marshal(a.summarizer.Summarize(obj, summary, elements)); err != nil {
		return nil, fmt.Errorf("encode %s/%s: %w", r.Type, r.ID, err)
	}
	return resp, nil
}

func (a *API) instancePost(q *request) (*response, error) {
	typ, id := q.c.Param("type"), q.c.Param("id")
	switch id {
	case "_search":
		params, err := a.searchForm(q)
		if err != nil {
			return nil, err
		}
		return a.search(q, typ, params)
	case "$validate":
		return a.validate(q, typ)
	}
	return nil, &statusError{status: http.StatusMethodNotAllowed, msg: "POST is not allowed on a resource instance; use PUT to update"}
}

func (a *API) update(q *request) (*response, error) {
	ifMatch, err := parseIfMatch(q)
	if err != nil {
		return nil, err
	}
	body, err := q.body(a.opts.MaxBody, resourceContent...)
	if err != nil {
		return nil, err
	}
	out, err := a.svc.Update(q.ctx, q.c.Param("type"), q.c.Param("id"), body, ifMatch)
	if err != nil {
		return nil, err
	}
	return a.writeResponse(q, out), nil
}

func (a *API) conditionalUpdate(q *request) (*response, error) {
	ifMatch, err := parseIfMatch(q)
	if err != nil {
		return nil, err
	}
	params := q.c.Request.URL.Query()
	if len(params) == 0 {
		return nil, &statusError{status: http.StatusMethodNotAllowed, msg: "PUT on a type needs search criteria (conditional update)"}
	}
	body, err := q.body(a.opts.MaxBody, resourceContent...)
	if err != nil {
		return nil, err
	}
	out, err := a.svc.ConditionalUpdate(q.ctx, q.c.Param("type"), params, body, ifMatch)
	if err != nil {
		return nil, err
	}
	return a.writeResponse(q, out), nil
}

func (a *API) patch(q *request) (*response, error) {
	ifMatch, err := parseIfMatch(q)
	if err != nil {
		return nil, err
	}
	body, err := q.body(a.opts.MaxBody, "application/json-patch+json")
	if err != nil {
		return nil, err
	}
	out, err := a.svc.Patch(q.ctx, q.c.Param("type"), q.c.Param("id"), body, ifMatch)
	if err != nil {
		return nil, err
	}
	return a.writeResponse(q, out), nil
}

func (a *API) delete(q *request) (*response, error) {
	ifMatch, err := parseIfMatch(q)
	if err != nil {
		return nil, err
	}
	out, err := a.svc.Delete(q.ctx, q.c.Param("type"), q.c.Param("id"), ifMatch)
	if err != nil {
		return nil, err
	}
	return deleteResponse(out), nil
}

func (a *API) conditionalDelete(q *request) (*response, error) {
	params := q.c.Request.URL.Query()
	if len(params) == 0 {
		return nil, &statusError{status: http.StatusMethodNotAllowed, msg: "DELETE on a type needs search criteria (conditional delete)"}
	}
	out, err := a.svc.ConditionalDelete(q.ctx, q.c.Param("type"), params)
	if err != nil {
		return nil, err
	}
	return deleteResponse(out), nil
}

func deleteResponse(out rest.Outcome) *response {
	h := http.Header{}
	if !out.Noop {
		h.Set("ETag", etag(out.Resource.VersionID))
	}
	return &response{status: http.StatusNoContent, header: h}
}

// parseIfMatch returns the version of an If-Match header (W/"3" or "3"), 400 when malformed.
func parseIfMatch(q *request) (string, error) {
	h := strings.TrimSpace(q.c.GetHeader("If-Match"))
	if h == "" {
		return "", nil
	}
	v := strings.TrimPrefix(h, "W/")
	if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' || !isDigits(v[1:len(v)-1]) {
		return "", badParam("If-Match", `If-Match must be a version ETag such as W/"3"`)
	}
	return v[1 : len(v)-1], nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func etag(vid string) string { return `W/"` + vid + `"` }

// resourceHeaders sets ETag and Last-Modified of r.
func resourceHeaders(r fhir.Resource) http.Header {
	h := http.Header{}
	h.Set("ETag", etag(r.VersionID))
	h.Set("Last-Modified", r.LastUpdated.UTC().Format(http.TimeFormat))
	return h
}

func (a *API) readResponse(q *request, r fhir.Resource) *response {
	return &response{status: http.StatusOK, header: resourceHeaders(r), body: r.JSON}
}

// writeResponse renders the outcome of an update or patch: 201 with Location when it created the resource.
func (a *API) writeResponse(q *request, out rest.Outcome) *response {
	status := http.StatusOK
	if out.Created {
		status = http.StatusCreated
	}
	return a.resourceResponse(q, status, out.Resource, out.Issues)
}

// resourceResponse renders a written resource as the Prefer header asks, with ETag, Last-Modified and Location.
func (a *API) resourceResponse(q *request, status int, r fhir.Resource, issues []fhir.Issue) *response {
	h := resourceHeaders(r)
	h.Set("Location", q.base+"/"+r.Type+"/"+r.ID+"/_history/"+r.VersionID)
	resp := &response{status: status, header: h}
	switch q.prefer() {
	case "minimal":
	case "OperationOutcome":
		resp.body, _ = fhir.Marshal(fhir.OperationOutcome(issues))
	default:
		resp.body = r.JSON
	}
	return resp
}
