package validation_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

// nhs and ods return an Identifier of the NHS number or ODS code system.
func nhs(value string) map[string]any {
	return map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": value}
}

func ods(value string) map[string]any {
	return map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": value}
}

// patientWith returns a minimal Patient with the identifiers ids.
func patientWith(ids ...any) fhir.Object {
	return fhir.Object{"resourceType": "Patient", "identifier": ids}
}

// errorsOf renders the errors among issues as "code expression".
func errorsOf(issues []fhir.Issue) []string {
	out := []string{}
	for _, is := range issues {
		if is.Severity == fhir.SeverityError {
			out = append(out, fmt.Sprintf("%s %s", is.Code, strings.Join(is.Expression, ",")))
		}
	}
	return out
}

// TestPipeline_NHSIdentifiers checks the NHS number (10 digits, Modulus 11 check digit) and ODS code
// (3 to 6 upper-case letters or digits) of every Identifier of their systems, wherever it stands.
func TestPipeline_NHSIdentifiers(t *testing.T) {
	p := newPipeline(t)
	for _, tc := range []struct {
		name string
		obj  func(t *testing.T) fhir.Object
		want []string // errors, "code expression"
	}{
		// NHS numbers
		{"NHS test number", func(*testing.T) fhir.Object { return patientWith(nhs("9000000009")) }, []string{}},
		{"valid NHS number", func(*testing.T) fhir.Object { return patientWith(nhs("9434765919")) }, []string{}},
		{"check digit 0 from 11", func(*testing.T) fhir.Object { return patientWith(nhs("9449304130")) }, []string{}},
		{"repeated digits pass Modulus 11", func(*testing.T) fhir.Object {
			return patientWith(nhs("1111111111"), nhs("0000000000"))
		}, []string{}},
		{"wrong check digit", func(*testing.T) fhir.Object { return patientWith(nhs("9434765920")) },
			[]string{"value Patient.identifier[0].value"}},
		{"nine digits whose check digit would be 10", func(*testing.T) fhir.Object { return patientWith(nhs("1234567890")) },
			[]string{"value Patient.identifier[0].value"}},
		{"nine digits", func(*testing.T) fhir.Object { return patientWith(ods("RJ1"), nhs("900000000")) },
			[]string{"value Patient.identifier[1].value"}},
		{"spaced", func(*testing.T) fhir.Object { return patientWith(nhs("900 000 0009")) },
			[]string{"value Patient.identifier[0].value"}},
		{"letter", func(*testing.T) fhir.Object { return patientWith(nhs("900000000A")) },
			[]string{"value Patient.identifier[0].value"}},
		{"no value", func(*testing.T) fhir.Object {
			return patientWith(map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number"})
		}, []string{"required Patient.identifier[0].value"}},
		{"no value, with a data-absent-reason", func(*testing.T) fhir.Object {
			return patientWith(map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "_value": map[string]any{
				"extension": []any{map[string]any{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}}}})
		}, []string{}},
		{"another system, not an NHS number", func(*testing.T) fhir.Object {
			return patientWith(map[string]any{"system": "urn:oid:2.16.528.1.1007.3.1", "value": "1234567890"})
		}, []string{}},
		{"subject of a Communication", func(t *testing.T) fhir.Object {
			c := readExample(t, "Communication-discharge-summary-example.json")
			c["subject"].(map[string]any)["identifier"] = nhs("9434765920")
			return c
		}, []string{"value Communication.subject.identifier.value"}},
		{"contained resource", func(*testing.T) fhir.Object {
			p := patientWith(nhs("9434765920"))
			p["id"] = "p"
			return fhir.Object{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "x"},
				"subject": map[string]any{"reference": "#p"}, "contained": []any{p}}
		}, []string{"value Observation.contained[0].identifier[0].value"}},
		{"Bundle entry", func(*testing.T) fhir.Object {
			return fhir.Object{"resourceType": "Bundle", "type": "collection", "entry": []any{
				map[string]any{"fullUrl": "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", "resource": patientWith(nhs("9434765920"))}}}
		}, []string{"value Bundle.entry[0].resource.identifier[0].value"}},

		// ODS codes
		{"ODS codes", func(*testing.T) fhir.Object {
			return patientWith(ods("RJ1"), ods("R9Z"), ods("G85001"), ods("RJ122"), ods("XDEV01"), ods("Y00001"))
		}, []string{}},
		{"lower case", func(*testing.T) fhir.Object { return patientWith(ods("RJ1"), ods("rj1")) },
			[]string{"value Patient.identifier[1].value"}},
		{"two characters", func(*testing.T) fhir.Object { return patientWith(ods("RJ")) },
			[]string{"value Patient.identifier[0].value"}},
		{"seven characters", func(*testing.T) fhir.Object { return patientWith(ods("RJ12345")) },
			[]string{"value Patient.identifier[0].value"}},
		{"punctuation", func(*testing.T) fhir.Object { return patientWith(ods("RJ-1")) },
			[]string{"value Patient.identifier[0].value"}},
		{"recipient of a Communication", func(t *testing.T) fhir.Object {
			c := readExample(t, "Communication-discharge-summary-example.json")
			c["recipient"].([]any)[0].(map[string]any)["identifier"] = ods("y90001")
			return c
		}, []string{"value Communication.recipient[0].identifier.value"}},
		{"ODS site code system is not checked", func(*testing.T) fhir.Object {
			return patientWith(map[string]any{"system": "https://fhir.nhs.uk/Id/ods-site-code", "value": "rj1-x"})
		}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issues := p.Validate(context.Background(), tc.obj(t))
			if got := errorsOf(issues); !slices.Equal(got, tc.want) {
				t.Errorf("errors %q, want %q\n%s", got, tc.want, describe(issues))
			}
			for _, is := range issues {
				if is.Clause != "" && slices.Contains(tc.want, fmt.Sprintf("%s %s", is.Code, is.Expression[0])) {
					t.Errorf("identifier issue with clause %s: it must hold whatever the rule levels", is.Clause)
				}
			}
		})
	}
}

func TestPipeline_NHSIdentifiers_Wording(t *testing.T) {
	p := newPipeline(t)
	for _, tc := range []struct {
		name string
		obj  fhir.Object
		want fhir.Issue
	}{{
		name: "NHS number",
		obj:  patientWith(nhs("9434765920")),
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue, Expression: []string{"Patient.identifier[0].value"},
			Details:     "Patient.identifier[0].value: an NHS number is 10 digits, the last being the Modulus 11 check digit of the first nine",
			Diagnostics: `value "9434765920" has the check digit 0, but its first nine digits give 7`},
	}, {
		name: "ODS code",
		obj:  patientWith(ods("rj1")),
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue, Expression: []string{"Patient.identifier[0].value"},
			Details:     "Patient.identifier[0].value: an ODS code is 3 to 6 upper-case letters or digits",
			Diagnostics: `value "rj1" is not 3 to 6 upper-case letters or digits`},
	}, {
		name: "missing value",
		obj:  patientWith(map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code"}),
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueRequired, Expression: []string{"Patient.identifier[0].value"},
			Details: "Patient.identifier[0].value: an identifier of the system https://fhir.nhs.uk/Id/ods-organization-code must have a value"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			issues := p.Validate(context.Background(), tc.obj)
			if len(issues) != 1 || !equalIssue(issues[0], tc.want) {
				t.Errorf("issues %+v\nwant %+v", issues, tc.want)
			}
		})
	}
}

func equalIssue(a, b fhir.Issue) bool {
	return a.Severity == b.Severity && a.Code == b.Code && slices.Equal(a.Expression, b.Expression) &&
		a.Details == b.Details && a.Diagnostics == b.Diagnostics && a.Clause == b.Clause
}
