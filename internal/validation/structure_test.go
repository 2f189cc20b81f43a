package validation_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

// TestPipeline_PrimitiveValues checks, through the whole pipeline, the checks of primitive values that the R4
// JSON schema's patterns miss and the JSON representation of primitives: each wrong value is one error at its
// element, and the valid forms pass.
func TestPipeline_PrimitiveValues(t *testing.T) {
	p := newPipeline(t)
	ext := map[string]any{"extension": []any{map[string]any{"url": "http://example.org/x", "valueString": "y"}}}
	patient := func(props ...any) func(*testing.T) fhir.Object {
		return func(*testing.T) fhir.Object {
			o := fhir.Object{"resourceType": "Patient"}
			for i := 0; i < len(props); i += 2 {
				o[props[i].(string)] = props[i+1]
			}
			return o
		}
	}
	example := func(name string, edit func(fhir.Object)) func(*testing.T) fhir.Object {
		return func(t *testing.T) fhir.Object {
			o := readExample(t, name)
			edit(o)
			return o
		}
	}
	for _, tc := range []struct {
		name string
		obj  func(t *testing.T) fhir.Object
		want []string // errors, "code expression"
	}{
		{"integer", patient("multipleBirthInteger", json.Number("2")), []string{}},
		{"integer with a fraction", patient("multipleBirthInteger", json.Number("1.5")),
			[]string{"value Patient.multipleBirthInteger"}},
		{"integer with an exponent", patient("multipleBirthInteger", json.Number("1e2")),
			[]string{"value Patient.multipleBirthInteger"}},
		{"integer out of range", patient("multipleBirthInteger", json.Number("2147483648")),
			[]string{"value Patient.multipleBirthInteger"}},
		{"leap day", patient("birthDate", "2024-02-29"), []string{}},
		{"29 February in a common year", patient("birthDate", "2025-02-29"), []string{"value Patient.birthDate"}},
		{"31 April", patient("deceasedDateTime", "2025-04-31T10:00:00Z"), []string{"value Patient.deceasedDateTime"}},
		{"null value with extensions", patient("name", []any{map[string]any{
			"given": []any{"Ann", nil}, "_given": []any{nil, ext}}}), []string{}},
		{"null value without extensions", patient("name", []any{map[string]any{
			"given": []any{"Ann", nil}}}), []string{"structure Patient.name[0].given[1]"}},
		{"an item with extensions only", patient("name", []any{map[string]any{
			"given": []any{nil}, "_given": []any{ext}}}), []string{}},
		{"null in a complex array", patient("identifier", []any{nil}), []string{"structure Patient.identifier[0]"}},
		{"null in both arrays", patient("name", []any{map[string]any{
			"given": []any{"Ann", nil}, "_given": []any{ext, nil}}}), []string{"structure Patient.name[0].given[1]"}},
		{"extensions array longer", patient("name", []any{map[string]any{
			"given": []any{"Ann"}, "_given": []any{nil, ext}}}), []string{"structure Patient.name[0].given"}},
		{"blank reference", example("Communication-discharge-summary-example.json", func(o fhir.Object) {
			o["encounter"].(map[string]any)["reference"] = "  "
		}), []string{"value Communication.encounter.reference"}},
		{"blank string", example("Communication-discharge-summary-example.json", func(o fhir.Object) {
			o["encounter"].(map[string]any)["display"] = "  "
		}), []string{}},
		{"required primitive with extensions only", example("MedicationRequest-discharge-medicine-example.json", func(o fhir.Object) {
			delete(o, "status")
			o["_status"] = ext
		}), []string{}},
		{"required primitive with an id only", example("MedicationRequest-discharge-medicine-example.json", func(o fhir.Object) {
			delete(o, "status")
			o["_status"] = map[string]any{"id": "a"}
		}), []string{"invariant MedicationRequest.status", "required MedicationRequest.status"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issues := p.Validate(context.Background(), tc.obj(t))
			if got := errorsOf(issues); !slices.Equal(got, tc.want) {
				t.Errorf("errors %q, want %q\n%s", got, tc.want, describe(issues))
			}
		})
	}
}
