package auth

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewSMARTConfiguration_JSON(t *testing.T) {
	got := map[string]any{}
	if err := json.Unmarshal([]byte(mustJSON(t, NewSMARTConfiguration(testTokenURL, "https://accord.test/.well-known/jwks.json"))), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"token_endpoint":                        testTokenURL,
		"jwks_uri":                              "https://accord.test/.well-known/jwks.json",
		"grant_types_supported":                 []any{"client_credentials"},
		"token_endpoint_auth_methods_supported": []any{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []any{"ES384", "RS384"},
		"scopes_supported":                 []any{"system/*.cruds", "system/*.rs", "system/*.read", "system/*.write", "system/*.*"},
		"response_types_supported":         []any{"token"},
		"code_challenge_methods_supported": []any{"S256"},
		"capabilities":                     []any{"client-confidential-asymmetric", "permission-v1", "permission-v2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("smart-configuration (-want +got):\n%s", diff)
	}
}
