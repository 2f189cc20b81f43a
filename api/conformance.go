package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/conformance"
	"github.com/accord-fhir/accord/internal/rest"
)

// conformance serves the conformance resources of the implementation guide (StructureDefinition, ValueSet,
// CodeSystem, OperationDefinition, ImplementationGuide) from the catalog instead of the store: read, search, and
// ValueSet $expand.
// They are read-only: every other interaction on them is a 405, except $validate, which goes on to its handler.
func (a *API) conformance(c *gin.Context) {
	cat := a.opts.Conformance
	typ, id := c.Param("type"), c.Param("id")
	if cat == nil || !cat.Serves(typ) || (id == "$validate" && c.Request.Method == http.MethodPost) {
		c.Next()
		return
	}
	a.wrap(func(q *request) (*response, error) { return a.conformanceRequest(q, cat, typ, id, c.Param("op")) })(c)
	c.Abort()
}

func (a *API) conformanceRequest(q *request, cat *conformance.Catalog, typ, id, op string) (*response, error) {
	method := q.c.Request.Method
	expand := typ == "ValueSet" && ((id == "$expand" && op == "") || op == "$expand")
	history := strings.Contains(q.c.FullPath(), "_history") || id == "_history"
	switch {
	case expand && (method == http.MethodGet || method == http.MethodPost):
		return a.expand(q, cat, id)
	case method == http.MethodPost && id == "_search" && op == "":
		params, err := a.searchForm(q)
		if err != nil {
			return nil, err
		}
		return a.conformanceSearch(q, cat, typ, params)
	case method != http.MethodGet || history:
		return nil, &statusError{status: http.StatusMethodNotAllowed,
			msg: typ + " resources are the implementation guide's, served read-only: read, search and ValueSet $expand"}
	case id == "":
		return a.conformanceSearch(q, cat, typ, q.c.Request.URL.Query())
	case op != "" || id[0] == '$':
		return nil, notFound("no such operation on " + typ)
	}
	r, err := cat.Read(typ, id)
	if err != nil {
		return nil, err
	}
	return a.readResponse(q, r), nil
}

// conformanceSearch renders a page of a search of the catalog as a searchset Bundle, with the links and total
// of the store's searches (searchBundle).
func (a *API) conformanceSearch(q *request, cat *conformance.Catalog, typ string, params url.Values) (*response, error) {
	page, err := cat.Search(typ, params)
	if err != nil {
		return nil, err
	}
	return bundleResponse(searchBundle(q.base, q.base+"/"+typ, rest.SearchPage{Matches: page.Matches, Total: page.Total,
		Self: page.Self, Next: page.Next, Prev: page.Prev}))
}

// expand serves ValueSet/$expand and ValueSet/{id}/$expand, with url, filter, count and offset given in the
// query or, for POST, as Parameters.
// See https://hl7.org/fhir/R4/valueset-operation-expand.html.
func (a *API) expand(q *request, cat *conformance.Catalog, id string) (*response, error) {
	params := q.c.Request.URL.Query()
	if q.c.Request.Method == http.MethodPost {
		body, err := q.body(a.opts.MaxBody, resourceContent...)
		if err != nil {
			return nil, err
		}
		if params, err = parametersValues(body); err != nil {
			return nil, err
		}
	}
	req := conformance.ExpandRequest{URL: params.Get("url"), Filter: params.Get("filter"), Count: -1}
	if id != "$expand" {
		req.ID = id
	} else if req.URL == "" {
		return nil, badParam("url", "$expand on the ValueSet type needs the url of the value set")
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"count", &req.Count}, {"offset", &req.Offset}} {
		if v := params.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, badParam(p.name, p.name+" must be a non-negative integer")
			}
			*p.dst = n
		}
	}
	vs, err := cat.Expand(req)
	if err != nil {
		return nil, err
	}
	body, err := fhir.Marshal(vs)
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusOK, body: body}, nil
}

// parametersValues reads the primitive parameters of a Parameters body as url.Values.
func parametersValues(body []byte) (url.Values, error) {
	obj, err := fhir.DecodeObject(body, fhir.MaxDepth)
	if err != nil {
		return nil, err
	}
	if fhir.ResourceType(obj) != "Parameters" {
		return nil, fhir.Errorf(fhir.IssueInvalid, "resourceType", "the body must be Parameters")
	}
	out := url.Values{}
	list, _ := obj["parameter"].([]any)
	for _, p := range list {
		m, _ := p.(map[string]any)
		name, _ := m["name"].(string)
		for k, v := range m {
			if len(k) > 5 && k[:5] == "value" {
				switch x := v.(type) {
				case string:
					out.Add(name, x)
				case interface{ String() string }:
					out.Add(name, x.String())
				}
			}
		}
	}
	return out, nil
}

// operation answers an operation on an instance (/Type/id/$op) that no handler serves.
func (a *API) operation(q *request) (*response, error) {
	if q.c.Param("type") == "Organization" && q.c.Param("op") == "$pending-actions" && a.opts.Ledger != nil {
		return a.pendingActions(q)
	}
	if q.c.Param("op") == "$validate" {
		if q.c.Request.Method != http.MethodPost {
			return nil, &statusError{status: http.StatusMethodNotAllowed, msg: "$validate is invoked with POST"}
		}
		return a.validateInstance(q, q.c.Param("type"), q.c.Param("id"))
	}
	return nil, notFound("no such operation: " + truncate(q.c.Param("op"), 40))
}

// conformanceCapability is the CapabilityStatement entry of a type the catalog serves: read and search only, on
// the parameters the catalog implements (conformance.SearchParams).
func conformanceCapability(typ string) map[string]any {
	params := []any{}
	for _, d := range conformance.SearchParams(typ) {
		params = append(params, map[string]any{"name": d.Code, "type": string(d.Type), "definition": d.URL})
	}
	res := map[string]any{
		"type": typ,
		"documentation": "The conformance resources of Accord's implementation guide, read-only. Search takes the " +
			"parameters listed and _count (paged by _cursor; every match without it), _sort on them, _summary, " +
			"_elements and _total; any other parameter, modifier or _include is refused (400)",
		"interaction": []any{map[string]any{"code": "read"}, map[string]any{"code": "search-type"}},
		"versioning":  "no-version",
		"searchParam": params,
	}
	if typ == "ValueSet" {
		res["operation"] = []any{map[string]any{"name": "expand", "definition": "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"}}
	}
	return res
}

// withProfiles adds the guide's profiles of its type to a CapabilityStatement resource entry.
func withProfiles(res map[string]any, cat *conformance.Catalog) map[string]any {
	if cat == nil {
		return res
	}
	if ps := cat.Profiles(res["type"].(string)); len(ps) > 0 {
		list := make([]any, len(ps))
		for i, p := range ps {
			list[i] = p
		}
		res["supportedProfile"] = list
	}
	return res
}
