package api

import (
	"net/http"
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
	r, err := a.svc.Read(q.ctx, typ, id)
	if err != nil {
		return nil, err
	}
	return a.readResponse(q, r), nil
}

func (a *API) vread(q *request) (*response, error) {
	r, err := a.svc.VRead(q.ctx, q.c.Param("type"), q.c.Param("id"), q.c.Param("vid"))
	if err != nil {
		return nil, err
	}
	return a.readResponse(q, r), nil
}

func (a *API) instancePost(q *request) (*response, error) {
	typ, id := q.c.Param("type"), q.c.Param("id")
	switch id {
	case "_search":
		body, err := q.body(a.opts.MaxBody, "application/x-www-form-urlencoded")
		if err != nil {
			return nil, err
		}
		params, err := formParams(q, body)
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
