package validate_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
	"github.com/accord-fhir/accord/fhir/validate"
)

// invariantValidator is the base validator with the FHIRPath engine evaluating invariants, as in production;
// built once per test binary.
var invariantValidator = sync.OnceValues(func() (*validate.Validator, error) {
	opts := validate.DefaultOptions()
	opts.Invariants = validate.NewFHIRPath(fhirpath.NewEngine())
	return validate.New(os.DirFS(profilesDir), opts)
})

func newInvariant(t testing.TB) *validate.Validator {
	t.Helper()
	v, err := invariantValidator()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// invariantFailures are the official examples that fail an invariant as the FHIRPath engine evaluates it, with
// the reason. The test fails if a listed example stops failing.
var invariantFailures = map[string]string{}

// TestValidate_OfficialExamples_Invariants checks the official examples with the invariants evaluated: none has
// an error but those listed (warnings, such as dom-6 or the name patterns of csd-0, are allowed).
func TestValidate_OfficialExamples_Invariants(t *testing.T) {
	v := newInvariant(t)
	n := 0
	for _, dir := range examplesDirs() {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			name := filepath.Base(f)
			if _, invalid := invalidExamples[name]; invalid || name == "package.json" {
				continue
			}
			n++
			t.Run(filepath.Base(dir)+"/"+name, func(t *testing.T) {
				issues := v.Validate(readObject(t, f))
				if reason, listed := invariantFailures[name]; listed {
					if !fhir.HasErrors(issues) {
						t.Fatalf("listed as failing an invariant (%s) but has no errors", reason)
					}
					t.Skip(reason)
				}
				var errs []fhir.Issue
				for _, is := range issues {
					if is.Severity == fhir.SeverityError || is.Code == fhir.IssueProcessing {
						errs = append(errs, is)
					}
				}
				if len(errs) > 0 {
					t.Errorf("%d errors:\n%s", len(errs), describe(errs))
				}
			})
		}
	}
	t.Logf("%d examples checked", n)
}

// TestValidate_Invariants_BrokenCopies breaks official examples so that one core invariant fails, and checks
// that it is reported with its key and at the right FHIRPath location.
func TestValidate_Invariants_BrokenCopies(t *testing.T) {
	v := newInvariant(t)
	task := examplesDir + "/Task-example1.json"
	provenance := func(t *testing.T, o fhir.Object) fhir.Object { return at(t, o, "contained", 0) }
	for _, tc := range []struct {
		name, file string
		edit       func(t *testing.T, o fhir.Object)
		want       string // "severity key expression"
	}{
		{"dom-2: a contained resource contains another", task,
			func(t *testing.T, o fhir.Object) {
				provenance(t, o)["contained"] = []any{map[string]any{"resourceType": "Basic", "id": "b", "code": map[string]any{"text": "x"}}}
			}, "error dom-2 Task"},
		{"dom-3: a contained resource nothing refers to", task,
			func(t *testing.T, o fhir.Object) { delete(o, "relevantHistory") }, "error dom-3 Task"},
		{"dom-4: a contained resource with a versionId", task,
			func(t *testing.T, o fhir.Object) { provenance(t, o)["meta"] = map[string]any{"versionId": "1"} }, "error dom-4 Task"},
		{"dom-5: a contained resource with security labels", task,
			func(t *testing.T, o fhir.Object) {
				provenance(t, o)["meta"] = map[string]any{"security": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}}}
			}, "error dom-5 Task"},
		{"dom-6: no narrative", task, func(t *testing.T, o fhir.Object) { delete(o, "text") }, "warning dom-6 Task"},
		{"ref-1: a local reference to nothing contained", task,
			func(t *testing.T, o fhir.Object) { at(t, o, "requester")["reference"] = "#nobody" }, "error ref-1 Task.requester"},
		{"per-1: a period that ends before it starts", task,
			func(t *testing.T, o fhir.Object) {
				at(t, o, "executionPeriod")["end"] = "2016-10-30T08:25:05+10:00"
			}, "error per-1 Task.executionPeriod"},
		{"inv-1: modified before authored", task,
			func(t *testing.T, o fhir.Object) { o["lastModified"] = "2016-10-30T08:25:05+10:00" }, "error inv-1 Task"},
		{"pat-1: a contact with no details", examplesDir + "/Patient-example.json",
			func(t *testing.T, o fhir.Object) {
				c := at(t, o, "contact", 0)
				for _, k := range []string{"name", "telecom", "address", "organization"} {
					delete(c, k)
				}
			}, "error pat-1 Patient.contact[0]"},
		{"obs-6: a value and a dataAbsentReason", observation,
			func(t *testing.T, o fhir.Object) { o["dataAbsentReason"] = map[string]any{"text": "unknown"} }, "error obs-6 Observation"},
		{"bdl-1: a total in a transaction", bundle,
			func(t *testing.T, o fhir.Object) { o["total"] = 3 }, "error bdl-1 Bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readObject(t, tc.file)
			if issues := v.Validate(obj); fhir.HasErrors(issues) {
				t.Fatalf("the example has errors before the change:\n%s", describe(issues))
			}
			tc.edit(t, obj)
			var got []string
			for _, is := range v.Validate(obj) {
				if key, ok := strings.CutPrefix(is.Details, "Constraint "); ok {
					key, _, _ = strings.Cut(key, " ")
					got = append(got, string(is.Severity)+" "+key+" "+is.Expression[0])
				}
			}
			if !slices.Contains(got, tc.want) {
				t.Errorf("want %q among %q", tc.want, got)
			}
		})
	}
}

// TestValidate_Narrative_Txt1AndTxt2Apart checks that txt-1 (allowed elements and attributes) and txt-2 (some
// content), whose R4 expression is the same htmlChecks(), are each reported for their own rule, and that a
// narrative without content is a warning (the HL7 Java validator does not check txt-2 before R6).
func TestValidate_Narrative_Txt1AndTxt2Apart(t *testing.T) {
	v := newInvariant(t)
	const ns = `<div xmlns="http://www.w3.org/1999/xhtml">`
	for _, tc := range []struct {
		name, div string
		want      []string
	}{
		{"text", ns + `<p>Referral accepted</p></div>`, nil},
		{"only an image (List-prognosis)", ns + `<img src="#image" alt="Family history diagram"/></div>`, nil},
		{"only whitespace (ActivityDefinition-heart-valve-replacement)", ns + "\n    </div>", []string{"warning txt-2"}},
		{"a script", ns + `<script>x()</script>text</div>`, []string{"error txt-1"}},
		{"a script and no text", ns + `<script/></div>`, []string{"error txt-1", "warning txt-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readObject(t, taskFile)
			obj["text"] = map[string]any{"status": "generated", "div": tc.div}
			var got []string
			for _, is := range v.Validate(obj) {
				key, ok := strings.CutPrefix(is.Details, "Constraint ")
				key, _, _ = strings.Cut(key, " ")
				if !ok || !strings.HasPrefix(key, "txt-") {
					continue
				}
				if is.Expression[0] != "Task.text.div" {
					t.Errorf("%s at %s, want Task.text.div", key, is.Expression[0])
				}
				got = append(got, string(is.Severity)+" "+key)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("narrative issues %q, want %q", got, tc.want)
			}
		})
	}
}

// TestValidate_InvariantThatCannotBeEvaluated_Warning checks that a constraint the engine cannot evaluate (a
// function it does not know, a syntax error) is a processing warning without clause, not a failure of the
// resource.
func TestValidate_InvariantThatCannotBeEvaluated_Warning(t *testing.T) {
	fsys, opts := withTestFiles(t, validate.NewFHIRPath(fhirpath.NewEngine()), "profiles")
	const url = "https://accord-fhir.github.io/ig/test/StructureDefinition/unevaluable"
	fsys.(fstest.MapFS)["test/unevaluable.json"] = &fstest.MapFile{Data: []byte(`{"resourceType": "StructureDefinition",
		"url": "` + url + `", "name": "Unevaluable", "status": "draft", "kind": "resource", "abstract": false, "type": "Task",
		"baseDefinition": "http://hl7.org/fhir/StructureDefinition/Task", "derivation": "constraint",
		"differential": {"element": [{"id": "Task", "path": "Task", "constraint": [
			{"key": "bad-1", "severity": "error", "human": "unknown function", "expression": "noSuchFunction()",
			 "extension": [{"url": "` + validate.ClauseExtension + `", "valueCode": "GP-6"}]},
			{"key": "bad-2", "severity": "error", "human": "syntax error", "expression": "status = "}]}]}}`)}
	opts.Files = append(opts.Files, "test/unevaluable.json")
	v, err := validate.New(fsys, opts)
	if err != nil {
		t.Fatal(err)
	}
	issues := v.ValidateProfiles(readObject(t, taskFile), url)
	if got, want := issueLines(issues), []string{"warning processing Task ", "warning processing Task "}; !slices.Equal(got, want) {
		t.Errorf("issues:\n got  %q\n want %q\n%s", got, want, describe(issues))
	}
}

func TestValidate_BestPracticeOff_NoDom6(t *testing.T) {
	obj := readObject(t, taskFile)
	delete(obj, "text")
	for _, tc := range []struct {
		bestPractice bool
		want         []string
	}{{true, []string{"invariant Task"}}, {false, []string{}}} {
		opts := validate.DefaultOptions()
		opts.Invariants, opts.BestPractice = &fakeEvaluator{}, tc.bestPractice
		v, err := validate.New(os.DirFS(profilesDir), opts)
		if err != nil {
			t.Fatal(err)
		}
		checkIssues(t, v.Validate(obj), tc.want)
	}
}
