package auth

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

func TestParseClient(t *testing.T) {
	key := mustJWK(t, &mustECKey(t).PublicKey)
	good, _ := json.Marshal(Client{ID: "rj1", Role: RoleProvider, Organizations: []string{"RJ1"},
		Scopes: []string{"system/Task.rs"}, JWKS: &JWKS{Keys: []JWK{key}}})
	if c, err := ParseClient(good); err != nil || c.ID != "rj1" {
		t.Fatalf("ParseClient(good) = %v, %v", c.ID, err)
	}
	for _, tc := range []struct{ name, body, expr string }{
		{"empty", ``, "$"},
		{"not an object", `[]`, "$"},
		{"unknown member", strings.Replace(string(good), `"role"`, `"rôle":1,"role"`, 1), "rôle"},
		{"wrong type", strings.Replace(string(good), `"scopes":["system/Task.rs"]`, `"scopes":"system/Task.rs"`, 1), "scopes"},
		{"invalid role", strings.Replace(string(good), "provider-system", "root", 1), "role"},
		{"bad key", strings.Replace(string(good), `"crv":"P-384"`, `"crv":"P-256"`, 1), "jwks.keys[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseClient([]byte(tc.body))
			fe, ok := fhir.AsError(err)
			if !ok || fe.Code != fhir.IssueInvalid {
				t.Fatalf("ParseClient = %v, want an invalid *fhir.Error", err)
			}
			found := false
			for _, is := range fe.Issues {
				found = found || (len(is.Expression) == 1 && is.Expression[0] == tc.expr)
			}
			if !found {
				t.Errorf("no issue at %q: %v", tc.expr, fe)
			}
		})
	}
}
