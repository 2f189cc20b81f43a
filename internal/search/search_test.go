package search

import (
	"context"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/fhir/validate"
	"github.com/accord-fhir/accord/internal/conformance"
	"github.com/accord-fhir/accord/internal/store"
)

func TestClaimKey(t *testing.T) {
	s := New(nil, testRegistry(t), DefaultOptions())
	for _, tc := range []struct {
		name, a, b string
		same       bool
	}{
		{"alternatives in another order", "identifier=a,b", "identifier=b,a", true},
		{"three alternatives", "identifier=urn:s|3,urn:s|1,urn:s|2", "identifier=urn:s|1,urn:s|2,urn:s|3", true},
		{"escaped comma stays in its alternative", `identifier=b\,a,c`, `identifier=c,b\,a`, true},
		{"escaped comma is not a separator", `identifier=a\,b`, `identifier=b\,a`, false},
		{"escaped comma against two alternatives", `identifier=a\,b`, "identifier=a,b", false},
		{"repeated alternative", "identifier=a,a,b", "identifier=b,a", true},
		{"empty alternative", "identifier=a,,b", "identifier=b,a", true},
		{"values (AND) in another order", "identifier=a&identifier=b,c", "identifier=c,b&identifier=a", true},
		{"parameters in another order", "family=x&birthdate=2000", "birthdate=2000&family=x", true},
		{"AND is not OR", "identifier=a&identifier=b", "identifier=a,b", false},
		{"other values", "identifier=a,b", "identifier=a,c", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ka, kb := claimKey(t, s, tc.a), claimKey(t, s, tc.b)
			if ka == "" || kb == "" {
				t.Fatalf("no key: %q, %q", ka, kb)
			}
			if (ka == kb) != tc.same {
				t.Errorf("ClaimKey(%s) = %q, ClaimKey(%s) = %q; same = %v, want %v", tc.a, ka, tc.b, kb, ka == kb, tc.same)
			}
		})
	}
	for _, query := range []string{"colour=blue", "identifier=a&_count=1", "identifier=a&_sort=_id", "birthdate=never", "_contained=false&identifier=a"} {
		if k := claimKey(t, s, query); k != "" {
			t.Errorf("ClaimKey(%s) = %q, want none", query, k)
		}
	}
}

func claimKey(t *testing.T, s *Searcher, query string) string {
	t.Helper()
	params, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	return s.ClaimKey("Patient", params)
}

// testTerminology is the terminology of production: R4's and the guide's value sets and code systems.
func testTerminology(t *testing.T) Terminology {
	t.Helper()
	v, err := validate.New(os.DirFS("../../profiles"), validate.Options{Files: []string{"r4/terminology.json.gz", "ig/ValueSet-*.json", "ig/CodeSystem-*.json"}})
	if err != nil {
		t.Fatalf("validate.New: %v", err)
	}
	cat, err := conformance.Load(os.DirFS("../../profiles"), time.Now(), "ig/*.json")
	if err != nil {
		t.Fatalf("conformance.Load: %v", err)
	}
	return conformance.NewTerminology(cat, v.Terminology())
}

// TestPlan_TerminologyModifiers checks the conditions of :in, :not-in, :below and :above: the keys of the codes,
// with and without a system, and the errors that name the parameter.
func TestPlan_TerminologyModifiers(t *testing.T) {
	const clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	keys := func(codes ...string) []any {
		var out []any
		for _, c := range codes {
			out = append(out, clinical+"|"+c, "|"+c)
		}
		return out
	}
	terms := testTerminology(t)
	for _, tc := range []struct {
		name, query string
		maxCodes    int
		noTerms     bool
		want        store.Cond
		wantErr     fhir.IssueType
	}{
		{name: ":in", query: "clinical-status:in=http://hl7.org/fhir/ValueSet/condition-clinical",
			want: store.Cond{Field: "sp_clinical-status", Op: store.OpEq, Values: keys("active", "inactive", "recurrence", "relapse", "remission", "resolved")}},
		{name: ":not-in is :in negated", query: "clinical-status:not-in=http://hl7.org/fhir/ValueSet/condition-clinical",
			want: store.Cond{Field: "sp_clinical-status", Op: store.OpEq, Values: keys("active", "inactive", "recurrence", "relapse", "remission", "resolved"), Not: true}},
		{name: ":below", query: "clinical-status:below=" + clinical + "|inactive",
			want: store.Cond{Field: "sp_clinical-status", Op: store.OpEq, Values: keys("inactive", "remission", "resolved")}},
		{name: ":above, two alternatives", query: "clinical-status:above=" + clinical + "|relapse," + clinical + "|resolved",
			want: store.Cond{Or: []store.Cond{{Field: "sp_clinical-status", Op: store.OpEq, Values: keys("active", "relapse")},
				{Field: "sp_clinical-status", Op: store.OpEq, Values: keys("inactive", "resolved")}}}},
		{name: "too many codes", query: "clinical-status:in=http://hl7.org/fhir/ValueSet/condition-clinical", maxCodes: 5, wantErr: fhir.IssueTooCostly},
		{name: "unknown value set", query: "clinical-status:in=http://example.org/ValueSet/nope", wantErr: fhir.IssueInvalid},
		{name: "value set of SNOMED CT", query: "code:not-in=http://hl7.org/fhir/ValueSet/condition-code", wantErr: fhir.IssueNotSupported},
		{name: "SNOMED CT hierarchy", query: "code:below=http://snomed.info/sct|404684003", wantErr: fhir.IssueNotSupported},
		{name: "no terminology", query: "clinical-status:above=" + clinical + "|relapse", noTerms: true, wantErr: fhir.IssueNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.MaxCodes = tc.maxCodes
			if !tc.noTerms {
				opts.Terminology = terms
			}
			s := New(nil, testRegistry(t), opts)
			params, _ := url.ParseQuery(tc.query)
			q, err := s.reg.Parse("Condition", params, fhirsearch.ParseOptions{Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			pl := &planner{s: s, ctx: context.Background(), now: time.Now()}
			conds, err := pl.conds(q.Criteria)
			if tc.wantErr != "" {
				fe, ok := fhir.AsError(err)
				name, _, _ := strings.Cut(tc.query, "=")
				if !ok || fe.Code != tc.wantErr || !slices.Equal(fe.Issues[0].Expression, []string{name}) {
					t.Errorf("err = %v, want %s naming %s", err, tc.wantErr, name)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]store.Cond{tc.want}, conds); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIncludes_Parse: every value the CapabilityStatement advertises for _include and _revinclude parses.
func TestIncludes_Parse(t *testing.T) {
	s := New(nil, testRegistry(t), DefaultOptions())
	for _, typ := range fhir.ResourceTypes() {
		for _, p := range []struct {
			name string
			list []string
		}{{"_include", s.Includes(typ)}, {"_revinclude", s.RevIncludes(typ)}} {
			for _, v := range p.list {
				if _, err := s.reg.Parse(typ, url.Values{p.name: {v}}, fhirsearch.ParseOptions{Strict: true}); err != nil {
					t.Errorf("%s?%s=%s: %v", typ, p.name, v, err)
				}
			}
		}
	}
	for _, tc := range []struct {
		typ         string
		rev         bool
		has, hasNot []string
	}{
		{typ: "Patient", has: []string{"*", "Patient:general-practitioner", "Patient:link", "Patient:organization"}, hasNot: []string{"Patient:name"}},
		{typ: "Patient", rev: true, has: []string{"Observation:subject", "Observation:performer", "Task:patient", "Provenance:target", "Patient:link"},
			hasNot: []string{"Encounter:practitioner", "Observation:specimen"}},
		{typ: "Organization", rev: true, has: []string{"Task:owner", "Patient:organization"}, hasNot: []string{"Observation:subject"}},
	} {
		got := s.Includes(tc.typ)
		if tc.rev {
			got = s.RevIncludes(tc.typ)
		}
		if !slices.IsSorted(got[1:]) {
			t.Errorf("%s (rev %v): not sorted: %v", tc.typ, tc.rev, got)
		}
		for _, v := range tc.has {
			if !slices.Contains(got, v) {
				t.Errorf("%s (rev %v): no %s in %v", tc.typ, tc.rev, v, got)
			}
		}
		for _, v := range tc.hasNot {
			if slices.Contains(got, v) {
				t.Errorf("%s (rev %v): %s is listed", tc.typ, tc.rev, v)
			}
		}
	}
}
