package schema

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/google/go-cmp/cmp"
)

func TestValidate_BrokenCopies_Issues(t *testing.T) {
	v := newValidator(t)
	for _, tc := range []struct {
		name   string
		file   string // in testdata/r4examples, or testdata/ of this package when it starts with "./"
		secret string // the offending value: never in Details; in Diagnostics of value issues
		mutate func(tb testing.TB, obj fhir.Object)
		want   []issueKey
	}{{
		name: "boolean as string", file: "Patient-example.json", secret: "yes",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "yes", "active") },
		want:   []issueKey{{"Patient.active", "structure"}},
	}, {
		name: "string where an array is required", file: "Patient-example.json", secret: "Petra",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "Petra", "name", 0, "given") },
		want:   []issueKey{{"Patient.name[0].given", "structure"}},
	}, {
		name: "string where an object is required", file: "Patient-example.json", secret: "Peter",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "Peter", "name", 0) },
		want:   []issueKey{{"Patient.name[0]", "structure"}},
	}, {
		name: "null where an object is required", file: "Patient-example.json",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, nil, "managingOrganization") },
		want:   []issueKey{{"Patient.managingOrganization", "structure"}},
	}, {
		name: "number in an array of strings", file: "Patient-example.json",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, json.Number("42"), "name", 0, "given", 1) },
		want:   []issueKey{{"Patient.name[0].given[1]", "structure"}},
	}, {
		name: "decimal as string", file: "Observation-blood-pressure.json", secret: "6.50",
		mutate: func(tb testing.TB, o fhir.Object) {
			o["valueQuantity"] = map[string]any{"value": "6.50", "unit": "mmol/L"}
		},
		want: []issueKey{{"Observation.valueQuantity.value", "structure"}},
	}, {
		name: "primitive extension not an object", file: "Patient-example.json", secret: "x",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "x", "_birthDate") },
		want:   []issueKey{{"Patient._birthDate", "structure"}},
	}, {
		name: "unknown element at the root", file: "Patient-example.json",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "Pete", "nickname") },
		want:   []issueKey{{"Patient.nickname", "structure"}},
	}, {
		name: "unknown element in a datatype", file: "Patient-example.json",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "Pete", "name", 1, "nick") },
		want:   []issueKey{{"Patient.name[1].nick", "structure"}},
	}, {
		name: "bad code in a required binding", file: "Patient-example.json", secret: "mail",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "mail", "gender") },
		want:   []issueKey{{"Patient.gender", "value"}},
	}, {
		name: "code as number", file: "./task.json",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, json.Number("5"), "status") },
		want:   []issueKey{{"Task.status", "structure"}},
	}, {
		name: "bad date", file: "Patient-example.json", secret: "1974-12-32",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "1974-12-32", "birthDate") },
		want:   []issueKey{{"Patient.birthDate", "value"}},
	}, {
		name: "dateTime with time but no zone", file: "Observation-blood-pressure.json", secret: "2012-09-17T12:00:00",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "2012-09-17T12:00:00", "effectiveDateTime") },
		want:   []issueKey{{"Observation.effectiveDateTime", "value"}},
	}, {
		name: "instant without time", file: "./task.json", secret: "2024-03-14",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "2024-03-14", "meta", "lastUpdated") },
		want:   []issueKey{{"Task.meta.lastUpdated", "value"}},
	}, {
		name: "bad id", file: "Patient-example.json", secret: "pat_1",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "pat_1", "id") },
		want:   []issueKey{{"Patient.id", "value"}},
	}, {
		name: "missing required element", file: "Observation-blood-pressure.json",
		mutate: func(tb testing.TB, o fhir.Object) { delete(o, "code") },
		want:   []issueKey{{"Observation.code", "required"}},
	}, {
		name: "missing required element in a backbone element", file: "./task.json",
		mutate: func(tb testing.TB, o fhir.Object) { delete(get(tb, o, "input", 1).(map[string]any), "type") },
		want:   []issueKey{{"Task.input[1].type", "required"}},
	}, {
		name: "missing resourceType", file: "Patient-example.json",
		mutate: func(tb testing.TB, o fhir.Object) { delete(o, "resourceType") },
		want:   []issueKey{{"", "required"}},
	}, {
		name: "unknown resourceType", file: "Patient-example.json", secret: "Patients",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "Patients", "resourceType") },
		want:   []issueKey{{"", "value"}},
	}, {
		name: "datatype name as resourceType", file: "Patient-example.json", secret: "HumanName",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "HumanName", "resourceType") },
		want:   []issueKey{{"", "value"}},
	}, {
		name: "unknown element inside contained", file: "CareTeam-example.json",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "x", "contained", 0, "colour") },
		want:   []issueKey{{"CareTeam.contained[0].colour", "structure"}},
	}, {
		name: "bad value inside contained", file: "CareTeam-example.json", secret: "mail",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "mail", "contained", 0, "gender") },
		want:   []issueKey{{"CareTeam.contained[0].gender", "value"}},
	}, {
		name: "contained without resourceType", file: "CareTeam-example.json",
		mutate: func(tb testing.TB, o fhir.Object) {
			delete(get(tb, o, "contained", 0).(map[string]any), "resourceType")
		},
		want: []issueKey{{"CareTeam.contained[0]", "required"}},
	}, {
		name: "contained item not an object", file: "CareTeam-example.json",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "Practitioner/1", "contained", 0) },
		want:   []issueKey{{"CareTeam.contained[0]", "structure"}},
	}, {
		name: "bad value inside a Bundle entry resource", file: "Bundle-bundle-transaction.json", secret: "mail",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "mail", "entry", 2, "resource", "gender") },
		want:   []issueKey{{"Bundle.entry[2].resource.gender", "value"}},
	}, {
		name: "bad code in a Bundle entry request", file: "Bundle-bundle-transaction.json", secret: "FETCH",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "FETCH", "entry", 0, "request", "method") },
		want:   []issueKey{{"Bundle.entry[0].request.method", "value"}},
	}, {
		name: "bad code inside a Bundle entry outcome", file: "Bundle-bundle-response.json", secret: "grave",
		mutate: func(tb testing.TB, o fhir.Object) {
			set(tb, o, "grave", "entry", 0, "response", "outcome", "issue", 0, "severity")
		},
		want: []issueKey{{"Bundle.entry[0].response.outcome.issue[0].severity", "value"}},
	}, {
		name: "problems in a Bundle inside a Bundle", file: "Bundle-bundle-response.json",
		mutate: func(tb testing.TB, o fhir.Object) {
			inner := get(tb, o, "entry", 8, "resource").(map[string]any)
			inner["type"] = "pile"
			inner["entry"] = []any{map[string]any{"resource": map[string]any{"resourceType": "Patient", "active": "no"}}}
		},
		want: []issueKey{
			{"Bundle.entry[8].resource.entry[0].resource.active", "structure"},
			{"Bundle.entry[8].resource.type", "value"},
		},
	}, {
		name: "problems in Parameters resources", file: "Parameters-outputParameters1.json",
		mutate: func(tb testing.TB, o fhir.Object) {
			params := get(tb, o, "parameter").([]any)
			for len(params) < 11 {
				params = append(params, map[string]any{"name": "padding"})
			}
			o["parameter"] = params
			set(tb, o, map[string]any{"resourceType": "Patient", "gender": "mail"}, "parameter", 2, "resource")
			set(tb, o, []any{map[string]any{
				"name": "p", "resource": map[string]any{"resourceType": "Patient", "birthDate": "19740101"},
			}}, "parameter", 10, "part")
		},
		want: []issueKey{
			{"Parameters.parameter[2].resource.gender", "value"},
			{"Parameters.parameter[10].part[0].resource.birthDate", "value"},
		},
	}, {
		name: "every issue reported, in order", file: "Patient-example.json",
		mutate: func(tb testing.TB, o fhir.Object) {
			set(tb, o, "mail", "gender")
			set(tb, o, "yes", "active")
			set(tb, o, "Pete", "nickname")
			set(tb, o, json.Number("42"), "name", 0, "given", 1)
			delete(get(tb, o, "contact", 0, "relationship", 0).(map[string]any), "coding")
			set(tb, o, "x", "contact", 0, "relationship", 0, "codingg")
		},
		want: []issueKey{
			{"Patient.active", "structure"},
			{"Patient.contact[0].relationship[0].codingg", "structure"},
			{"Patient.gender", "value"},
			{"Patient.name[0].given[1]", "structure"},
			{"Patient.nickname", "structure"},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readExample(t, tc.file)
			tc.mutate(t, obj)
			got := v.Validate(obj)
			if diff := cmp.Diff(tc.want, keys(got)); diff != "" {
				t.Fatalf("Validate (-want +got):\n%s\nissues: %+v", diff, got)
			}
			for _, is := range got {
				if is.Severity != fhir.SeverityError || is.Details == "" {
					t.Errorf("issue %+v: want severity error and details", is)
				}
				if tc.secret == "" {
					continue
				}
				if strings.Contains(is.Details, tc.secret) {
					t.Errorf("Details %q quotes the offending value %q", is.Details, tc.secret)
				}
				if is.Code == fhir.IssueValue && !strings.Contains(is.Diagnostics, tc.secret) {
					t.Errorf("Diagnostics %q do not show the offending value %q", is.Diagnostics, tc.secret)
				}
			}
		})
	}
}

func TestValidate_ValidVariants_NoIssues(t *testing.T) {
	v := newValidator(t)
	ext := map[string]any{"extension": []any{map[string]any{"url": "http://example.org/x", "valueBoolean": true}}}
	for _, tc := range []struct {
		name   string
		file   string
		mutate func(tb testing.TB, o fhir.Object)
	}{
		{"unchanged", "Patient-example.json", func(testing.TB, fhir.Object) {}},
		{"null items in a primitive extension array", "Patient-example.json", func(tb testing.TB, o fhir.Object) {
			set(tb, o, []any{nil, ext}, "name", 0, "_given")
		}},
		{"primitive extension only, no value", "Patient-example.json", func(tb testing.TB, o fhir.Object) {
			delete(o, "birthDate")
			set(tb, o, ext, "_birthDate")
		}},
		{"decimals with trailing zeros and exponents", "Observation-blood-pressure.json", func(tb testing.TB, o fhir.Object) {
			o["valueQuantity"] = map[string]any{"value": json.Number("1.50")}
			set(tb, o, json.Number("0.0"), "component", 0, "valueQuantity", "value")
			set(tb, o, json.Number("1.0e2"), "component", 1, "valueQuantity", "value")
		}},
		{"date, dateTime and instant forms", "./task.json", func(tb testing.TB, o fhir.Object) {
			set(tb, o, "2024", "restriction", "period", "end")
			set(tb, o, "2024-03-14T09:20:11.123456+14:00", "authoredOn")
			set(tb, o, "2024-03-14T23:59:60-13:59", "meta", "lastUpdated")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readExample(t, tc.file)
			tc.mutate(t, obj)
			if got := v.Validate(obj); len(got) != 0 {
				t.Errorf("Validate = %+v; want no issues", got)
			}
		})
	}
}

func TestValidate_Wording(t *testing.T) {
	v := newValidator(t)
	for _, tc := range []struct {
		name   string
		mutate func(tb testing.TB, o fhir.Object)
		want   fhir.Issue
	}{{
		name:   "wrong JSON type",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "yes", "active") },
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueStructure, Expression: []string{"Patient.active"},
			Details: "Patient.active must be a boolean, not a string"},
	}, {
		name:   "unknown element",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "Pete", "nickname") },
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueStructure, Expression: []string{"Patient.nickname"},
			Details: "Patient.nickname is not an element defined by R4: unknown elements are not allowed"},
	}, {
		name:   "code outside its required value set",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "mail", "gender") },
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue, Expression: []string{"Patient.gender"},
			Details:     "Patient.gender must be one of the codes of its required value set",
			Diagnostics: `"mail" is not one of: male, female, other, unknown`},
	}, {
		name:   "bad date",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "1974-13", "birthDate") },
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue, Expression: []string{"Patient.birthDate"},
			Details:     "Patient.birthDate is not a valid date: it must be YYYY, YYYY-MM or YYYY-MM-DD with a valid month and day",
			Diagnostics: `value "1974-13" does not match the pattern ` + patDate},
	}, {
		name: "choice type datatype named from its element",
		mutate: func(tb testing.TB, o fhir.Object) {
			delete(o, "deceasedBoolean")
			set(tb, o, "2010-01-01 10:00", "deceasedDateTime")
		},
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue, Expression: []string{"Patient.deceasedDateTime"},
			Details:     "Patient.deceasedDateTime is not a valid dateTime: it must be YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.fff) with a time zone",
			Diagnostics: `value "2010-01-01 10:00" does not match the pattern ` + patDateTime},
	}, {
		name:   "string shares its pattern with markdown",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "", "name", 0, "family") },
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue, Expression: []string{"Patient.name[0].family"},
			Details:     "Patient.name[0].family is not a valid string: it must be non-empty text without form feeds",
			Diagnostics: `value "" does not match the pattern ` + patString},
	}, {
		name:   "missing resourceType",
		mutate: func(tb testing.TB, o fhir.Object) { delete(o, "resourceType") },
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueRequired,
			Details: "The resource has no resourceType"},
	}, {
		name:   "resourceType not a string",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, json.Number("1"), "resourceType") },
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueStructure,
			Details: "The resource has a resourceType that is not a JSON string"},
	}, {
		name:   "unknown resourceType",
		mutate: func(tb testing.TB, o fhir.Object) { set(tb, o, "Patients", "resourceType") },
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue,
			Details:     "The resource has a resourceType that is not an R4 resource type",
			Diagnostics: `resourceType "Patients" is not an R4 resource type`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readExample(t, "Patient-example.json")
			tc.mutate(t, obj)
			if diff := cmp.Diff([]fhir.Issue{tc.want}, v.Validate(obj)); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate_Concurrent_SameIssues(t *testing.T) {
	files := []string{"Patient-example.json", "Bundle-bundle-response.json", "CareTeam-example.json",
		"Observation-blood-pressure.json", "Parameters-outputParameters1.json", "./task.json"}
	sequential := newValidator(t)
	want := make([][]fhir.Issue, len(files))
	objs := make([]fhir.Object, len(files))
	for i, f := range files {
		objs[i] = readExample(t, f)
		set(t, objs[i], "x", "unknownElement") // so that every result has an issue to compare
		want[i] = sequential.Validate(objs[i])
	}
	concurrent := newValidator(t) // nothing compiled yet: goroutines race to compile the same types
	got := make([][][]fhir.Issue, 4)
	var wg sync.WaitGroup
	for g := range got {
		got[g] = make([][]fhir.Issue, len(files))
		for i := range files {
			wg.Go(func() { got[g][i] = concurrent.Validate(objs[i]) })
		}
	}
	wg.Wait()
	for g := range got {
		if diff := cmp.Diff(want, got[g]); diff != "" {
			t.Errorf("goroutine set %d (-sequential +concurrent):\n%s", g, diff)
		}
	}
}

func TestNew_BadDocument_Error(t *testing.T) {
	for _, tc := range []struct{ name, doc, wantErr string }{
		{"not JSON", `{"definitions":`, "parse R4 schema"},
		{"not an object", `[]`, "not a JSON object"},
		{"no definitions", `{}`, "no definitions object"},
		{"no ResourceList", `{"definitions":{"Patient":{}}}`, "no ResourceList definition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := New([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("New(%s) = %v, %v; want error containing %q", tc.doc, v, err, tc.wantErr)
			}
		})
	}
}

func TestValidate_UncompilableDefinition_Exception(t *testing.T) {
	doc := `{"$schema": "http://json-schema.org/draft-06/schema#", "definitions": {
		"ResourceList": {"oneOf": [{"$ref": "#/definitions/Patient"}]},
		"Patient": {"properties": {"resourceType": {"const": "Patient"}, "id": {"pattern": "(", "type": "string"}}}}}`
	v, err := New([]byte(doc))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	got := v.Validate(fhir.Object{"resourceType": "Patient"})
	if len(got) != 1 || got[0].Code != fhir.IssueException || !strings.Contains(got[0].Details, "Patient") {
		t.Errorf("Validate = %+v; want one exception issue naming Patient", got)
	}
}

func TestComparePaths(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int // sign
	}{
		{"Bundle.entry[2].resource", "Bundle.entry[10].resource", -1},
		{"Bundle.entry[10]", "Bundle.entry[9]", 1},
		{"Patient.name", "Patient.name[0].given", -1},
		{"Patient.active", "Patient.gender", -1},
		{"Patient.name[01]", "Patient.name[1]", 0},
		{"", "Patient", -1},
	} {
		if got := sign(comparePaths(tc.a, tc.b)); got != tc.want {
			t.Errorf("comparePaths(%q, %q) sign = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// keys returns the expression (first one, or "") and code of each issue.
func keys(issues []fhir.Issue) []issueKey {
	var out []issueKey
	for _, is := range issues {
		k := issueKey{Code: string(is.Code)}
		if len(is.Expression) > 0 {
			k.Expression = is.Expression[0]
		}
		out = append(out, k)
	}
	return out
}

// readExample reads file from testdata/r4examples, or from this package's testdata when it starts with "./".
func readExample(tb testing.TB, file string) fhir.Object {
	tb.Helper()
	if rest, ok := strings.CutPrefix(file, "./"); ok {
		return readObject(tb, filepath.Join("testdata", rest))
	}
	return readObject(tb, filepath.Join(examplesDir, file))
}

// get returns the value at path (object keys and array indexes) in v, failing the test when there is none.
func get(tb testing.TB, v any, path ...any) any {
	tb.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				tb.Fatalf("get %v: %q is not in an object", path, k)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				tb.Fatalf("get %v: no item %d", path, k)
			}
			v = a[k]
		}
	}
	return v
}

// set sets the value at path (object keys and array indexes) in obj; all but the last element must exist.
func set(tb testing.TB, obj fhir.Object, val any, path ...any) {
	tb.Helper()
	parent := get(tb, obj, path[:len(path)-1]...)
	switch k := path[len(path)-1].(type) {
	case string:
		m, ok := parent.(map[string]any)
		if !ok {
			tb.Fatalf("set %v: parent is not an object", path)
		}
		m[k] = val
	case int:
		a, ok := parent.([]any)
		if !ok || k >= len(a) {
			tb.Fatalf("set %v: no item %d", path, k)
		}
		a[k] = val
	default:
		tb.Fatalf("set %v: bad path element %v", path, fmt.Sprint(k))
	}
}
