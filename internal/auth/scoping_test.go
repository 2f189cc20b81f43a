package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	pending := map[string]fhir.Object{
		"Organization/new":   obj(t, `{"identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}]}`),
		"Organization/other": obj(t, `{"identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ2"}]}`),
	}
	odsRJ2 := `"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ2"}`
	ods := func(code string) string {
		return `{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"` + code + `"}`
	}
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
		{"its own Organization with another identifier system", "Organization", `{"identifier":[` + ods("RJ1") + `,{"system":"x","value":"RJ2"}]}`, rj1, true},
		{"an Organization also carrying another's ODS code", "Organization", `{"identifier":[` + ods("RJ1") + `,` + ods("RJ2") + `]}`, rj1, false},
		{"an Organization with a malformed ODS code beside its own", "Organization", `{"identifier":[` + ods("RJ1") + `,` + ods("rj 2") + `]}`, rj1, false},
		{"an Organization without an ODS code", "Organization", `{"identifier":[{"system":"x","value":"RJ1"}]}`, rj1, false},
		{"reference and identifier both its own", "Task", `{"requester":{"reference":"Organization/new",` + odsRJ1[1:] + `}`, rj1, true},
		{"its code with another's Organization", "Task", `{"requester":{"reference":"Organization/other",` + odsRJ1[1:] + `}`, rj1, false},
		{"its Organization with another's code", "Task", `{"requester":{"reference":"Organization/new",` + odsRJ2 + `}}`, rj1, false},
		{"its code with an unknown Organization", "Task", `{"requester":{"reference":"Organization/unknown",` + odsRJ1[1:] + `}`, rj1, false},
		{"a mixed owner beside its own requester", "Task", `{"requester":` + odsRJ1 + `,"owner":{"reference":"Organization/other",` + odsRJ1[1:] + `}`, rj1, false},
		{"another's owner beside its own requester", "Task", `{"requester":` + odsRJ1 + `,"owner":{"reference":"Organization/other",` + odsRJ2 + `}}`, rj1, true},
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
	err = s.WritesAs(context.Background(), rj1, "Communication", obj(t, `{"sender":{"reference":"Organization/other",`+odsRJ1[1:]+`}`), pending)
	if fe, _ := fhir.AsError(err); fe == nil || !slices.Equal(fe.Issues[0].Expression, []string{"Communication.sender"}) ||
		!strings.Contains(fe.Error(), "must name the same organisation") {
		t.Errorf("the refusal of a mixed Reference does not say so at Communication.sender: %v", err)
	}
	err = s.WritesAs(context.Background(), rj1, "Organization", obj(t, `{"identifier":[`+ods("RJ1")+`,`+ods("RJ2")+`]}`), nil)
	if fe, _ := fhir.AsError(err); fe == nil || !slices.Equal(fe.Issues[0].Expression, []string{"Organization.identifier[1]"}) {
		t.Errorf("the refusal of a foreign ODS code does not name its identifier: %v", err)
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

// fakeSource is a Source over resources held as JSON by "Type/id"; it counts reads and finds, and fails the reads
// of failing.
type fakeSource struct {
	resources map[string]string
	failing   string
	reads     int
	finds     int
}

func (f *fakeSource) Read(_ context.Context, typ, id string) (fhir.Resource, error) {
	f.reads++
	ref := typ + "/" + id
	if ref == f.failing {
		return fhir.Resource{}, errors.New("disk on fire")
	}
	js, ok := f.resources[ref]
	if !ok {
		return fhir.Resource{}, fmt.Errorf("%s: %w", ref, store.ErrNotFound)
	}
	return fhir.Resource{Type: typ, ID: id, JSON: []byte(js)}, nil
}

// Find returns the Organizations whose ODS identifier is among those of the (only) condition.
func (f *fakeSource) Find(_ context.Context, typ string, q store.Query) (store.FindPage, error) {
	f.finds++
	var page store.FindPage
	for ref, js := range f.resources {
		t, id, _ := strings.Cut(ref, "/")
		if t != typ || len(q.Conds) != 1 {
			continue
		}
		var o fhir.Object
		if err := json.Unmarshal([]byte(js), &o); err != nil {
			return page, err
		}
		for _, code := range selfCodes(o) {
			if slices.Contains(q.Conds[0].Values, any(code)) {
				page.Resources = append(page.Resources, fhir.Resource{Type: t, ID: id, JSON: []byte(js)})
			}
		}
	}
	return page, nil
}

// ods is a logical Reference to the organisation of an ODS code, as JSON.
func ods(code string) string {
	return `{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"` + code + `"}}`
}

// viaDirectory is a store of the resources Appointments are resolved through.
func viaDirectory() *fakeSource {
	return &fakeSource{resources: map[string]string{
		"Organization/org-rj1":   `{"identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}]}`,
		"HealthcareService/hs1":  `{"providedBy":{"reference":"Organization/org-rj1"}}`,
		"HealthcareService/bare": `{"name":"no provider"}`,
		"PractitionerRole/pr2":   `{"organization":` + ods("RJ2") + `}`,
		"Location/loc3":          `{"managingOrganization":` + ods("R9Z") + `}`,
		"ServiceRequest/sr1":     `{"performer":[{"reference":"Organization/org-rj1"},{"reference":"Practitioner/x"}],"requester":` + ods("G85001") + `}`,
		"Patient/p1":             `{"generalPractitioner":[` + ods("Y90001") + `]}`,
		"Task/t1":                `{"owner":` + ods("RJ2") + `}`,
	}}
}

func TestScoping_Tokens_Via(t *testing.T) {
	for _, tc := range []struct {
		name, typ, res string
		want           []string
		reads          int
	}{
		{"HealthcareService provider", "Appointment", `{"participant":[{"actor":{"reference":"HealthcareService/hs1"}}]}`,
			[]string{"Organization/org-rj1"}, 1},
		{"PractitionerRole organisation", "Appointment", `{"participant":[{"actor":{"reference":"PractitionerRole/pr2"}}]}`,
			[]string{"RJ2"}, 1},
		{"Location managing organisation", "Appointment", `{"participant":[{"actor":{"reference":"Location/loc3"}}]}`,
			[]string{"R9Z"}, 1},
		{"referral performer and requester", "Appointment", `{"basedOn":[{"reference":"ServiceRequest/sr1"}]}`,
			[]string{"G85001", "Organization/org-rj1"}, 1},
		{"with the patient's GP practice, a reference read once", "Appointment",
			`{"participant":[{"actor":{"reference":"Patient/p1"}},{"actor":{"reference":"HealthcareService/hs1"}},` +
				`{"actor":{"reference":"HealthcareService/hs1/_history/4"}}]}`,
			[]string{"Organization/org-rj1", "Y90001"}, 2},
		{"missing target", "Appointment", `{"participant":[{"actor":{"reference":"HealthcareService/gone"}}]}`, nil, 1},
		{"target naming no organisation", "Appointment", `{"participant":[{"actor":{"reference":"HealthcareService/bare"}}]}`, nil, 1},
		{"type not followed", "Appointment",
			`{"participant":[{"actor":{"reference":"Practitioner/x"}}],"basedOn":[{"reference":"CarePlan/c"},{"reference":"Task/t1"}]}`, nil, 0},
		{"logical and absolute references not followed", "Appointment",
			`{"participant":[{"actor":{"identifier":{"system":"x","value":"hs1"}}},{"actor":{"reference":"https://elsewhere/HealthcareService/hs1"}}]}`, nil, 0},
		{"other types unchanged", "Task", `{"basedOn":[{"reference":"ServiceRequest/sr1"}],"focus":{"reference":"HealthcareService/hs1"}}`, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := viaDirectory()
			s := NewScoping(src)
			got, err := s.Tokens(context.Background(), tc.typ, obj(t, tc.res))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Tokens (-want +got):\n%s", diff)
			}
			if src.reads != tc.reads {
				t.Errorf("%d reads, want %d", src.reads, tc.reads)
			}
		})
	}
}

func TestScoping_Tokens_ViaWithoutSource(t *testing.T) {
	got, err := NewScoping(nil).Tokens(context.Background(), "Appointment", obj(t, `{"participant":[{"actor":{"reference":"HealthcareService/hs1"}}]}`))
	if err != nil || got != nil {
		t.Errorf("Tokens = %v, %v; want none", got, err)
	}
}

func TestScoping_Tokens_ViaBoundedAndCached(t *testing.T) {
	src := viaDirectory()
	s := NewScoping(src)
	var actors []string
	for i := range 3 * maxViaReads {
		actors = append(actors, fmt.Sprintf(`{"actor":{"reference":"Location/l%d"}}`, i))
	}
	appt := obj(t, `{"participant":[`+strings.Join(actors, ",")+`]}`)
	if _, err := s.Tokens(context.Background(), "Appointment", appt); err != nil {
		t.Fatal(err)
	}
	if src.reads != maxViaReads {
		t.Errorf("%d reads for %d references, want %d", src.reads, len(actors), maxViaReads)
	}
	src.reads = 0
	hs := obj(t, `{"participant":[{"actor":{"reference":"HealthcareService/hs1"}}]}`)
	for range 3 {
		got, err := s.Tokens(context.Background(), "Appointment", hs)
		if err != nil || !slices.Equal(got, []string{"Organization/org-rj1"}) {
			t.Fatalf("Tokens = %v, %v", got, err)
		}
	}
	if src.reads != 1 {
		t.Errorf("%d reads of one HealthcareService, want 1 (cached)", src.reads)
	}
	// A HealthcareService written through this process: its cached provider is forgotten once the write is decided.
	src.resources["HealthcareService/hs1"] = `{"providedBy":` + ods("RJ2") + `}`
	s.Forget("HealthcareService", "hs1")
	got, err := s.Tokens(context.Background(), "Appointment", hs)
	if err != nil || !slices.Equal(got, []string{"RJ2"}) || src.reads != 2 {
		t.Errorf("after the HealthcareService changed: Tokens = %v, %v (%d reads), want [RJ2] read again", got, err, src.reads)
	}
}

func TestScoping_Tokens_ViaReadError(t *testing.T) {
	src := viaDirectory()
	src.failing = "HealthcareService/hs1"
	_, err := NewScoping(src).Tokens(context.Background(), "Appointment", obj(t, `{"participant":[{"actor":{"reference":"HealthcareService/hs1"}}]}`))
	if err == nil || !strings.Contains(err.Error(), "HealthcareService/hs1") {
		t.Errorf("Tokens error = %v, want one naming HealthcareService/hs1", err)
	}
}

func TestScoping_WritesAs_Via(t *testing.T) {
	rj1 := Principal{ClientID: "rj1", Role: RoleProvider, Organizations: []string{"RJ1"}}
	rj2 := Principal{ClientID: "rj2", Role: RoleProvider, Organizations: []string{"RJ2"}}
	pending := map[string]fhir.Object{"HealthcareService/new": obj(t, `{"providedBy":`+ods("RJ2")+`}`)}
	for _, tc := range []struct {
		name, typ, res string
		p              Principal
		ok             bool
	}{
		{"its HealthcareService, by Organization reference", "Appointment", `{"participant":[{"actor":{"reference":"HealthcareService/hs1"}}]}`, rj1, true},
		{"another's HealthcareService", "Appointment", `{"participant":[{"actor":{"reference":"HealthcareService/hs1"}}]}`, rj2, false},
		{"its PractitionerRole", "Appointment", `{"participant":[{"actor":{"reference":"PractitionerRole/pr2"}}]}`, rj2, true},
		{"a referral it performs", "Appointment", `{"basedOn":[{"reference":"ServiceRequest/sr1"}]}`, rj1, true},
		{"a referral of others", "Appointment", `{"basedOn":[{"reference":"ServiceRequest/sr1"}]}`, rj2, false},
		{"one of several actors", "Appointment",
			`{"participant":[{"actor":{"reference":"Location/loc3"}},{"actor":{"reference":"PractitionerRole/pr2"}}]}`, rj2, true},
		{"a HealthcareService of the same transaction", "Appointment", `{"participant":[{"actor":{"reference":"HealthcareService/new"}}]}`, rj2, true},
		{"a missing HealthcareService", "Appointment", `{"participant":[{"actor":{"reference":"HealthcareService/gone"}}]}`, rj1, false},
		{"only the patient", "Appointment", `{"participant":[{"actor":{"reference":"Patient/p1"}}]}`, rj1, false},
		{"other types unchanged", "Task", `{"basedOn":[{"reference":"ServiceRequest/sr1"}]}`, rj1, false},
		{"administrator", "Appointment", `{}`, Principal{Role: RoleAdmin}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NewScoping(viaDirectory()).WritesAs(context.Background(), tc.p, tc.typ, obj(t, tc.res), pending)
			if (err == nil) != tc.ok {
				t.Fatalf("WritesAs = %v, want ok %v", err, tc.ok)
			}
			if fe, isFHIR := fhir.AsError(err); err != nil && (!isFHIR || fe.Code != fhir.IssueForbidden) {
				t.Errorf("WritesAs error %v is not forbidden", err)
			}
		})
	}
	err := NewScoping(viaDirectory()).WritesAs(context.Background(), rj1, "Appointment", obj(t, `{}`), nil)
	fe, _ := fhir.AsError(err)
	if fe == nil || !strings.Contains(fe.Error(), "HealthcareService.providedBy") ||
		!slices.Equal(fe.Issues[0].Expression, []string{"Appointment.participant.actor", "Appointment.basedOn"}) {
		t.Errorf("the refusal does not name the elements an Appointment is written through: %v", err)
	}
}

func TestScoping_Visibility_Via(t *testing.T) {
	s := NewScoping(viaDirectory())
	appt := obj(t, `{"participant":[{"actor":{"reference":"Patient/p1"}},{"actor":{"reference":"HealthcareService/hs1"}}]}`)
	for _, tc := range []struct {
		name string
		p    Principal
		want bool
	}{
		{"provider of the HealthcareService (by its Organization)", Principal{Role: RoleProvider, Organizations: []string{"RJ1"}}, true},
		{"another provider", Principal{Role: RoleProvider, Organizations: []string{"RJ2"}}, false},
		{"the patient's GP practice", Principal{Role: RoleGP, Organizations: []string{"Y90001"}}, true},
		{"another GP practice", Principal{Role: RoleGP, Organizations: []string{"G85001"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := s.Visibility(context.Background(), tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := v.Sees(context.Background(), "Appointment", appt); err != nil || got != tc.want {
				t.Errorf("Sees = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestScopingRules_Via(t *testing.T) {
	for typ, r := range ScopingRules() {
		for _, via := range r.Via {
			if via.Path == "" || strings.HasPrefix(via.Path, ".") || strings.HasSuffix(via.Path, ".") {
				t.Errorf("%s: via path %q is not relative to the resource", typ, via.Path)
			}
			if len(via.Targets) == 0 {
				t.Errorf("%s: via %s follows no type", typ, via.Path)
			}
			for target, paths := range via.Targets {
				if !fhir.IsResourceType(target) || ScopingRules()[target].Via != nil {
					t.Errorf("%s: via %s: %s is not a resource type resolved in one level", typ, via.Path, target)
				}
				if len(paths) == 0 || slices.Contains(paths, "") {
					t.Errorf("%s: via %s: no organisation elements of %s", typ, via.Path, target)
				}
			}
		}
	}
	if len(ScopingRules()["Appointment"].Via) != 2 {
		t.Error("Appointments are not resolved through their actors and referrals")
	}
}
