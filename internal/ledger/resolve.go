package ledger

import (
	"context"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/store"
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
// The organisation found is named both ways when the store knows it (canonicalOrganization), so that one
// organisation has one key in the ledger however its resources refer to it.
func (l *Ledger) organization(ctx context.Context, ref fhir.Object) fhir.Object {
	for hop := 0; hop < maxHops && ref != nil; hop++ {
		r := relative(str(ref["reference"]))
		typ, id, ok := strings.Cut(r, "/")
		field := accountableOf[typ]
		if !ok || typ == "Organization" || field == "" {
			return l.canonicalOrganization(ctx, ref)
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
	return l.canonicalOrganization(ctx, ref)
}

// canonicalOrganization returns ref naming its organisation both ways when the store knows it: an ODS identifier
// alone gains the reference to the one stored Organization that carries the code, and a reference to a stored
// Organization alone gains its ODS identifier. Anything else is ref as it is.
func (l *Ledger) canonicalOrganization(ctx context.Context, ref fhir.Object) fhir.Object {
	if ref == nil {
		return nil
	}
	id, _ := ref["identifier"].(map[string]any)
	r := relative(str(ref["reference"]))
	switch {
	case r == "" && id != nil && str(id["system"]) == auth.ODSSystem && str(id["value"]) != "":
		page, err := l.st.Find(ctx, "Organization", store.Query{
			Conds: []store.Cond{{Field: auth.FieldODS, Op: store.OpEq, Values: []any{str(id["value"])}}}, Count: 2})
		if err != nil || len(page.Resources) != 1 {
			return ref
		}
		return fhir.Object{"reference": "Organization/" + page.Resources[0].ID, "identifier": id}
	case strings.HasPrefix(r, "Organization/") && id == nil:
		res, err := l.st.Read(ctx, "Organization", strings.TrimPrefix(r, "Organization/"))
		if err != nil {
			return ref
		}
		obj, err := fhir.DecodeObject(res.JSON, fhir.MaxDepth)
		if err != nil {
			return ref
		}
		for _, v := range list(obj["identifier"]) {
			if m, _ := v.(map[string]any); str(m["system"]) == auth.ODSSystem && str(m["value"]) != "" {
				return fhir.Object{"reference": r, "identifier": map[string]any{"system": auth.ODSSystem, "value": str(m["value"])}}
			}
		}
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

// OrganizationKeys returns the keys under which the ledger may record the organisation key names ("Organization/x"
// or "system|value"): key itself, and the other way of naming it when the store knows the Organization (entries
// recorded before the organisation was stored name it only one way).
func (l *Ledger) OrganizationKeys(ctx context.Context, key string) []string {
	var ref fhir.Object
	if sys, code, ok := strings.Cut(key, "|"); ok {
		ref = fhir.Object{"identifier": map[string]any{"system": sys, "value": code}}
	} else {
		ref = fhir.Object{"reference": key}
	}
	keys := []string{key}
	c := l.canonicalOrganization(ctx, ref)
	if r := str(c["reference"]); r != "" && r != key {
		keys = append(keys, r)
	}
	if id, ok := c["identifier"].(map[string]any); ok {
		if k := str(id["system"]) + "|" + str(id["value"]); k != key && str(id["value"]) != "" {
			keys = append(keys, k)
		}
	}
	return keys
}
