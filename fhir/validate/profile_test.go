package validate_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/validate"
)

// newProfiled returns a validator with the base definitions and testdata/validate/profiles: a Task profile
// given as a differential (fixed, pattern, min, max, a required binding to its own ValueSet, a constraint).
func newProfiled(t *testing.T, inv validate.InvariantEvaluator) *validate.Validator {
	t.Helper()
	fsys, opts := withTestFiles(t, inv, "profiles")
	v, err := validate.New(fsys, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func TestValidateProfile_DifferentialProfile(t *testing.T) {
	v := newProfiled(t, nil)
	for _, tc := range []struct {
		name     string
		edit     func(t *testing.T, o fhir.Object)
		want     []string // ValidateProfile
		wantBase []string // Validate
	}{
		{
			name: "conformant",
			edit: func(t *testing.T, o fhir.Object) {},
		},
		{
			name: "fixed code differs",
			edit: func(t *testing.T, o fhir.Object) { o["intent"] = "plan" },
			want: []string{"value Task.intent"},
		},
		{
			name: "pattern coding missing",
			edit: func(t *testing.T, o fhir.Object) {
				at(t, o, "code")["coding"] = []any{map[string]any{"system": "http://snomed.info/sct", "code": "1049301000000100"}}
			},
			want: []string{"value Task.code"},
		},
		{
			name: "pattern matched among other codings and properties",
			edit: func(t *testing.T, o fhir.Object) {
				at(t, o, "code")["coding"] = []any{
					map[string]any{"system": "http://snomed.info/sct", "code": "1"},
					map[string]any{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill", "userSelected": true},
				}
			},
		},
		{
			name: "code removed: min raised by the profile",
			edit: func(t *testing.T, o fhir.Object) { delete(o, "code") },
			want: []string{"required Task.code"},
		},
		{
			name: "fixed value inside datatypes (Reference.identifier.system)",
			edit: func(t *testing.T, o fhir.Object) { at(t, o, "for", "identifier")["system"] = "https://example.org/mrn" },
			want: []string{"value Task.for.identifier.system"},
		},
		{
			name: "priority in the core value set but not the profile's",
			edit: func(t *testing.T, o fhir.Object) { o["priority"] = "stat" },
			want: []string{"code-invalid Task.priority"},
		},
		{
			name:     "priority in neither value set: each step reports its own",
			edit:     func(t *testing.T, o fhir.Object) { o["priority"] = "whenever" },
			want:     []string{"code-invalid Task.priority"},
			wantBase: []string{"code-invalid Task.priority"},
		},
		{
			name: "codeable concept with text only",
			edit: func(t *testing.T, o fhir.Object) {
				o["performerType"] = []any{map[string]any{"text": "Physician"}}
			},
			want: []string{"code-invalid Task.performerType[0]"},
		},
		{
			name: "codeable concept with no coding in the value set",
			edit: func(t *testing.T, o fhir.Object) {
				at(t, o, "performerType", 0)["coding"] = []any{map[string]any{"system": "http://snomed.info/sct", "code": "1"}}
			},
			want: []string{"code-invalid Task.performerType[0]"},
		},
		{
			name: "codeable concept with one of its codings in the value set",
			edit: func(t *testing.T, o fhir.Object) {
				cc := at(t, o, "performerType", 0)
				cc["coding"] = append([]any{map[string]any{"system": "http://loinc.org", "code": "1"}}, cc["coding"].([]any)...)
			},
		},
		{
			name: "owner removed",
			edit: func(t *testing.T, o fhir.Object) { delete(o, "owner") },
			want: []string{"required Task.owner"},
		},
		{
			name: "max lowered by the profile exceeded",
			edit: func(t *testing.T, o fhir.Object) {
				o["note"] = append(o["note"].([]any), map[string]any{"text": "second"})
			},
			want: []string{"structure Task.note"},
		},
		{
			name: "min inside a datatype of a backbone element",
			edit: func(t *testing.T, o fhir.Object) { delete(at(t, o, "restriction", "period"), "end") },
			want: []string{"required Task.restriction.period.end"},
		},
		{
			name:     "core rule broken: reported by Validate only",
			edit:     func(t *testing.T, o fhir.Object) { delete(o, "status") },
			wantBase: []string{"required Task.status"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readObject(t, taskFile)
			tc.edit(t, obj)
			issues, err := v.ValidateProfile(obj, testProfile)
			if err != nil {
				t.Fatalf("ValidateProfile: %v", err)
			}
			checkIssues(t, issues, orEmpty(tc.want))
			checkIssues(t, v.Validate(obj), orEmpty(tc.wantBase))
			for _, is := range issues {
				if !strings.Contains(is.Details, testProfile) {
					t.Errorf("details %q do not name the profile", is.Details)
				}
			}
		})
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestValidateProfile_Constraint_OnlyTheProfilesOwn(t *testing.T) {
	f := &fakeEvaluator{fail: map[string]bool{"tst-1": true}}
	v := newProfiled(t, f)
	issues, err := v.ValidateProfile(readObject(t, taskFile), testProfile)
	if err != nil {
		t.Fatal(err)
	}
	checkIssues(t, issues, []string{"invariant Task"})
	if len(issues) == 1 && !strings.HasPrefix(issues[0].Details, "Constraint tst-1 failed: A test Task has a due date") {
		t.Errorf("details = %q", issues[0].Details)
	}
	var keys []string
	for _, c := range f.calls {
		keys = append(keys, c.Key)
	}
	if !slices.Equal(keys, []string{"tst-1"}) {
		t.Errorf("evaluated %v, want only tst-1 (the core constraints belong to Validate)", keys)
	}
}

func TestValidateProfile_UnknownProfile_Error(t *testing.T) {
	_, err := newCore(t).ValidateProfile(readObject(t, taskFile), testProfile)
	if !errors.Is(err, validate.ErrUnknownProfile) {
		t.Errorf("err = %v, want ErrUnknownProfile", err)
	}
}

func TestValidateProfile_OtherResourceType_StructureIssue(t *testing.T) {
	v := newProfiled(t, nil)
	issues, err := v.ValidateProfile(readObject(t, patient), testProfile)
	if err != nil {
		t.Fatal(err)
	}
	checkIssues(t, issues, []string{"structure resourceType"})
}

func TestProfiles_ListsLoadedProfiles(t *testing.T) {
	v := newProfiled(t, nil)
	got := v.Profiles()
	for _, want := range []string{"http://hl7.org/fhir/StructureDefinition/MoneyQuantity",
		"http://hl7.org/fhir/StructureDefinition/SimpleQuantity", "http://hl7.org/fhir/StructureDefinition/vitalsigns",
		testProfile} {
		if !slices.Contains(got, want) {
			t.Errorf("Profiles() lacks %s: %v", want, got)
		}
	}
	for url := range v.NotEnforced() {
		if slices.Contains(got, url) {
			t.Errorf("Profiles() lists %s, which is not enforced", url)
		}
	}
	// the R4 base definitions, terminology and core profiles, and the test profile
	if want := len(coreProfiles(t)) - len(v.NotEnforced()) + 3; len(got) != want || !slices.IsSorted(got) {
		t.Errorf("Profiles() has %d profiles, want %d, sorted: %v", len(got), want, got)
	}
}

func TestNew_BadDefinitions_Error(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dirs  []string
		files []string
		want  string
	}{
		{name: "file matched twice is read once", dirs: []string{"profiles"}, files: []string{"test/profiles/*.json"}},
		{name: "url defined twice", dirs: []string{"profiles", "duplicate"}, want: "is defined twice"},
		{name: "no file matches", files: []string{"r4/nothing-*.json"}, want: "no file matches"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, opts := withTestFiles(t, nil, tc.dirs...)
			opts.Files = append(opts.Files, tc.files...)
			_, err := validate.New(fsys, opts)
			if tc.want == "" {
				if err != nil {
					t.Errorf("New: %v (a file matched by two patterns is read once)", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
