package search

import (
	"slices"
	"sync"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
	"github.com/accord-fhir/accord/profiles"
)

var loaded = sync.OnceValues(func() (*Registry, error) { return Load(profiles.FS, fhirpath.NewEngine()) })

func testRegistry(t testing.TB) *Registry {
	t.Helper()
	r, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLoad_EveryTypeHasTheCommonParameters(t *testing.T) {
	r := testRegistry(t)
	for _, typ := range fhir.ResourceTypes() {
		for _, code := range []string{"_id", "_lastUpdated", "_tag", "_profile", "_security", "_source"} {
			if _, ok := r.Param(typ, code); !ok {
				t.Errorf("%s has no %s", typ, code)
			}
		}
		for _, code := range []string{"_text", "_content", "_query", "near"} {
			if _, ok := r.Param(typ, code); ok {
				t.Errorf("%s lists the unsupported %s", typ, code)
			}
		}
	}
}

func TestLoad_Parameters(t *testing.T) {
	r := testRegistry(t)
	for _, tc := range []struct {
		typ, code  string
		kind       Type
		expression string
		targets    []string
	}{
		{"Task", "owner", TypeReference, "Task.owner", []string{"Practitioner", "Organization", "CareTeam", "Device", "Patient", "HealthcareService", "PractitionerRole", "RelatedPerson"}},
		{"Task", "status", TypeToken, "Task.status", nil},
		{"Task", "authored-on", TypeDate, "Task.authoredOn", nil},
		{"Observation", "patient", TypeReference, "Observation.subject.where(resolve() is Patient)", []string{"Patient", "Group"}},
		{"Observation", "value-quantity", TypeQuantity, "(Observation.value as Quantity) | (Observation.value as SampledData)", nil},
		{"RiskAssessment", "date", TypeDate, "(RiskAssessment.occurrence as dateTime)", nil},
		{"Patient", "name", TypeString, "Patient.name", nil},
		{"Patient", "_id", TypeToken, "Resource.id", nil},
	} {
		p, ok := r.Param(tc.typ, tc.code)
		if !ok {
			t.Errorf("%s has no %s", tc.typ, tc.code)
			continue
		}
		if p.Type != tc.kind || p.Expression != tc.expression {
			t.Errorf("%s.%s = %s %q, want %s %q", tc.typ, tc.code, p.Type, p.Expression, tc.kind, tc.expression)
		}
		if tc.targets != nil && !sameSet(p.Targets, tc.targets) {
			t.Errorf("%s.%s targets %v, want %v", tc.typ, tc.code, p.Targets, tc.targets)
		}
	}
	cvq, _ := r.Param("Observation", "code-value-quantity")
	if len(cvq.Components) != 2 || cvq.Components[0].Param.Type != TypeToken || cvq.Components[1].Param.Type != TypeQuantity {
		t.Errorf("Observation code-value-quantity components = %+v", cvq.Components)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestForType(t *testing.T) {
	for _, tc := range []struct{ expr, typ, want string }{
		{"Account.subject.where(resolve() is Patient) | Task.for.where(resolve() is Patient)", "Task", "Task.for.where(resolve() is Patient)"},
		{"(RiskAssessment.occurrence as dateTime) | Procedure.performed", "RiskAssessment", "(RiskAssessment.occurrence as dateTime)"},
		{"Resource.meta.tag", "Patient", "Resource.meta.tag"},
		{"Patient.name.where(use = 'a|b')", "Patient", "Patient.name.where(use = 'a|b')"},
		{"Observation | Observation.component", "Observation", "Observation | Observation.component"},
		{"Account.subject", "Patient", ""},
	} {
		if got := ForType(tc.expr, tc.typ); got != tc.want {
			t.Errorf("ForType(%q, %s) = %q, want %q", tc.expr, tc.typ, got, tc.want)
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Évelyne":          "evelyne",
		"  Zoë   O'Brien ": "zoe o'brien",
		"STRAßE":           "strasse",
		"Øster\tGade":      "oster gade",
		"":                 "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}
