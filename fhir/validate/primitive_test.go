package validate_test

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
	"github.com/accord-fhir/accord/fhir/validate"
)

// fhirpathValidator is the validator of the R4 base definitions with the FHIRPath evaluator of production and
// without best-practice warnings, built once per test binary.
var fhirpathValidator = sync.OnceValues(func() (*validate.Validator, error) {
	opts := validate.DefaultOptions()
	opts.Invariants = validate.NewFHIRPath(fhirpath.NewEngine())
	opts.BestPractice = false
	return validate.New(os.DirFS(profilesDir), opts)
})

func newFHIRPathCore(t testing.TB) *validate.Validator {
	t.Helper()
	v, err := fhirpathValidator()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// TestValidate_PrimitiveWithoutValue checks ele-1 on primitives given only as "_name" (a primitive must have a
// value or extensions, its id does not count) and that a required primitive counts as present only so.
func TestValidate_PrimitiveWithoutValue(t *testing.T) {
	v := newFHIRPathCore(t)
	ext := map[string]any{"extension": []any{map[string]any{"url": "http://example.org/x", "valueString": "y"}}}
	for _, tc := range []struct {
		name string
		file string // in testdata/validate/examples
		edit func(t *testing.T, o fhir.Object)
		want []string
	}{{
		name: "required primitive with extensions only",
		file: "MedicationRequest-medrx0302.json",
		edit: func(t *testing.T, o fhir.Object) { delete(o, "status"); o["_status"] = ext },
		want: []string{},
	}, {
		name: "required primitive with an id only",
		file: "MedicationRequest-medrx0302.json",
		edit: func(t *testing.T, o fhir.Object) { delete(o, "status"); o["_status"] = map[string]any{"id": "a"} },
		want: []string{"invariant MedicationRequest.status", "required MedicationRequest.status"},
	}, {
		name: "value with an id only",
		file: "MedicationRequest-medrx0302.json",
		edit: func(t *testing.T, o fhir.Object) { o["_status"] = map[string]any{"id": "a"} },
		want: []string{},
	}, {
		name: "optional primitive with an id only",
		file: "Patient-example.json",
		edit: func(t *testing.T, o fhir.Object) { delete(o, "birthDate"); o["_birthDate"] = map[string]any{"id": "b"} },
		want: []string{"invariant Patient.birthDate"},
	}, {
		name: "repeating primitive: null value with extensions",
		file: "Patient-example.json",
		edit: func(t *testing.T, o fhir.Object) {
			at(t, o, "name", 0)["given"] = []any{"Ann", nil}
			at(t, o, "name", 0)["_given"] = []any{nil, ext}
		},
		want: []string{},
	}, {
		name: "repeating primitive: null value with an id only",
		file: "Patient-example.json",
		edit: func(t *testing.T, o fhir.Object) {
			at(t, o, "name", 0)["given"] = []any{"Ann", nil}
			at(t, o, "name", 0)["_given"] = []any{nil, map[string]any{"id": "g"}}
		},
		want: []string{"invariant Patient.name[0].given[1]"},
	}, {
		name: "repeating primitive: extensions only, one item with an id only",
		file: "Patient-example.json",
		edit: func(t *testing.T, o fhir.Object) {
			delete(at(t, o, "name", 1), "given")
			at(t, o, "name", 1)["_given"] = []any{ext, map[string]any{"id": "g"}}
		},
		want: []string{"invariant Patient.name[1].given[1]"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readObject(t, testdataDir+"/examples/"+tc.file)
			tc.edit(t, obj)
			issues := v.Validate(obj)
			checkIssues(t, issues, tc.want)
			for _, is := range issues {
				if is.Code == fhir.IssueInvariant && !strings.HasPrefix(is.Details, "Constraint ele-1 failed") {
					t.Errorf("invariant issue %q, want ele-1", is.Details)
				}
			}
		})
	}
}

// threeCapitals is a TypeCheck of the kind internal/validation defines: the value of an Identifier of one system
// must be three upper-case letters.
func threeCapitals(item fhir.Object) []validate.TypeIssue {
	if item["system"] != "https://example.org/three-letters" {
		return nil
	}
	if v, _ := item["value"].(string); len(v) == 3 && strings.ToUpper(v) == v {
		return nil
	}
	return []validate.TypeIssue{{Child: "value", Code: fhir.IssueValue, Details: "not three capitals", Diagnostics: "seen"}}
}

func TestValidate_TypeChecks(t *testing.T) {
	opts := validate.DefaultOptions()
	opts.TypeChecks = map[string]validate.TypeCheck{"Identifier": threeCapitals}
	v, err := validate.New(os.DirFS(profilesDir), opts)
	if err != nil {
		t.Fatal(err)
	}
	id := func(value string) map[string]any {
		return map[string]any{"system": "https://example.org/three-letters", "value": value}
	}
	for _, tc := range []struct {
		name string
		file string
		edit func(t *testing.T, o fhir.Object)
		want []string
	}{{
		name: "valid identifier",
		file: "Patient-example.json",
		edit: func(t *testing.T, o fhir.Object) { o["identifier"] = []any{id("ABC")} },
		want: []string{},
	}, {
		name: "resource identifier",
		file: "Patient-example.json",
		edit: func(t *testing.T, o fhir.Object) { o["identifier"] = []any{id("ABC"), id("abcd")} },
		want: []string{"value Patient.identifier[1].value"},
	}, {
		name: "identifier of a reference",
		file: "Patient-example.json",
		edit: func(t *testing.T, o fhir.Object) { at(t, o, "managingOrganization")["identifier"] = id("x") },
		want: []string{"value Patient.managingOrganization.identifier.value"},
	}, {
		name: "identifier as an extension value",
		file: "Patient-example.json",
		edit: func(t *testing.T, o fhir.Object) {
			o["extension"] = []any{map[string]any{"url": "http://example.org/e", "valueIdentifier": id("x")}}
		},
		want: []string{"value Patient.extension[0].value.ofType(Identifier).value"},
	}, {
		name: "identifier in a Bundle entry",
		file: "Bundle-bundle-transaction.json",
		edit: func(t *testing.T, o fhir.Object) { at(t, o, "entry", 0, "resource")["identifier"] = []any{id("x")} },
		want: []string{"value Bundle.entry[0].resource.identifier[0].value"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readObject(t, testdataDir+"/examples/"+tc.file)
			tc.edit(t, obj)
			issues := v.Validate(obj)
			checkIssues(t, issues, tc.want)
			for _, is := range issues {
				if want := is.Expression[0] + ": not three capitals"; is.Details != want || is.Diagnostics != "seen" ||
					is.Severity != fhir.SeverityError || is.Clause != "" {
					t.Errorf("issue %+v, want details %q, diagnostics, severity error, no clause", is, want)
				}
			}
		})
	}
}

// TestValidateProfile_ConstraintLocation checks that a failed constraint names the element its location
// extension gives, relative to the constraint's element, and its element when it has none.
func TestValidateProfile_ConstraintLocation(t *testing.T) {
	fsys, opts := withTestFiles(t, validate.NewFHIRPath(fhirpath.NewEngine()), "located")
	v, err := validate.New(fsys, opts)
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://accord-fhir.github.io/ig/test/StructureDefinition/located-task"
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, o fhir.Object)
		want []string
	}{{
		name: "every constraint holds",
		edit: func(t *testing.T, o fhir.Object) {},
		want: []string{},
	}, {
		name: "element the constraint is about is absent",
		edit: func(t *testing.T, o fhir.Object) { delete(at(t, o, "restriction", "period"), "end") },
		want: []string{"invariant Task.restriction.period.end"},
	}, {
		name: "extension the constraint is about is absent",
		edit: func(t *testing.T, o fhir.Object) { o["extension"] = []any{at(t, o, "extension", 0)} },
		want: []string{"invariant Task.extension('https://accord-fhir.github.io/ig/StructureDefinition/local-variation')"},
	}, {
		name: "constraint without location",
		edit: func(t *testing.T, o fhir.Object) { delete(o, "description") },
		want: []string{"invariant Task"},
	}, {
		name: "constraint below the root",
		edit: func(t *testing.T, o fhir.Object) {
			at(t, o, "owner", "identifier")["system"] = "https://example.org/org"
		},
		want: []string{"invariant Task.owner.identifier.system"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readObject(t, taskFile)
			tc.edit(t, obj)
			issues, err := v.ValidateProfile(obj, url)
			if err != nil {
				t.Fatal(err)
			}
			checkIssues(t, issues, tc.want)
		})
	}
}

func TestNew_BadConstraintLocation_Error(t *testing.T) {
	fsys, opts := withTestFiles(t, nil, "bad-location")
	_, err := validate.New(fsys, opts)
	want := `element Task constraint bad-1: location "restrictions.period.end" does not start with an element of Task`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("New: err = %v, want one containing %q", err, want)
	}
}
