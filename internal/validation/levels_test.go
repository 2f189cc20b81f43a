package validation

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/fhir"
)

func TestParseLevels(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Levels
		wantErr string
	}{
		{in: "", want: Levels{}},
		{in: "2.4=warning,8.3=off", want: Levels{"2.4": LevelWarning, "8.3": LevelOff}},
		{in: " GP-6 = error ,\n# a comment\n\n5.1=off\n", want: Levels{"GP-6": LevelError, "5.1": LevelOff}},
		{in: "2.4", wantErr: `"2.4" is not clause=level`},
		{in: "=warning", wantErr: "is not clause=level"},
		{in: "2.4=warn", wantErr: "must be error, warning or off"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLevels(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLevels_Apply(t *testing.T) {
	is := func(sev fhir.Severity, code fhir.IssueType, clause string) fhir.Issue {
		return fhir.Issue{Severity: sev, Code: code, Clause: clause, Expression: []string{"Task"}}
	}
	in := []fhir.Issue{
		is(fhir.SeverityError, fhir.IssueInvariant, "2.4"),    // to warning
		is(fhir.SeverityWarning, fhir.IssueInvariant, "6.5"),  // to error
		is(fhir.SeverityWarning, fhir.IssueInvariant, "8.3"),  // off: dropped
		is(fhir.SeverityError, fhir.IssueRequired, "5.1"),     // not configured: unchanged
		is(fhir.SeverityError, fhir.IssueStructure, ""),       // no clause: unchanged
		is(fhir.SeverityWarning, fhir.IssueProcessing, "2.4"), // processing: unchanged
	}
	got := Levels{"2.4": LevelWarning, "6.5": LevelError, "8.3": LevelOff}.apply(in)
	want := []fhir.Issue{
		is(fhir.SeverityWarning, fhir.IssueInvariant, "2.4"),
		is(fhir.SeverityError, fhir.IssueInvariant, "6.5"),
		is(fhir.SeverityError, fhir.IssueRequired, "5.1"),
		is(fhir.SeverityError, fhir.IssueStructure, ""),
		is(fhir.SeverityWarning, fhir.IssueProcessing, "2.4"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if f := Findings(got); len(f) != 1 || f[0].Clause != "2.4" || f[0].Code != fhir.IssueInvariant {
		t.Errorf("Findings = %+v, want the 2.4 warning only", f)
	}
}

// fakeProfiles records what the pipeline asks of the profile step and reports one issue per resource.
type fakeProfiles struct{ named [][]string }

func (f *fakeProfiles) ValidateProfiles(obj fhir.Object, named ...string) []fhir.Issue {
	f.named = append(f.named, named)
	return []fhir.Issue{{Severity: fhir.SeverityError, Code: fhir.IssueRequired, Clause: "GP-6",
		Expression: []string{fhir.ResourceType(obj) + ".owner"}}}
}

func TestPipeline_ProfilesOfBundleEntries(t *testing.T) {
	bundle := func(typ string) fhir.Object {
		return fhir.Object{"resourceType": "Bundle", "type": typ, "entry": []any{
			map[string]any{"resource": map[string]any{"resourceType": "Task"}},
			map[string]any{"request": map[string]any{"method": "DELETE", "url": "Task/1"}},
			map[string]any{"resource": map[string]any{"resourceType": "Appointment"}},
		}}
	}
	self := []string{"Bundle.owner"}
	entries := []string{"Bundle.owner", "Bundle.entry[0].resource.owner", "Bundle.entry[2].resource.owner"}
	for _, tc := range []struct {
		name string
		all  bool
		typ  string
		want []string
	}{
		{"transaction", false, "transaction", entries},
		{"batch", false, "batch", entries},
		{"collection on a write: not its entries", false, "collection", self},
		{"collection offline: its entries", true, "collection", entries},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(nil).WithProfiles(&fakeProfiles{}, Levels{"GP-6": LevelWarning})
			var issues []fhir.Issue
			if tc.all {
				issues = p.ValidateAll(context.Background(), bundle(tc.typ))
			} else {
				issues = p.Validate(context.Background(), bundle(tc.typ))
			}
			var got []string
			for _, is := range issues {
				if is.Severity != fhir.SeverityWarning {
					t.Errorf("issue %v: the GP-6 level (warning) was not applied", is)
				}
				got = append(got, is.Expression[0])
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("expressions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPipeline_RequestedProfiles(t *testing.T) {
	f := &fakeProfiles{}
	p := New(nil).WithProfiles(f, nil)
	p.Validate(context.Background(), fhir.Object{"resourceType": "Task"})
	p.Validate(WithRequested(context.Background(), "https://example.org/p"), fhir.Object{"resourceType": "Task"})
	if diff := cmp.Diff([][]string{nil, {"https://example.org/p"}}, f.named); diff != "" {
		t.Errorf("named profiles (-want +got):\n%s", diff)
	}
}
