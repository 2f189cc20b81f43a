package api

import (
	"net/http"

	"github.com/accord-fhir/accord/fhir"
)

// validate serves $validate at the system (typ "") or type level: the body is the resource, or Parameters with
// a "resource" parameter (and optional "mode" and "profile"). It answers 200 with every issue; nothing is stored.
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
	if fhir.ResourceType(obj) == "Parameters" && typ != "Parameters" {
		if obj, err = validateParameter(obj); err != nil {
			return nil, err
		}
	}
	if typ != "" && fhir.ResourceType(obj) != typ {
		return nil, fhir.Errorf(fhir.IssueInvalid, "resourceType", "the resource is not a %s", typ)
	}
	id, _ := obj["id"].(string)
	issues, err := a.svc.ValidateObject(q.ctx, "", id, obj)
	if err != nil {
		return nil, err
	}
	out, err := fhir.Marshal(fhir.OperationOutcome(issues))
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusOK, body: out}, nil
}

// validateParameter returns the "resource" parameter of a $validate Parameters body.
func validateParameter(params fhir.Object) (fhir.Object, error) {
	list, _ := params["parameter"].([]any)
	for _, p := range list {
		m, _ := p.(map[string]any)
		if m["name"] != "resource" {
			continue
		}
		if r, ok := m["resource"].(map[string]any); ok {
			return r, nil
		}
	}
	return nil, fhir.Errorf(fhir.IssueRequired, "Parameters.parameter", "the Parameters have no parameter named resource holding the resource to validate")
}
