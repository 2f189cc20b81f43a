package auth

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestScoping_Index_SourcesAndLends checks the fields that let the store index the resources about a patient (or
// based on a Via target) again when it changes: where each resource's organisations came from, and what a
// Patient or Via target lends.
func TestScoping_Index_SourcesAndLends(t *testing.T) {
	for _, tc := range []struct {
		name, typ, res string
		want           map[string]any
	}{
		{"Task about a patient", "Task", `{"owner":` + ods("RJ1") + `,"for":{"reference":"Patient/p1"}}`,
			map[string]any{FieldACL: []string{"RJ1", "Y90001"}, FieldSources: []string{"Patient/p1"}}},
		{"patient not stored: its id is a source all the same, and awaited", "Task", `{"owner":` + ods("RJ1") + `,"for":{"reference":"Patient/p9"}}`,
			map[string]any{FieldACL: []string{"RJ1"}, FieldSources: []string{"Patient/p9"}, FieldAwaits: []string{"Patient/p9"}}},
		{"Appointment through its referral and service", "Appointment",
			`{"participant":[{"actor":{"reference":"Patient/p1"}},{"actor":{"reference":"HealthcareService/hs1"}}],` +
				`"basedOn":[{"reference":"ServiceRequest/sr1"},{"reference":"ServiceRequest/missing"}]}`,
			map[string]any{FieldACL: []string{"G85001", "Organization/org-rj1", "Y90001"},
				FieldSources: []string{"HealthcareService/hs1", "Patient/p1", "ServiceRequest/missing", "ServiceRequest/sr1"},
				FieldAwaits:  []string{"ServiceRequest/missing"}}},
		{"Patient lends its GP practice", "Patient", `{"generalPractitioner":[` + ods("Y90001") + `,{"reference":"Organization/gp"}]}`,
			map[string]any{FieldACL: []string{"Organization/gp", "Y90001"},
				FieldLends: []string{"generalPractitioner=Organization/gp", "generalPractitioner=Y90001"}}},
		{"Patient without a practice lends nothing", "Patient", `{"managingOrganization":` + ods("RJ1") + `}`,
			map[string]any{FieldACL: []string{"RJ1"}}},
		{"ServiceRequest: about a patient, and lends its organisations to Appointments", "ServiceRequest",
			`{"subject":{"reference":"Patient/p1"},"requester":` + ods("RJ2") + `,"performer":[{"reference":"Organization/org-rj1"}]}`,
			map[string]any{FieldACL: []string{"Organization/org-rj1", "RJ2", "Y90001"}, FieldSources: []string{"Patient/p1"},
				FieldLends: []string{"performer,requester=Organization/org-rj1", "performer,requester=RJ2"}}},
		{"HealthcareService lends its provider", "HealthcareService", `{"providedBy":` + ods("RJ1") + `}`,
			map[string]any{FieldLends: []string{"providedBy=RJ1"}}},
		{"Organization", "Organization", `{"identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}]}`,
			map[string]any{FieldODS: []string{"RJ1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewScoping(viaDirectory()).Index(context.Background(), tc.typ, obj(t, tc.res))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Index (-want +got):\n%s", diff)
			}
		})
	}
}

// TestScoping_Forget checks that a write of a resource drops what the caches hold of it, and nothing else.
func TestScoping_Forget(t *testing.T) {
	task := `{"for":{"reference":"Patient/p1"}}`
	appt := `{"participant":[{"actor":{"reference":"HealthcareService/hs1"}}]}`
	for _, tc := range []struct {
		name, typ, id string
		// the resources changed in the source before the write is forgotten
		changed map[string]string
		// what a Task for p1 and an Appointment with hs1 then name
		task, appt []string
	}{
		{"the patient changes practice", "Patient", "p1", map[string]string{"Patient/p1": `{"generalPractitioner":[` + ods("G85001") + `]}`},
			[]string{"G85001"}, []string{"Organization/org-rj1"}},
		{"the service changes provider", "HealthcareService", "hs1", map[string]string{"HealthcareService/hs1": `{"providedBy":` + ods("RJ2") + `}`},
			[]string{"Y90001"}, []string{"RJ2"}},
		{"another patient", "Patient", "p2", map[string]string{"Patient/p1": `{}`},
			[]string{"Y90001"}, []string{"Organization/org-rj1"}},
		{"another type with the same id", "Task", "p1", map[string]string{"Patient/p1": `{}`},
			[]string{"Y90001"}, []string{"Organization/org-rj1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := viaDirectory()
			s := NewScoping(src)
			ctx := context.Background()
			for _, res := range []string{task, appt} { // fill the caches
				if _, err := s.Tokens(ctx, map[string]string{task: "Task", appt: "Appointment"}[res], obj(t, res)); err != nil {
					t.Fatal(err)
				}
			}
			for ref, js := range tc.changed {
				src.resources[ref] = js
			}
			s.Forget(tc.typ, tc.id)
			for _, c := range []struct {
				typ, res string
				want     []string
			}{{"Task", task, tc.task}, {"Appointment", appt, tc.appt}} {
				got, err := s.Tokens(ctx, c.typ, obj(t, c.res))
				if err != nil || !slices.Equal(got, c.want) {
					t.Errorf("%s Tokens = %v, %v; want %v", c.typ, got, err, c.want)
				}
			}
		})
	}
}

// TestScoping_Visibility_OrganizationsCached checks that the Organizations of a client's ODS codes are found once
// per set of codes within the TTL, and again after an Organization is written or the TTL has passed.
func TestScoping_Visibility_OrganizationsCached(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	src := viaDirectory()
	s := newScoping(src, func() time.Time { return now })
	ctx := context.Background()
	rj1 := Principal{Role: RoleProvider, Organizations: []string{"RJ1"}}
	for _, step := range []struct {
		name  string
		p     Principal
		setup func()
		want  []any // the FieldACL values Conds restricts Tasks to
		finds int   // the source's finds so far
	}{
		{"first request", rj1, nil, []any{"RJ1", "Organization/org-rj1"}, 1},
		{"second request: cached", rj1, nil, []any{"RJ1", "Organization/org-rj1"}, 1},
		{"the same codes in another order: cached", Principal{Role: RoleGP, Organizations: []string{"RJ1", "RJ1"}}, nil,
			[]any{"RJ1", "RJ1", "Organization/org-rj1"}, 1},
		{"other codes", Principal{Role: RoleProvider, Organizations: []string{"RJ2", "RJ1"}}, nil,
			[]any{"RJ2", "RJ1", "Organization/org-rj1"}, 2},
		{"an Organization is written: found again", rj1, func() {
			src.resources["Organization/org-rj1-new"] = `{"identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}]}`
			s.Forget("Organization", "org-rj1-new")
		}, []any{"RJ1", "Organization/org-rj1", "Organization/org-rj1-new"}, 3},
		{"another type written: still cached", rj1, func() { s.Forget("Patient", "org-rj1-new") },
			[]any{"RJ1", "Organization/org-rj1", "Organization/org-rj1-new"}, 3},
		{"past the TTL: found again", rj1, func() {
			delete(src.resources, "Organization/org-rj1-new") // changed by another process
			now = now.Add(cacheTTL + time.Second)
		}, []any{"RJ1", "Organization/org-rj1"}, 4},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.setup != nil {
				step.setup()
			}
			v, err := s.Visibility(ctx, step.p)
			if err != nil {
				t.Fatal(err)
			}
			got := v.Conds("Task")[0].Values
			if !cmp.Equal(sortedAnys(got), sortedAnys(step.want)) {
				t.Errorf("Conds values = %v, want %v", got, step.want)
			}
			if src.finds != step.finds {
				t.Errorf("%d finds, want %d", src.finds, step.finds)
			}
		})
	}
}

func sortedAnys(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i], _ = v.(string)
	}
	slices.Sort(out)
	return out
}

// TestScoping_AbsentPatientCached: a patient that is not stored is read once within the TTL, however many events
// name it; once it is written through this process (Forget), or the TTL has passed, it is read again.
func TestScoping_AbsentPatientCached(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	src := viaDirectory()
	s := newScoping(src, func() time.Time { return now })
	ctx := context.Background()
	task := obj(t, `{"for":{"reference":"Patient/p9"}}`)
	for _, step := range []struct {
		name  string
		act   func()
		reads int
		want  []string
	}{
		{"first event about p9: read, not stored", func() {}, 1, nil},
		{"more events about p9: not read again", func() {}, 0, nil},
		{"p9 stored and written through this process", func() {
			src.resources["Patient/p9"] = `{"generalPractitioner":[` + ods("G85001") + `]}`
			s.Forget("Patient", "p9")
		}, 1, []string{"G85001"}},
		{"p9 gone from the source; its practice stays cached", func() { delete(src.resources, "Patient/p9") }, 0, []string{"G85001"}},
		{"after the TTL, p9 is read again: not stored", func() { now = now.Add(cacheTTL + time.Second) }, 1, nil},
	} {
		step.act()
		src.reads = 0
		for range 3 {
			got, err := s.Tokens(ctx, "Task", task)
			if err != nil || !slices.Equal(got, step.want) {
				t.Fatalf("%s: Tokens = %v, %v; want %v", step.name, got, err, step.want)
			}
		}
		if src.reads != step.reads {
			t.Errorf("%s: %d reads of the patient, want %d", step.name, src.reads, step.reads)
		}
	}
}
