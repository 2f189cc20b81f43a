package conformance

import (
	"os"
	"slices"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/validate"
)

// terminologyFiles are the value sets and code systems the validator loads: R4's and the guide's.
var terminologyFiles = []string{"r4/terminology.json.gz", "ig/ValueSet-*.json", "ig/CodeSystem-*.json"}

func testTerminology(t *testing.T) *Terminology {
	t.Helper()
	v, err := validate.New(os.DirFS("../../profiles"), validate.Options{Files: terminologyFiles})
	if err != nil {
		t.Fatalf("validate.New: %v", err)
	}
	return NewTerminology(guide(t), v.Terminology())
}

func TestTerminology_ValueSetCodes(t *testing.T) {
	terms := testTerminology(t)
	const (
		clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
		events   = "https://accord-fhir.github.io/ig/CodeSystem/event-category"
	)
	followUp := []string{events + "|follow-up", events + "|recall", events + "|shared-care-monitoring", events + "|test"}
	for _, tc := range []struct {
		name, ref string
		want      []string // system|code
		wantErr   fhir.IssueType
	}{
		{name: "R4 value set by canonical", ref: "http://hl7.org/fhir/ValueSet/condition-clinical", want: []string{clinical + "|active",
			clinical + "|inactive", clinical + "|recurrence", clinical + "|relapse", clinical + "|remission", clinical + "|resolved"}},
		{name: "guide value set by id", ref: "ValueSet/follow-up-task-code", want: followUp},
		{name: "guide value set by versioned canonical", ref: "https://accord-fhir.github.io/ig/ValueSet/follow-up-task-code|0.1.0", want: followUp},
		{name: "listed codes of a system not loaded", ref: "https://accord-fhir.github.io/ig/ValueSet/formulary",
			want: []string{"http://snomed.info/sct|108761006", "http://snomed.info/sct|400621001"}},
		{name: "another version", ref: "http://hl7.org/fhir/ValueSet/condition-clinical|3.0.2", wantErr: fhir.IssueInvalid},
		{name: "unknown canonical", ref: "http://example.org/ValueSet/nope", wantErr: fhir.IssueInvalid},
		{name: "unknown id", ref: "ValueSet/nope", wantErr: fhir.IssueInvalid},
		{name: "an R4 value set is not served by id", ref: "ValueSet/condition-clinical", wantErr: fhir.IssueInvalid},
		{name: "SNOMED CT filter", ref: "http://hl7.org/fhir/ValueSet/condition-code", wantErr: fhir.IssueNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := terms.ValueSetCodes(tc.ref)
			if tc.wantErr != "" {
				if !isCode(err, tc.wantErr) {
					t.Errorf("ValueSetCodes(%q): err = %v, want %s", tc.ref, err, tc.wantErr)
				}
				return
			}
			var codes []string
			for _, c := range got {
				codes = append(codes, c.System+"|"+c.Code)
			}
			if err != nil || !slices.Equal(codes, tc.want) {
				t.Errorf("ValueSetCodes(%q) = %v, %v; want %v", tc.ref, codes, err, tc.want)
			}
		})
	}
}

func TestTerminology_BelowAndAbove(t *testing.T) {
	terms := testTerminology(t)
	const (
		clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
		intent   = "http://hl7.org/fhir/request-intent"
	)
	for _, tc := range []struct {
		name, system, code string
		above              bool
		want               []string
		wantErr            fhir.IssueType
	}{
		{name: "below", system: clinical, code: "active", want: []string{"active", "recurrence", "relapse"}},
		{name: "below, three levels", system: intent, code: "order", want: []string{"order", "original-order", "reflex-order", "filler-order", "instance-order"}},
		{name: "above", system: clinical, code: "relapse", above: true, want: []string{"active", "relapse"}},
		{name: "above, three levels", system: intent, code: "instance-order", above: true, want: []string{"order", "filler-order", "instance-order"}},
		{name: "SNOMED CT is not loaded", system: "http://snomed.info/sct", code: "404684003", wantErr: fhir.IssueNotSupported},
		{name: "above, SNOMED CT", system: "http://snomed.info/sct", code: "404684003", above: true, wantErr: fhir.IssueNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := terms.Below
			if tc.above {
				f = terms.Above
			}
			got, err := f(tc.system, tc.code)
			if tc.wantErr != "" {
				if !isCode(err, tc.wantErr) {
					t.Errorf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
