package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/google/go-cmp/cmp"
)

func TestMemoryClients_CRUD(t *testing.T) {
	ctx := context.Background()
	jwk := mustJWK(t, &mustECKey(t).PublicKey)
	a, b := testClient(jwk), testClient(jwk)
	b.ID = "aaa-first"
	m, err := NewMemoryClients(a, b)
	if err != nil {
		t.Fatal(err)
	}
	list, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Client{b, a}, list); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	got, err := m.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Scopes[0], got.JWKS.Keys[0].Kid = "system/*.*", "tampered" // must not reach the registry
	if again, _ := m.Get(ctx, a.ID); !cmp.Equal(a, again) {
		t.Errorf("a caller's edit changed the registry: %+v", again)
	}

	if err := m.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, a.ID); !errors.Is(err, ErrClientNotFound) {
		t.Errorf("Get after Delete err = %v, want ErrClientNotFound", err)
	}
	if err := m.Delete(ctx, a.ID); !errors.Is(err, ErrClientNotFound) {
		t.Errorf("Delete twice err = %v, want ErrClientNotFound", err)
	}
}

func TestMemoryClients_PutInvalid_OperationOutcomeIssues(t *testing.T) {
	m, err := NewMemoryClients()
	if err != nil {
		t.Fatal(err)
	}
	bad := testClient(JWK{Kty: "oct", Kid: "k"})
	bad.Organizations = []string{"rj1"}
	err = m.Put(context.Background(), bad)
	fe, ok := fhir.AsError(err)
	if !ok || fe.Code != fhir.IssueInvalid {
		t.Fatalf("Put err = %v, want a *fhir.Error of code invalid", err)
	}
	var exprs []string
	for _, is := range fe.Issues {
		exprs = append(exprs, is.Expression...)
	}
	if diff := cmp.Diff([]string{"organizations[0]", "jwks.keys[0]"}, exprs); diff != "" {
		t.Errorf("issue expressions (-want +got):\n%s", diff)
	}
	if _, err := m.Get(context.Background(), bad.ID); !errors.Is(err, ErrClientNotFound) {
		t.Errorf("an invalid client was registered: err = %v", err)
	}
}
