package validate

import (
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
)

// TestGuard_AgreesWithFHIRPath checks each recognised form against the FHIRPath engine on resources that have,
// lack, or half-have what the form tests.
func TestGuard_AgreesWithFHIRPath(t *testing.T) {
	cat := "https://accord-fhir.github.io/ig/CodeSystem/event-category"
	exprs := []string{
		"code.coding.where(system = '" + cat + "' and code = 'test').exists()",
		"code.coding.where(system = '" + cat + "' and (code = 'test' or code = 'recall')).exists()",
		"category.coding.where(system = 'http://snomed.info/sct' and code = '373942005').exists() or code.coding.where(system = '" + cat + "' and code = 'recall').exists()",
		"status = 'noshow'",
		"(status = 'accepted' or status = 'in-progress')",
	}
	coding := func(system, code string) map[string]any { return map[string]any{"system": system, "code": code} }
	nodes := []fhir.Object{
		{"resourceType": "Task"},
		{"resourceType": "Task", "status": "accepted", "code": map[string]any{"coding": []any{coding(cat, "test")}}},
		{"resourceType": "Task", "status": "noshow", "code": map[string]any{"coding": []any{coding("urn:other", "test"), coding(cat, "recall")}}},
		{"resourceType": "Task", "status": "in-progress", "code": map[string]any{"text": "no coding"}},
		{"resourceType": "Task", "code": map[string]any{"coding": []any{map[string]any{"code": "test"}}}},
		{"resourceType": "Communication", "category": []any{map[string]any{"coding": []any{coding("http://snomed.info/sct", "1")}},
			map[string]any{"coding": []any{coding("http://snomed.info/sct", "373942005")}}}},
	}
	engine := fhirpath.NewEngine()
	for _, src := range exprs {
		g := parseGuard(src)
		if g == nil {
			t.Errorf("%s: not recognised", src)
			continue
		}
		x, err := engine.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		for i, node := range nodes {
			out, err := x.Evaluate(node)
			if err != nil {
				t.Fatal(err)
			}
			got, known := g.test(node)
			switch {
			case len(out) == 0 && known:
				t.Errorf("%s on node %d: FHIRPath is empty, the guard decided %v", src, i, got)
			case len(out) == 1:
				want, _ := out[0].AsBool()
				if !known || got != want {
					t.Errorf("%s on node %d: guard %v (known %v), FHIRPath %v", src, i, got, known, want)
				}
			}
		}
	}
}

func TestGuard_UnrecognisedForms(t *testing.T) {
	for _, src := range []string{
		"code.coding.where(code = 'test').exists()",
		"code.coding.where(system = 'a' and code = 'b').exists() and status = 'x'",
		"code.coding.where(system = 'a' and code = 'b').exists() or ",
		"status = 'a' or intent = 'b'",
		"(status = 'a'",
		"status != 'a'",
		"true",
	} {
		if g := parseGuard(src); g != nil {
			t.Errorf("%q recognised as %#v", src, g)
		}
	}
	if impliesGuard("status = 'noshow' implies extension.exists()") == nil {
		t.Error("the left side of an implies is not recognised")
	}
	if impliesGuard("status = 'noshow' and extension.exists()") != nil {
		t.Error("a guard for an expression that is not an implies")
	}
}
