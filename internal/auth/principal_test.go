package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/google/go-cmp/cmp"
)

func TestPrincipal_Check(t *testing.T) {
	p := Principal{ClientID: "gp", Role: RoleGP, Organizations: []string{"G85001"},
		Scopes: mustScopes(t, "system/Task.rs")}
	if err := p.Check("Task", InteractionSearch); err != nil {
		t.Errorf("Check(Task, search) = %v, want nil", err)
	}
	err := p.Check("Task", InteractionUpdate)
	fe, ok := fhir.AsError(err)
	if !ok || fe.Code != fhir.IssueForbidden || !strings.Contains(fe.Error(), "system/Task.u") {
		t.Errorf("Check(Task, update) = %v, want a forbidden error naming system/Task.u", err)
	}
}

func TestPrincipal_Predicates(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		p                     Principal
		actsForRJ1, pseudonym bool
		allowsPatientDelete   bool
	}{
		{"provider", Principal{Role: RoleProvider, Organizations: []string{"RJ1"}}, true, false, false},
		{"other provider", Principal{Role: RoleProvider, Organizations: []string{"RJ2"}}, false, false, false},
		{"analyst", Principal{Role: RoleAnalyst, Organizations: []string{"RJ1"}}, true, true, false},
		{"identifiable analyst", Principal{Role: RoleAnalyst, Identifiable: true}, false, false, false},
		{"auth off", AuthOff(), true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.ActsFor("RJ1"); got != tc.actsForRJ1 {
				t.Errorf("ActsFor(RJ1) = %v, want %v", got, tc.actsForRJ1)
			}
			if got := tc.p.Pseudonymised(); got != tc.pseudonym {
				t.Errorf("Pseudonymised() = %v, want %v", got, tc.pseudonym)
			}
			if got := tc.p.Allows("Patient", InteractionDelete); got != tc.allowsPatientDelete {
				t.Errorf("Allows(Patient, delete) = %v, want %v", got, tc.allowsPatientDelete)
			}
		})
	}
}

func TestContext_RoundTrip(t *testing.T) {
	if _, ok := PrincipalFrom(context.Background()); ok {
		t.Error("PrincipalFrom(empty context): ok = true, want false")
	}
	want := Principal{ClientID: "x", Role: RoleAdmin, Scopes: mustScopes(t, "system/AuditEvent.rs")}
	got, ok := PrincipalFrom(NewContext(context.Background(), want))
	if !ok {
		t.Fatal("PrincipalFrom: ok = false")
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(Scope{})); diff != "" {
		t.Errorf("PrincipalFrom (-want +got):\n%s", diff)
	}
}
