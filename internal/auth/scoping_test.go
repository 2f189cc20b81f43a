package auth

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// obj decodes a resource for the tests.
func obj(t testing.TB, s string) fhir.Object {
	t.Helper()
	var o fhir.Object
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

const odsRJ1 = `{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}}`

func TestScoping_Tokens(t *testing.T) {
	s := NewScoping(nil)
	for _, tc := range []struct {
		name, typ, res string
		want           []string
	}{
		{"owner by code, requester by reference", "Task",
			`{"owner":` + odsRJ1 + `,"requester":{"reference":"Organization/o2/_history/3"}}`, []string{"Organization/o2", "RJ1"}},
		{"recipient list", "Task", `{"restriction":{"recipient":[{"reference":"Organization/a"},{"reference":"Practitioner/p"}]}}`,
			[]string{"Organization/a"}},
		{"nested repeating path", "Procedure", `{"performer":[{"actor":{"reference":"Organization/a"}},{"onBehalfOf":` + odsRJ1 + `}]}`,
			[]string{"Organization/a", "RJ1"}},
		{"not an ODS code", "Task", `{"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"rj1 or 1=1"}}}`, nil},
		{"another identifier system", "Task", `{"owner":{"identifier":{"system":"https://example.org","value":"RJ1"}}}`, nil},
		{"absolute reference ignored", "Task", `{"owner":{"reference":"https://elsewhere/fhir/Organization/a"}}`, nil},
		{"patient's GP practice", "Patient", `{"generalPractitioner":[` + odsRJ1 + `],"managingOrganization":{"reference":"Organization/m"}}`,
			[]string{"Organization/m", "RJ1"}},
		{"shared directory", "Organization", `{"identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}]}`, nil},
		{"wrong JSON shapes", "Task", `{"owner":"RJ1","requester":[1,2],"restriction":{"recipient":{"reference":7}}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Tokens(context.Background(), tc.typ, obj(t, tc.res))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Tokens (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScoping_Index_OrganizationCodes(t *testing.T) {
	fields, err := NewScoping(nil).Index(context.Background(), "Organization", obj(t,
		`{"identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"},{"system":"x","value":"Y"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{FieldODS: []string{"RJ1"}}, fields); diff != "" {
		t.Errorf("Index (-want +got):\n%s", diff)
	}
}

func TestScoping_WritesAs(t *testing.T) {
	s := NewScoping(nil)
	rj1 := Principal{ClientID: "rj1", Role: RoleProvider, Organizations: []string{"RJ1"}}
	pending := map[string]fhir.Object{"Organization/new": obj(t, `{"identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}]}`)}
	for _, tc := range []struct {
		name, typ, res string
		p              Principal
		ok             bool
	}{
		{"requester by code", "Task", `{"requester":` + odsRJ1 + `}`, rj1, true},
		{"owner by code", "Task", `{"owner":` + odsRJ1 + `}`, rj1, true},
		{"recipient only (not a writer element)", "Task", `{"restriction":{"recipient":[` + odsRJ1 + `]}}`, rj1, false},
		{"another organisation", "Task", `{"requester":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ2"}}}`, rj1, false},
		{"an Organization of the same transaction", "Task", `{"requester":{"reference":"Organization/new"}}`, rj1, true},
		{"an unknown Organization", "Task", `{"requester":{"reference":"Organization/unknown"}}`, rj1, false},
		{"its own Organization", "Organization", `{"identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}]}`, rj1, true},
		{"a type without writers", "Practitioner", `{}`, rj1, false},
		{"administrator", "Task", `{}`, Principal{Role: RoleAdmin}, true},
		{"auth off", "Practitioner", `{}`, AuthOff(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.WritesAs(context.Background(), tc.p, tc.typ, obj(t, tc.res), pending)
			if (err == nil) != tc.ok {
				t.Fatalf("WritesAs = %v, want ok %v", err, tc.ok)
			}
			if fe, isFHIR := fhir.AsError(err); err != nil && (!isFHIR || fe.Code != fhir.IssueForbidden) {
				t.Errorf("WritesAs error %v is not forbidden", err)
			}
		})
	}
	err := s.WritesAs(context.Background(), rj1, "Task", obj(t, `{}`), nil)
	if fe, _ := fhir.AsError(err); fe == nil || !strings.Contains(fe.Error(), "Task.requester") || len(fe.Issues[0].Expression) != 2 {
		t.Errorf("the refusal does not name the writer elements: %v", err)
	}
}

func TestScoping_Visibility_Conds(t *testing.T) {
	s := NewScoping(nil)
	for _, tc := range []struct {
		name string
		p    Principal
		typ  string
		want []store.Cond
	}{
		{"provider on a scoped type", Principal{Role: RoleProvider, Organizations: []string{"RJ1"}}, "Task",
			[]store.Cond{{Field: FieldACL, Op: store.OpEq, Values: []any{"RJ1"}}}},
		{"GP without organisations sees nothing", Principal{Role: RoleGP}, "Task",
			[]store.Cond{{Field: FieldACL, Op: store.OpEq, Values: []any{}}}},
		{"provider on the directory", Principal{Role: RoleProvider, Organizations: []string{"RJ1"}}, "Organization", nil},
		{"administrator", Principal{Role: RoleAdmin}, "Task", nil},
		{"auth off", AuthOff(), "Task", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := s.Visibility(context.Background(), tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, v.Conds(tc.typ)); diff != "" {
				t.Errorf("Conds (-want +got):\n%s", diff)
			}
			sees, err := v.Sees(context.Background(), tc.typ, obj(t, `{"owner":`+odsRJ1+`}`))
			if err != nil || sees != (tc.want == nil || len(tc.want[0].Values) > 0) {
				t.Errorf("Sees(owned by RJ1) = %v, %v", sees, err)
			}
		})
	}
}

func TestScopingRules_Paths(t *testing.T) {
	for typ, r := range ScopingRules() {
		if !fhir.IsResourceType(typ) {
			t.Errorf("%s is not an R4 resource type", typ)
		}
		if r.Shared && len(r.Patient) > 0 {
			t.Errorf("%s: shared types hold no patient data", typ)
		}
		for _, p := range append(append(append([]string{}, r.See...), r.Writers...), r.Patient...) {
			if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, typ) {
				t.Errorf("%s: path %q is not relative to the resource", typ, p)
			}
		}
	}
}
