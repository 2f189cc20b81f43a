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
		if in, err = validateParameters(obj, "create", true); err != nil {
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
	return validateResult(issues)
}

// validateInstance serves $validate at the instance level, POST /Type/id/$validate: the body (or its "resource"
// parameter) is checked as an update of Type/id unless the mode says otherwise; its id, when it has one, must be
// id. With mode delete, the resource must exist for the caller (404 otherwise).
func (a *API) validateInstance(q *request, typ, id string) (*response, error) {
	if !fhir.IsResourceType(typ) || !fhir.ValidID(id) {
		return nil, notFound("no such resource: " + truncate(typ+"/"+id, 80))
	}
	body, err := q.body(a.opts.MaxBody, resourceContent...)
	if err != nil {
		return nil, err
	}
	in := validateInput{mode: "update"}
	if len(body) > 0 {
		obj, err := fhir.DecodeObject(body, fhir.MaxDepth)
		if err != nil {
			return nil, err
		}
		in.resource = obj
		if fhir.ResourceType(obj) == "Parameters" && typ != "Parameters" {
			if in, err = validateParameters(obj, "update", false); err != nil {
				return nil, err
			}
		}
	}
	if in.mode == "delete" {
		if _, err := a.svc.Read(q.ctx, typ, id); err != nil {
			return nil, err
		}
		return validateResult(validateDelete())
	}
	switch {
	case in.resource == nil:
		return nil, fhir.Errorf(fhir.IssueRequired, "", "$validate of %s/%s needs the resource to validate", typ, truncate(id, 64))
	case fhir.ResourceType(in.resource) != typ:
		return nil, fhir.Errorf(fhir.IssueInvalid, "resourceType", "the resource is not a %s", typ)
	}
	switch bodyID, _ := in.resource["id"].(string); {
	case bodyID == "":
		in.resource["id"] = id
	case bodyID != id:
		return nil, fhir.Errorf(fhir.IssueInvalid, typ+".id", "the resource id %q is not the id in the URL (%s)", truncate(bodyID, 64), truncate(id, 64))
	}
	issues, err := a.validateMode(q, in)
	if err != nil {
		return nil, err
	}
	return validateResult(issues)
}

// validateResult is the answer of $validate: 200 with the issues as an OperationOutcome.
func validateResult(issues []fhir.Issue) (*response, error) {
	out, err := fhir.Marshal(fhir.OperationOutcome(issues))
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusOK, body: out}, nil
}

// validateDelete is the outcome of validating a deletion: no Accord rule refuses one.
func validateDelete() []fhir.Issue {
	return []fhir.Issue{{Severity: fhir.SeverityInformation, Code: fhir.IssueInformational,
		Details: "No Accord rule refuses the deletion of a resource"}}
}

// validateMode validates in as its mode asks: a create ignores the id, an update needs one, a delete has no
// rule that could refuse it.
func (a *API) validateMode(q *request, in validateInput) ([]fhir.Issue, error) {
	id, _ := in.resource["id"].(string)
	switch in.mode {
	case "delete":
		return validateDelete(), nil
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

// validateParameters reads the parameters of $validate: "resource" (required unless needResource is false, as for
// the deletion of an instance), "mode" (mode when absent) and "profile".
func validateParameters(params fhir.Object, mode string, needResource bool) (validateInput, error) {
	in := validateInput{mode: mode}
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
	if in.resource == nil && (needResource || in.mode != "delete") {
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
