package validate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
	"github.com/accord-fhir/accord/fhir/validate"
)

const (
	slicedProfile  = "https://accord-fhir.github.io/ig/test/StructureDefinition/sliced-task"
	routineProfile = "https://accord-fhir.github.io/ig/test/StructureDefinition/sliced-task-routine"
	anyTaskProfile = "https://accord-fhir.github.io/ig/test/StructureDefinition/any-task"
	dueExtension   = "https://accord-fhir.github.io/ig/test/StructureDefinition/test-due"
	contactExt     = "https://accord-fhir.github.io/ig/test/StructureDefinition/test-contact"
)

// newSliced returns a validator with testdata/validate/profiles and sliced: a Task profile sliced by value
// (identifier, closed), by extension url (a simple and a complex extension) and by pattern (performerType),
// a profile derived from it, and one that applies to every Task.
func newSliced(t *testing.T, inv validate.InvariantEvaluator) *validate.Validator {
	t.Helper()
	fsys, opts := withTestFiles(t, inv, "profiles", "sliced")
	v, err := validate.New(fsys, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// slicedTask is the Task fixture made to conform to the sliced profile.
func slicedTask(t *testing.T) fhir.Object {
	t.Helper()
	obj := readObject(t, taskFile)
	delete(obj, "meta")
	obj["extension"] = []any{map[string]any{"url": dueExtension, "valueDateTime": "2030-06-30"}}
	return obj
}

// issueLines renders issues as "severity code expression clause".
func issueLines(issues []fhir.Issue) []string {
	out := []string{}
	for _, is := range issues {
		out = append(out, strings.Join([]string{string(is.Severity), string(is.Code), is.Expression[0], is.Clause}, " "))
	}
	return out
}

func TestValidateProfile_Slicing(t *testing.T) {
	v := newSliced(t, nil)
	due := "Task.extension('" + dueExtension + "')"
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, o fhir.Object)
		want []string
	}{
		{name: "conformant", edit: func(*testing.T, fhir.Object) {}},
		{name: "required extension slice absent (no extension at all)",
			edit: func(_ *testing.T, o fhir.Object) { delete(o, "extension") },
			want: []string{"error required " + due + " GP-6"}},
		{name: "required extension slice absent among other extensions",
			edit: func(_ *testing.T, o fhir.Object) {
				o["extension"] = []any{map[string]any{"url": "https://example.org/other", "valueString": "x"}}
			},
			want: []string{"error required " + due + " GP-6"}},
		{name: "extension slice over its max",
			edit: func(_ *testing.T, o fhir.Object) {
				o["extension"] = append(o["extension"].([]any), map[string]any{"url": dueExtension, "valueDateTime": "2031-01-01"})
			},
			want: []string{"error structure " + due + " GP-6"}},
		{name: "extension value of a type the extension does not allow",
			edit: func(_ *testing.T, o fhir.Object) {
				o["extension"] = []any{map[string]any{"url": dueExtension, "valueString": "soon"}}
			},
			want: []string{"error required Task.extension[0].value GP-6", "error structure Task.extension[0].valueString GP-6"}},
		{name: "complex extension without its required part",
			edit: func(_ *testing.T, o fhir.Object) {
				o["extension"] = append(o["extension"].([]any), map[string]any{"url": contactExt,
					"extension": []any{map[string]any{"url": "name", "valueString": "Ward 7"}}})
			},
			want: []string{"error required Task.extension[1].extension('phone') GP-4"}},
		{name: "complex extension with a value it must not have",
			edit: func(_ *testing.T, o fhir.Object) {
				o["extension"] = append(o["extension"].([]any), map[string]any{"url": contactExt, "valueString": "x",
					"extension": []any{map[string]any{"url": "phone", "valueString": "020 7946 0000"}}})
			},
			want: []string{"error structure Task.extension[1].value.ofType(string) GP-4"}},
		{name: "closed slicing: an identifier of no slice",
			edit: func(t *testing.T, o fhir.Object) {
				o["identifier"] = append(o["identifier"].([]any), map[string]any{"system": "https://example.org/other", "value": "1"})
			},
			want: []string{"error structure Task.identifier[2] GP-6"}},
		{name: "value slice without its required child",
			edit: func(t *testing.T, o fhir.Object) { delete(at(t, o, "identifier", 0), "value") },
			want: []string{"error required Task.identifier[0].value GP-6"}},
		{name: "value slice missing",
			edit: func(t *testing.T, o fhir.Object) { o["identifier"] = o["identifier"].([]any)[1:] },
			want: []string{"error required Task.identifier GP-6"}},
		{name: "pattern slice missing",
			edit: func(t *testing.T, o fhir.Object) {
				at(t, o, "performerType", 0)["coding"] = []any{map[string]any{"system": "http://snomed.info/sct", "code": "1"}}
			},
			want: []string{"error required Task.performerType 5.1"}},
		{name: "pattern slice matched by a coding among others",
			edit: func(t *testing.T, o fhir.Object) {
				cc := at(t, o, "performerType", 0)
				cc["coding"] = append([]any{map[string]any{"system": "http://loinc.org", "code": "1"}}, cc["coding"].([]any)...)
			}},
		{name: "extensible binding with a clause: a code outside the value set is a warning",
			edit: func(_ *testing.T, o fhir.Object) { o["priority"] = "stat" },
			want: []string{"warning code-invalid Task.priority 8.4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := slicedTask(t)
			tc.edit(t, obj)
			issues, err := v.ValidateProfile(obj, slicedProfile)
			if err != nil {
				t.Fatal(err)
			}
			if got := issueLines(issues); !slices.Equal(got, orEmpty(tc.want)) {
				t.Errorf("issues:\n got  %q\n want %q\n%s", got, orEmpty(tc.want), describe(issues))
			}
			for _, is := range issues {
				if !strings.Contains(is.Details, "(Consensus clause "+is.Clause+")") {
					t.Errorf("details %q do not name the clause %s", is.Details, is.Clause)
				}
			}
		})
	}
}

func TestValidateProfile_ConstraintClauses(t *testing.T) {
	f := &fakeEvaluator{fail: map[string]bool{"tst-2": true, "due-1": true}, broken: map[string]bool{"tst-1": true}}
	v := newSliced(t, f)
	obj := slicedTask(t)
	issues := v.ValidateProfiles(obj, testProfile)
	want := []string{
		"error invariant Task 3.1",               // tst-2 of the sliced profile: the constraint's clause
		"warning processing Task ",               // tst-1 (test-task, named) could not be evaluated: no clause, not a finding
		"error invariant Task.extension[0] GP-6", // due-1 of the extension definition, once: the sliced profile is checked through the routine one
	}
	if got := issueLines(issues); !slices.Equal(got, want) {
		t.Errorf("issues:\n got  %q\n want %q\n%s", got, want, describe(issues))
	}
}

func TestApplicable_SelectsByWhatTheResourceIs(t *testing.T) {
	v := newSliced(t, validate.NewFHIRPath(fhirpath.NewEngine()))
	for _, tc := range []struct {
		name string
		edit func(o fhir.Object)
		want []string
	}{
		{"fulfil Task, routine", func(fhir.Object) {}, []string{anyTaskProfile, slicedProfile, routineProfile}},
		{"fulfil Task, urgent", func(o fhir.Object) { o["priority"] = "urgent" }, []string{anyTaskProfile, slicedProfile}},
		{"another code", func(o fhir.Object) { o["code"] = map[string]any{"text": "x"}; delete(o, "priority") }, []string{anyTaskProfile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := slicedTask(t)
			tc.edit(obj)
			got, issues := v.Applicable(obj)
			if len(issues) > 0 {
				t.Fatalf("issues: %s", describe(issues))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Applicable = %v, want %v", got, tc.want)
			}
		})
	}
	if got, _ := v.Applicable(readObject(t, patient)); len(got) != 0 {
		t.Errorf("Applicable(Patient) = %v, want none", got)
	}
}

func TestValidateProfiles_MetaProfile(t *testing.T) {
	v := newSliced(t, nil)
	for _, tc := range []struct {
		name    string
		profile []any
		want    []string
	}{
		{"a base definition", []any{"http://hl7.org/fhir/StructureDefinition/Task"}, []string{"error required Task.owner GP-6"}},
		{"an unknown profile", []any{"https://example.org/StructureDefinition/nope"},
			[]string{"error processing Task.meta.profile[0] ", "error required Task.owner GP-6"}},
		{"a profile of another type", []any{"http://hl7.org/fhir/StructureDefinition/SimpleQuantity"},
			[]string{"error processing Task ", "error required Task.owner GP-6"}},
		{"a known profile with its version", []any{testProfile + "|0.1.0"},
			[]string{"error value Task.code ", "error required Task.owner GP-6", "error required Task.owner "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := slicedTask(t)
			delete(obj, "owner")
			obj["code"] = map[string]any{"text": "not selected by code"}
			obj["meta"] = map[string]any{"profile": tc.profile}
			if got := issueLines(v.ValidateProfiles(obj)); !slices.Equal(got, tc.want) {
				t.Errorf("issues:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestNew_BadProfiles_Error(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		{"bad-discriminator", `slicing discriminator type "exists" is not supported`},
		{"bad-slice-value", `slice local: no fixed or pattern value at discriminator path "system"`},
		{"bad-type", "base definition http://hl7.org/fhir/StructureDefinition/NoSuchType is not loaded"},
		{"bad-reslice", "re-slicing is not supported"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			fsys, opts := withTestFiles(t, nil, tc.dir)
			_, err := validate.New(fsys, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
