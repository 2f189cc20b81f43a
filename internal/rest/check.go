package rest

import (
	"net/url"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

func unknownType(typ string) error {
	return fhir.Errorf(fhir.IssueNotFound, "", "%q is not a FHIR R4 resource type", typ)
}

func badID(id string) error {
	return fhir.Errorf(fhir.IssueInvalid, "", "%q is not a valid id: 1 to 64 letters, digits, '-' or '.'", truncate(id, 80))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func checkTypeID(typ, id string) error {
	if !fhir.IsResourceType(typ) {
		return unknownType(typ)
	}
	if !fhir.ValidID(id) {
		return badID(id)
	}
	return nil
}

// checkIdentity checks resourceType against the URL's type and, when wantID, the body's id against the URL's.
func checkIdentity(typ, id string, obj fhir.Object, wantID bool) error {
	rt, present := obj["resourceType"]
	name, isString := rt.(string)
	switch {
	case !present:
		return fhir.Errorf(fhir.IssueRequired, "resourceType", "the resource has no resourceType")
	case !isString:
		return fhir.Errorf(fhir.IssueStructure, "resourceType", "resourceType must be a string")
	case typ != "" && name != typ:
		return fhir.Errorf(fhir.IssueInvalid, "resourceType", "the resourceType %q does not match the type %q in the URL", truncate(name, 64), typ)
	case !fhir.IsResourceType(name):
		return fhir.Errorf(fhir.IssueInvalid, "resourceType", "%q is not a FHIR R4 resource type", truncate(name, 64))
	}
	if !wantID {
		return nil
	}
	bodyID, present := obj["id"]
	s, _ := bodyID.(string)
	switch {
	case !present:
		return fhir.Errorf(fhir.IssueRequired, name+".id", "an update must carry the resource id in the body")
	case s != id:
		return fhir.Errorf(fhir.IssueInvalid, name+".id", "the id in the body does not match the id %q in the URL", id)
	}
	return nil
}

func parseQuery(q, what string) (url.Values, error) {
	q = strings.TrimPrefix(q, "?")
	if i := strings.IndexByte(q, '?'); i >= 0 { // "Patient?identifier=…" form
		q = q[i+1:]
	}
	v, err := url.ParseQuery(q)
	if err != nil || len(v) == 0 {
		return nil, fhir.Errorf(fhir.IssueInvalid, "", "%s is not a search query string", what)
	}
	return v, nil
}

func cutRef(ref string) (typ, id string, ok bool) {
	return strings.Cut(ref, "/")
}

// withID returns the body with the resource id set to id.
func withID(body []byte, obj fhir.Object, id string) []byte {
	if s, _ := obj["id"].(string); s == id {
		return body
	}
	obj["id"] = id
	b, err := fhir.Marshal(obj)
	if err != nil {
		return body
	}
	return b
}
