package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRegistry_FileClientsWinAndAreFixed(t *testing.T) {
	ctx := context.Background()
	key := mustJWK(t, &mustECKey(t).PublicKey)
	client := func(id string, role Role, orgs ...string) Client {
		return Client{ID: id, Role: role, Organizations: orgs, Scopes: []string{"system/Task.rs"}, JWKS: &JWKS{Keys: []JWK{key}}}
	}
	stored, err := NewMemoryClients(client("shared", RoleGP, "G85001"), client("api-only", RoleProvider, "RJ2"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry([]Client{client("shared", RoleProvider, "RJ1"), client("file-only", RoleAdmin)}, stored)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := reg.Get(ctx, "shared"); err != nil || c.Role != RoleProvider {
		t.Errorf("Get(shared) = %v, %v; want the file's provider", c.Role, err)
	}
	if c, err := reg.Get(ctx, "api-only"); err != nil || c.Role != RoleProvider {
		t.Errorf("Get(api-only) = %v, %v", c, err)
	}
	if _, err := reg.Get(ctx, "nobody"); !errors.Is(err, ErrClientNotFound) {
		t.Errorf("Get(nobody) = %v", err)
	}
	list, err := reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, string(c.Role)+":"+c.ID)
	}
	if diff := cmp.Diff([]string{"provider-system:api-only", "admin:file-only", "provider-system:shared"}, ids); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if hidden, err := reg.Hidden(ctx); err != nil || !cmp.Equal(hidden, []string{"shared"}) {
		t.Errorf("Hidden = %v, %v", hidden, err)
	}
	for _, err := range []error{reg.Put(ctx, client("file-only", RoleAdmin)), reg.Delete(ctx, "shared")} {
		if !errors.Is(err, ErrClientInFile) {
			t.Errorf("changing a file client: %v, want ErrClientInFile", err)
		}
	}
	if err := reg.Put(ctx, client("new", RoleGP, "G1234")); err != nil {
		t.Errorf("Put(new) = %v", err)
	}
	if err := reg.Delete(ctx, "api-only"); err != nil {
		t.Errorf("Delete(api-only) = %v", err)
	}
	if _, err := NewRegistry([]Client{client("x", RoleAdmin), client("x", RoleAdmin)}, stored); err == nil {
		t.Error("NewRegistry accepted a client id twice")
	}
}
