package auth

import (
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// elements returns the values at a dotted path of obj; every element on the way may be a list.
func elements(obj fhir.Object, path string) []any {
	nodes := []any{map[string]any(obj)}
	for _, name := range strings.Split(path, ".") {
		var next []any
		for _, n := range nodes {
			m, ok := n.(map[string]any)
			if !ok {
				continue
			}
			switch v := m[name].(type) {
			case []any:
				next = append(next, v...)
			case nil:
			default:
				next = append(next, v)
			}
		}
		nodes = next
	}
	return nodes
}

// orgTokens returns the organisations named by the References at path: the ODS code of a logical reference
// (Reference.identifier of system ODSSystem), and "Organization/<id>" for a relative literal reference (a version
// suffix dropped). References to anything else are ignored.
func orgTokens(obj fhir.Object, path string) []string {
	var out []string
	for _, v := range elements(obj, path) {
		ref, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if id, ok := ref["identifier"].(map[string]any); ok {
			if code := odsCode(id); code != "" {
				out = append(out, code)
			}
		}
		if s, _ := ref["reference"].(string); s != "" {
			if id, ok := relativeID(s, "Organization"); ok {
				out = append(out, "Organization/"+id)
			}
		}
	}
	return out
}

// patientIDs returns the ids of the Patients referenced (relatively) at path.
func patientIDs(obj fhir.Object, path string) []string {
	var out []string
	for _, v := range elements(obj, path) {
		if ref, ok := v.(map[string]any); ok {
			if s, _ := ref["reference"].(string); s != "" {
				if id, ok := relativeID(s, "Patient"); ok {
					out = append(out, id)
				}
			}
		}
	}
	return out
}

// targetRefs returns the relative literal references at path to a resource of a type among types, each once and in
// order, as "Type/id" (a version suffix dropped).
func targetRefs(obj fhir.Object, path string, types map[string][]string) []string {
	var out []string
	for _, v := range elements(obj, path) {
		ref, ok := v.(map[string]any)
		if !ok {
			continue
		}
		s, _ := ref["reference"].(string)
		typ, _, found := strings.Cut(s, "/")
		if !found {
			continue
		}
		if _, wanted := types[typ]; !wanted {
			continue
		}
		if id, ok := relativeID(s, typ); ok && !slices.Contains(out, typ+"/"+id) {
			out = append(out, typ+"/"+id)
		}
	}
	return out
}

// relativeID returns the id of a relative reference "typ/id" or "typ/id/_history/vid".
func relativeID(ref, typ string) (string, bool) {
	rest, ok := strings.CutPrefix(ref, typ+"/")
	if !ok {
		return "", false
	}
	id, _, _ := strings.Cut(rest, "/")
	return id, fhir.ValidID(id)
}

// selfCodes returns the ODS codes among an Organization's identifiers.
func selfCodes(obj fhir.Object) []string {
	var out []string
	for _, v := range elements(obj, "identifier") {
		if id, ok := v.(map[string]any); ok {
			if code := odsCode(id); code != "" {
				out = append(out, code)
			}
		}
	}
	return out
}

// odsCode returns the value of an Identifier of system ODSSystem that is an ODS code, or "".
func odsCode(id map[string]any) string {
	sys, _ := id["system"].(string)
	val, _ := id["value"].(string)
	if sys != ODSSystem || !odsPattern.MatchString(val) {
		return ""
	}
	return val
}

// orgRef is what one Reference says of the organisation it names: an Identifier of system ODSSystem (hasCode;
// code is its value when that is an ODS code, else empty) and a relative literal reference "Organization/<id>".
type orgRef struct {
	hasCode bool
	code    string
	ref     string
}

// orgRefs returns, for each Reference at path that names an organisation by ODS identifier or by Organization
// reference, what it says; References to anything else are left out.
func orgRefs(obj fhir.Object, path string) []orgRef {
	var out []orgRef
	for _, v := range elements(obj, path) {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		var r orgRef
		if id, ok := m["identifier"].(map[string]any); ok {
			if sys, _ := id["system"].(string); sys == ODSSystem {
				r.hasCode, r.code = true, odsCode(id)
			}
		}
		if s, _ := m["reference"].(string); s != "" {
			if id, ok := relativeID(s, "Organization"); ok {
				r.ref = "Organization/" + id
			}
		}
		if r.hasCode || r.ref != "" {
			out = append(out, r)
		}
	}
	return out
}
