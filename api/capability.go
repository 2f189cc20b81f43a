package api

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/rest"
)

// capabilityStatement describes exactly what this API implements.
// See https://hl7.org/fhir/R4/capabilitystatement.html.
func capabilityStatement(opts Options, params func(typ string) []rest.SearchParam) []byte {
	interactions := []any{}
	for _, code := range []string{"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"} {
		interactions = append(interactions, map[string]any{"code": code})
	}
	resources := []any{}
	for _, typ := range fhir.ResourceTypes() {
		if typ == "AuditEvent" {
			resources = append(resources, auditEventCapability())
			continue
		}
		if opts.Conformance != nil && opts.Conformance.Serves(typ) {
			resources = append(resources, conformanceCapability(typ))
			continue
		}
		sp := []any{}
		for _, p := range params(typ) {
			e := map[string]any{"name": p.Name, "type": p.Type}
			if p.Definition != "" {
				e["definition"] = p.Definition
			}
			if p.Documentation != "" {
				e["documentation"] = p.Documentation
			}
			sp = append(sp, e)
		}
		res := map[string]any{
			"type":              typ,
			"interaction":       interactions,
			"versioning":        "versioned-update",
			"readHistory":       true,
			"updateCreate":      true,
			"conditionalCreate": true,
			"conditionalRead":   "not-supported",
			"conditionalUpdate": true,
			"conditionalDelete": "single",
			"referencePolicy":   []any{"literal", "local"},
			"searchParam":       sp,
		}
		if typ == "Organization" && opts.Ledger != nil {
			res["operation"] = []any{map[string]any{"name": "pending-actions", "definition": PendingActionsDefinition}}
		}
		resources = append(resources, withProfiles(withIncludes(res, typ, opts), opts.Conformance))
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         time.Now().UTC().Format("2006-01-02"),
		"kind":         "instance",
		"software":     map[string]any{"name": opts.Software, "version": opts.Version},
		"implementation": map[string]any{
			"description": "Accord: the South East London primary/secondary care interface Consensus, held to account over FHIR R4",
		},
		"fhirVersion": "4.0.1",
		"format":      []any{"application/fhir+json", "json"},
		"patchFormat": []any{"application/json-patch+json"},
		"rest": []any{map[string]any{
			"mode":     "server",
			"resource": resources,
			"interaction": []any{
				map[string]any{"code": "transaction"}, map[string]any{"code": "batch"}, map[string]any{"code": "history-system"},
				map[string]any{"code": "search-system", "documentation": "GET [base]?_type=… or POST [base]/_search: " +
					"_type names the types searched (required), and the parameters common to them apply"},
			},
			"operation": []any{map[string]any{"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}},
		}},
	}
	if opts.BaseURL != "" {
		cs["implementation"].(map[string]any)["url"] = opts.BaseURL
	}
	if sec := securityComponent(opts.Security); sec != nil {
		cs["rest"].([]any)[0].(map[string]any)["security"] = sec
	}
	b, err := fhir.Marshal(cs)
	if err != nil {
		panic("capability statement does not encode: " + err.Error()) // a bug in the literal above
	}
	return b
}

// PendingActionsDefinition is the canonical URL of the OperationDefinition of $pending-actions, served from the
// implementation guide.
const PendingActionsDefinition = fhir.CanonicalBase + "/OperationDefinition/pending-actions"

// withIncludes adds to the resource entry of typ the values its search accepts in _include, and in _revinclude
// but those of the types this API does not serve from the store (the audit trail, the guide's conformance
// resources), which no search can include.
func withIncludes(res map[string]any, typ string, opts Options) map[string]any {
	if opts.Includes == nil {
		return res
	}
	if inc := opts.Includes.Includes(typ); len(inc) > 0 {
		res["searchInclude"] = fhir.Strings(inc)
	}
	var rev []string
	for _, v := range opts.Includes.RevIncludes(typ) {
		other, _, _ := strings.Cut(v, ":")
		if other != "AuditEvent" && (opts.Conformance == nil || !opts.Conformance.Serves(other)) {
			rev = append(rev, v)
		}
	}
	if len(rev) > 0 {
		res["searchRevInclude"] = fhir.Strings(rev)
	}
	return res
}

func (a *API) metadata(q *request) (*response, error) {
	return &response{status: http.StatusOK, body: a.cap}, nil
}

// searchForm reads the parameters of a POST _search: its form body merged with the URL query.
func (a *API) searchForm(q *request) (url.Values, error) {
	body, err := q.body(a.opts.MaxBody, "application/x-www-form-urlencoded")
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badParam("", "the form body of _search is malformed")
	}
	for k, v := range q.c.Request.URL.Query() {
		form[k] = append(form[k], v...)
	}
	return form, nil
}
