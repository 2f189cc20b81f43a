package validate_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/validate"
)

// fakeEvaluator stands in for the FHIRPath engine: it fails the constraints whose key is in fail, returns an
// error for those in broken, passes the rest, and records every call.
type fakeEvaluator struct {
	fail, broken map[string]bool
	mu           sync.Mutex
	calls        []validate.Invariant
}

func (f *fakeEvaluator) EvaluateInvariant(inv validate.Invariant) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, inv)
	if f.broken[inv.Key] {
		return false, errors.New("function not supported")
	}
	return !f.fail[inv.Key], nil
}

// called returns the calls for constraint key.
func (f *fakeEvaluator) called(key string) []validate.Invariant {
	var out []validate.Invariant
	for _, c := range f.calls {
		if c.Key == key {
			out = append(out, c)
		}
	}
	return out
}

func newWithEvaluator(t *testing.T, f *fakeEvaluator) *validate.Validator {
	t.Helper()
	opts := validate.DefaultOptions()
	opts.Invariants = f
	v, err := validate.New(os.DirFS(profilesDir), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func TestValidate_NoEvaluator_SkipsInvariants(t *testing.T) {
	obj := readObject(t, taskFile)
	obj["executionPeriod"] = map[string]any{} // fails ele-1
	checkIssues(t, newCore(t).Validate(obj), []string{})
}

func TestValidate_Invariants(t *testing.T) {
	f := &fakeEvaluator{
		fail:   map[string]bool{"inv-1": true, "per-1": true, "dom-6": true},
		broken: map[string]bool{"dom-3": true},
	}
	v := newWithEvaluator(t, f)
	obj := readObject(t, taskFile)
	delete(obj, "text")
	at(t, obj, "restriction")["period"] = map[string]any{} // fails ele-1, checked natively
	obj["extension"] = []any{map[string]any{"url": "http://example.org/x", "valueString": "a",
		"extension": []any{map[string]any{"url": "y", "valueBoolean": true}}}} // fails ext-1, natively
	obj["contained"] = []any{readObject(t, patient)}

	var got []string
	for _, is := range v.Validate(obj) {
		got = append(got, strings.Join([]string{string(is.Severity), string(is.Code), is.Expression[0], is.Details}, " | "))
	}
	want := []string{ // dom-6 is checked natively (the Task has no narrative, its contained Patient has one)
		"warning | invariant | Task | Constraint dom-6 failed: A resource should have narrative for robust management",
		"error | invariant | Task | Constraint inv-1 failed: Last modified date must be greater than or equal to authored-on date.",
		"warning | processing | Task | Constraint dom-3 could not be evaluated",
		"error | invariant | Task.executionPeriod | Constraint per-1 failed: If present, start SHALL have a lower value than end",
		"error | invariant | Task.extension[0] | Constraint ext-1 failed: Must have either extensions or value[x], not both",
		"error | invariant | Task.restriction.period | Constraint ele-1 failed: All FHIR elements must have a @value or children",
		"error | invariant | Task.restriction.period | Constraint per-1 failed: If present, start SHALL have a lower value than end",
	}
	if !slices.Equal(got, want) {
		t.Errorf("issues:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}

	for _, c := range f.calls {
		switch {
		case c.Key == "ele-1" || c.Key == "ext-1" || c.Key == "dom-6":
			t.Errorf("evaluator called for %s, which is checked natively", c.Key)
		case strings.HasPrefix(c.Key, "dom-") && fhir.ResourceType(c.Context.(fhir.Object)) == "Patient":
			t.Errorf("evaluator called for %s on the Patient, which has no contained resources", c.Key)
		}
	}
	var starts []any // per-1 runs on each Period, with the Period as its context
	for _, c := range f.called("per-1") {
		starts = append(starts, c.Context.(fhir.Object)["start"])
	}
	if len(starts) != 2 || !slices.Contains(starts, "2024-03-14T09:20:00Z") || !slices.Contains(starts, nil) {
		t.Errorf("per-1 context starts = %v, want the execution period's and the empty restriction period's", starts)
	}
	if dom2 := f.called("dom-2"); len(dom2) != 1 || fhir.ResourceType(dom2[0].Context.(fhir.Object)) != "Task" {
		t.Errorf("dom-2 evaluated %d times, want once, on the Task (the only resource with contained resources)", len(dom2))
	}
	inPatient := 0
	for _, c := range f.calls {
		if fhir.ResourceType(c.Resource) != "Patient" {
			continue
		}
		inPatient++
		if root := fhir.ResourceType(c.RootResource); root != "Task" {
			t.Errorf("%s in the contained Patient: %%rootResource %s, want the Task", c.Key, root)
		}
	}
	if inPatient == 0 {
		t.Error("no constraint evaluated inside the contained Patient")
	}
}

func TestValidate_Invariants_BundleEntryIsItsOwnRoot(t *testing.T) {
	f := &fakeEvaluator{}
	v := newWithEvaluator(t, f)
	obj := readObject(t, bundle)
	// pat-1 goes to the evaluator (the Patients' narrative constraints, txt-1 and txt-2, are checked natively)
	at(t, obj, "entry", 0, "resource")["contact"] = []any{map[string]any{"name": map[string]any{"family": "Chalmers"}}}
	v.Validate(obj)
	seen := map[string]bool{}
	for _, c := range f.calls {
		res, root := fhir.ResourceType(c.Resource), fhir.ResourceType(c.RootResource)
		if res != root {
			t.Errorf("%s on %s: %%rootResource is %s, want the entry itself", c.Key, res, root)
		}
		seen[res] = true
	}
	if !seen["Bundle"] || !seen["Patient"] || !seen["Parameters"] {
		t.Errorf("constraints evaluated in %v, want the Bundle, and its Patient and Parameters entries", seen)
	}
}
