package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/auth"
)

// registration is the JSON of a client registration for the admin API.
func registration(t testing.TB, c *apitest.Client) string {
	t.Helper()
	return string(mustJSON(t, c.Client))
}

func TestAdmin_Clients_CRUD(t *testing.T) {
	s := startSecured(t)
	newcomer := apitest.NewClient(t, "rj3-epr", auth.RoleProvider, []string{"RJ3"}, "system/Task.rs")
	put := func(body string) *apitest.Response {
		return s.as(t, adminOps, "PUT", "/admin/clients/rj3-epr", body, "Content-Type", "application/json")
	}
	wantStatus(t, put(registration(t, newcomer)), http.StatusCreated, "register")
	r := s.as(t, adminOps, "GET", "/admin/clients/rj3-epr", nil)
	wantStatus(t, r, http.StatusOK, "read")
	var got auth.Client
	if err := json.Unmarshal(r.Body, &got); err != nil || got.ID != "rj3-epr" || got.Role != auth.RoleProvider || got.JWKS == nil {
		t.Fatalf("read back %s (%v)", r.Body, err)
	}
	// The new client gets a token at once, and uses it.
	tok := s.Token(t, newcomer, "system/Task.rs")
	wantStatus(t, s.DoAs(t, tok, "GET", "/Task", nil), http.StatusOK, "the new client's request")

	r = s.as(t, adminOps, "GET", "/admin/clients", nil)
	wantStatus(t, r, http.StatusOK, "list")
	var list struct{ Clients []auth.Client }
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list.Clients {
		ids = append(ids, c.ID)
	}
	if !hasString(ids, "rj3-epr") || !hasString(ids, provRJ1) || !hasString(ids, adminOps) {
		t.Errorf("list holds %v", ids)
	}

	// Narrowing the registration narrows the tokens already issued.
	newcomer.Scopes = []string{"system/Patient.rs"}
	wantStatus(t, put(registration(t, newcomer)), http.StatusOK, "replace")
	wantIssue(t, s.DoAs(t, tok, "GET", "/Task", nil), http.StatusForbidden, "forbidden", "the old token after narrowing")

	wantStatus(t, s.as(t, adminOps, "DELETE", "/admin/clients/rj3-epr", nil), http.StatusNoContent, "delete")
	wantIssue(t, s.DoAs(t, tok, "GET", "/Patient", nil), http.StatusUnauthorized, "login", "the token of a deleted client")
	wantIssue(t, s.as(t, adminOps, "GET", "/admin/clients/rj3-epr", nil), http.StatusNotFound, "not-found", "read after delete")
	wantIssue(t, s.as(t, adminOps, "DELETE", "/admin/clients/rj3-epr", nil), http.StatusNotFound, "not-found", "delete twice")
	r = s.PostToken(t, auth.ClientCredentialsForm(s.Assertion(t, newcomer), "system/Patient.rs"))
	if r.Status != http.StatusUnauthorized {
		t.Errorf("token for a deleted client: %d %s", r.Status, r.Body)
	}
}

func TestAdmin_Clients_BadInputAndRefusals(t *testing.T) {
	s := startSecured(t)
	good := registration(t, apitest.NewClient(t, "rj3-epr", auth.RoleProvider, []string{"RJ3"}, "system/Task.rs"))
	for _, tc := range []struct {
		name, client, method, path, body string
		status                           int
		code, mention                    string
	}{
		{"provider lists clients", provRJ1, "GET", "/admin/clients", "", 403, "forbidden", "admin"},
		{"GP registers a client", gpG85001, "PUT", "/admin/clients/rj3-epr", good, 403, "forbidden", "admin"},
		{"analyst deletes a client", analystICB, "DELETE", "/admin/clients/" + provRJ1, "", 403, "forbidden", "admin"},
		{"not JSON", adminOps, "PUT", "/admin/clients/rj3-epr", "{", 400, "value", "JSON"},
		{"unknown role", adminOps, "PUT", "/admin/clients/rj3-epr", strings.Replace(good, "provider-system", "superuser", 1), 400, "value", "role"},
		{"unknown member", adminOps, "PUT", "/admin/clients/rj3-epr", strings.Replace(good, `"organizations"`, `"organisations"`, 1), 400, "value", "organisations"},
		{"malformed JWKS", adminOps, "PUT", "/admin/clients/rj3-epr", `{"client_id":"rj3-epr","role":"provider-system","organizations":["RJ3"],"scopes":["system/Task.rs"],"jwks":{"keys":[{"kty":"EC","kid":"k","crv":"P-384","x":"!!","y":"AA"}]}}`, 400, "value", "jwks.keys[0]"},
		{"JWKS not an object", adminOps, "PUT", "/admin/clients/rj3-epr", `{"client_id":"rj3-epr","role":"provider-system","organizations":["RJ3"],"scopes":["system/Task.rs"],"jwks":"keys"}`, 400, "value", "jwks"},
		{"private key registered", adminOps, "PUT", "/admin/clients/rj3-epr", strings.Replace(good, `"kty":"EC"`, `"kty":"EC","d":"AAAA"`, 1), 400, "value", "private"},
		{"bad scope", adminOps, "PUT", "/admin/clients/rj3-epr", strings.Replace(good, "system/Task.rs", "user/Task.rs", 1), 400, "value", "scopes[0]"},
		{"id differs from the URL", adminOps, "PUT", "/admin/clients/other", good, 400, "invalid", "client_id"},
		{"client of the clients file", adminOps, "PUT", "/admin/clients/" + provRJ1, strings.Replace(good, "rj3-epr", provRJ1, 1), 409, "conflict", "clients file"},
		{"delete a client of the clients file", adminOps, "DELETE", "/admin/clients/" + provRJ1, "", 409, "conflict", "clients file"},
		{"read an unknown client", adminOps, "GET", "/admin/clients/nobody", "", 404, "not-found", "client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := s.as(t, tc.client, tc.method, tc.path, body, "Content-Type", "application/json")
			oo := wantIssue(t, r, tc.status, tc.code, tc.name)
			if !strings.Contains(string(mustJSON(t, oo)), tc.mention) {
				t.Errorf("the OperationOutcome does not mention %q: %s", tc.mention, r.Body)
			}
		})
	}
	// The refused registrations left nothing behind.
	wantIssue(t, s.as(t, adminOps, "GET", "/admin/clients/rj3-epr", nil), http.StatusNotFound, "not-found", "after refusals")
}
