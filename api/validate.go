package api

import (
	"net/http"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/validation"
)

// validate serves $validate at the system (typ "") or type level: the body is the resource, or Parameters with
// a "resource" parameter and optional "mode" (create, update or delete) and "profile" (a canonical URL the
// resource is also checked against). It answers 200 with every issue, each with its FHIRPath expression and,
// for a Consensus rule, its clause; nothing is stored. A body that is not a resource, or Parameters without a
// resource, is a 400.
// See https://hl7.org/fhir/R4/resource-operation-validate.html.
func (a *API) validate(q *request, typ string) (*response, error) {
	body, err := q.body(a.opts.MaxBody, resourceContent...)
	if err != nil {
		return nil, err
	}
	obj, err := fhir.DecodeObject(body, fhir.MaxDepth)
	if err != nil {
		return nil, err
	}
	in := validateInput{resource: obj, mode: "create"}
	if fhir.ResourceType(obj) == "Parameters" && typ != "Parameters" {
		if in, err = validateParameters(obj); err != nil {
			return nil, err
		}
	}
	if typ != "" && fhir.ResourceType(in.resource) != typ {
		return nil, fhir.Errorf(fhir.IssueInvalid, "resourceType", "the resource is not a %s", typ)
	}
	issues, err := a.validateMode(q, in)
	if err != nil {
		return nil, err
	}
	out, err := fhir.Marshal(fhir.OperationOutcome(issues))
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusOK, body: out}, nil
}

// validateMode validates in as its mode asks: a create ignores the id, an update needs one, a delete has no
// rule that could refuse it.
func (a *API) validateMode(q *request, in validateInput) ([]fhir.Issue, error) {
	id, _ := in.resource["id"].(string)
	switch in.mode {
	case "delete":
		return []fhir.Issue{{Severity: fhir.SeverityInformation, Code: fhir.IssueInformational,
			Details: "No Accord rule refuses the deletion of a resource"}}, nil
	case "update":
		if id == "" {
			return []fhir.Issue{{Severity: fhir.SeverityError, Code: fhir.IssueRequired,
				Details:    "an update must carry the resource id in the body",
				Expression: []string{fhir.ResourceType(in.resource) + ".id"}}}, nil
		}
	default:
		id = ""
	}
	ctx := q.ctx
	if len(in.profiles) > 0 {
		ctx = validation.WithRequested(ctx, in.profiles...)
	}
	return a.svc.ValidateObject(ctx, "", id, in.resource)
}

// validateInput is what a $validate request asks: the resource, the mode, and profiles to check it against.
type validateInput struct {
	resource fhir.Object
	mode     string
	profiles []string
}

// validateParameters reads the parameters of $validate: "resource" (required), "mode" and "profile".
func validateParameters(params fhir.Object) (validateInput, error) {
	in := validateInput{mode: "create"}
	list, _ := params["parameter"].([]any)
	for _, p := range list {
		m, _ := p.(map[string]any)
		switch m["name"] {
		case "resource":
			if r, ok := m["resource"].(map[string]any); ok {
				in.resource = r
			}
		case "mode":
			mode, _ := m["valueCode"].(string)
			switch mode {
			case "create", "update", "delete":
				in.mode = mode
			default:
				return in, fhir.Errorf(fhir.IssueInvalid, "Parameters.parameter", "the mode parameter must be a valueCode create, update or delete")
			}
		case "profile":
			url := stringValue(m, "valueUri", "valueCanonical", "valueUrl", "valueString")
			if url == "" {
				return in, fhir.Errorf(fhir.IssueInvalid, "Parameters.parameter", "the profile parameter must be a valueUri or valueCanonical")
			}
			in.profiles = append(in.profiles, url)
		}
	}
	if in.resource == nil {
		return in, fhir.Errorf(fhir.IssueRequired, "Parameters.parameter", "the Parameters have no parameter named resource holding the resource to validate")
	}
	return in, nil
}

// stringValue returns the first of the keys of m that holds a non-empty string.
func stringValue(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, _ := m[k].(string); s != "" {
			return s
		}
	}
	return ""
}
