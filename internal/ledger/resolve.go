package ledger

import (
	"context"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// accountableOf names, for each resource type, the element that gives the organisation accountable for it.
var accountableOf = map[string]string{
	"PractitionerRole":  "organization",
	"HealthcareService": "providedBy",
	"Encounter":         "serviceProvider",
	"ServiceRequest":    "requester",
	"MedicationRequest": "requester",
	"Patient":           "generalPractitioner",
	"Task":              "requester",
	"Communication":     "sender",
}

// maxHops bounds how many references organization follows.
const maxHops = 3

// organization follows ref to the accountable organisation: an Organization (or a reference with only an
// identifier) is itself; a PractitionerRole gives its organization, a HealthcareService its providedBy, an
// Encounter its serviceProvider, a ServiceRequest, MedicationRequest or Task its requester, a Communication its
// sender, a Patient the first of its general practitioners, up to three steps. Anything else, or what cannot be read, is kept as it is.
func (l *Ledger) organization(ctx context.Context, ref fhir.Object) fhir.Object {
	for hop := 0; hop < maxHops && ref != nil; hop++ {
		r := relative(str(ref["reference"]))
		typ, id, ok := strings.Cut(r, "/")
		field := accountableOf[typ]
		if !ok || typ == "Organization" || field == "" {
			return ref
		}
		res, err := l.st.Read(ctx, typ, id)
		if err != nil {
			return ref
		}
		obj, err := fhir.DecodeObject(res.JSON, fhir.MaxDepth)
		if err != nil {
			return ref
		}
		next := firstRef(obj[field])
		if next == nil {
			return ref
		}
		ref = next
	}
	return ref
}

// firstRef is v when it is a Reference, or the first Reference of a list.
func firstRef(v any) fhir.Object {
	switch t := v.(type) {
	case map[string]any:
		if RefKey(t) != "" {
			return t
		}
	case []any:
		for _, e := range t {
			if m, ok := e.(map[string]any); ok && RefKey(m) != "" {
				return m
			}
		}
	}
	return nil
}
