package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// problemsOf returns the problems of a *ClientsFileError as strings, or fails.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var fe *ClientsFileError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want *ClientsFileError", err)
	}
	out := make([]string, len(fe.Problems))
	for i, p := range fe.Problems {
		out[i] = p.String()
	}
	return out
}

func TestParseClients_Problems(t *testing.T) {
	ec := mustJSON(t, mustJWK(t, &mustECKey(t).PublicKey))
	client := func(id, extra string) string {
		return fmt.Sprintf(`{"client_id": %q, "role": "provider-system", "organizations": ["RJ1"],
			"scopes": ["system/Task.cruds"]%s}`, id, extra)
	}
	withKeys := func(id, keys string) string { return client(id, `, "jwks": {"keys": [`+keys+`]}`) }
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"not JSON", `{"clients": [`, []string{"$: invalid JSON: unexpected EOF"}},
		{"empty", ``, []string{"$: empty file"}},
		{"no clients member", `{}`, []string{`clients: missing: want {"clients": [ … ]}`}},
		{"unknown top-level member", `{"clients": [], "version": 1}`, []string{`$: invalid JSON: unknown field "version"`}},
		{"trailing data", `{"clients": []} {}`, []string{"$: unexpected data after the top-level object"}},
		{"oct key", `{"clients": [` + withKeys("a", ec) + `,` + withKeys("b", ec) + `,` +
			withKeys("c", `{"kty": "oct", "kid": "k1", "k": "c2VjcmV0"}`) + `]}`,
			[]string{`clients[2].jwks.keys[0] (client "c"): unsupported kty "oct": want "EC" (P-384) or "RSA"`}},
		{"malformed JWKS", `{"clients": [` + withKeys("a",
			`{"kty": "EC", "kid": "p256", "crv": "P-256", "x": "AA", "y": "AA"},
			 {"kty": "EC", "kid": "short", "crv": "P-384", "x": "AAAA", "y": "AAAA"},
			 {"kty": "EC", "kid": "b64", "crv": "P-384", "x": "!!", "y": "AA"},
			 {"kty": "RSA", "kid": "small", "n": "`+strings.Repeat("_", 170)+`w", "e": "AQAB"},
			 {"kty": "RSA", "kid": "priv", "n": "AA", "e": "AQAB", "d": "AA"},
			 {"kid": "nokty"},
			 {"kty": "EC", "crv": "P-384"},
			 {"kty": "EC", "kid": "enc", "use": "enc"},
			 {"kty": "EC", "kid": "alg", "alg": "ES256"}`) + `]}`,
			[]string{
				`clients[0].jwks.keys[0] (client "a"): unsupported crv "P-256": want "P-384" (ES384)`,
				`clients[0].jwks.keys[1] (client "a"): x: 3 bytes, want 48 for P-384`,
				`clients[0].jwks.keys[2] (client "a"): x: not base64url without padding`,
				`clients[0].jwks.keys[3] (client "a"): n: 1024-bit modulus, want at least 2048`,
				`clients[0].jwks.keys[4] (client "a"): private key material (d) must not be registered`,
				`clients[0].jwks.keys[5] (client "a"): kty is required`,
				`clients[0].jwks.keys[6] (client "a"): kid is required`,
				`clients[0].jwks.keys[7] (client "a"): use "enc": want "sig"`,
				`clients[0].jwks.keys[8] (client "a"): alg "ES256": want ES384 for kty "EC"`,
			}},
		{"jwks not an object", `{"clients": [` + client("a", `, "jwks": []`) + `]}`,
			[]string{`clients[0].jwks (client "a"): JSON array where auth.JWKS is expected`}},
		{"several problems in one client", `{"clients": [{"client_id": "a b", "role": "doctor",
			"organizations": ["rj1", "RJ1", "RJ1"], "scopes": ["patient/*.read", "system/Task.sr"],
			"organisations": [], "jwks": {"keys": [` + ec + `]}, "jwks_uri": "https://x.test/jwks"}]}`,
			[]string{
				`clients[0].organisations (client "a b"): unknown member; want one of client_id, organizations, role, scopes, jwks, jwks_uri, identifiable_access`,
				`clients[0].client_id (client "a b"): "a b" is not 1 to 128 of A-Z, a-z, 0-9, '.', '_', '~', '-'`,
				`clients[0].role (client "a b"): "doctor": want provider-system, gp-system, analyst or admin`,
				`clients[0].organizations[0] (client "a b"): "rj1" is not an ODS code (3 to 10 upper-case letters and digits)`,
				`clients[0].organizations[2] (client "a b"): duplicate organisation "RJ1"`,
				`clients[0].scopes[0] (client "a b"): scope "patient/*.read": only system/ scopes are supported by backend services`,
				`clients[0].scopes[1] (client "a b"): scope "system/Task.sr": permissions "sr": want read, write, * or letters of "cruds" in that order, each once`,
				`clients[0].jwks_uri (client "a b"): give either jwks or jwks_uri, not both`,
			}},
		{"wrong types", `{"clients": [{"client_id": "a", "scopes": "system/*.rs"}]}`,
			[]string{`clients[0].scopes (client "a"): JSON string where []string is expected`}},
		{"client not an object", `{"clients": [42]}`,
			[]string{`clients[0]: JSON number where map[string]json.RawMessage is expected`}},
		{"keys missing", `{"clients": [` + client("a", "") + `,` + client("b", `, "jwks_uri": "http://x.test/k"`) +
			`,` + client("c", `, "jwks": {"keys": []}`) + `]}`,
			[]string{
				`clients[0].jwks (client "a"): the client's public keys are required, as jwks or jwks_uri`,
				`clients[1].jwks_uri (client "b"): "http://x.test/k" is not an absolute https URL without credentials`,
				`clients[2].jwks.keys (client "c"): at least one key is required`,
			}},
		{"duplicate client ids and kids", `{"clients": [` + withKeys("a", ec) + `,` + withKeys("a", ec+","+ec) + `]}`,
			[]string{
				`clients[1].jwks.keys[1] (client "a"): duplicate kid "` + mustJWKFromJSON(t, ec).Kid + `"`,
				`clients[1].client_id (client "a"): duplicate of clients[0]`,
			}},
		{"roles and organisations", `{"clients": [
			{"client_id": "gp", "role": "gp-system", "organizations": [], "scopes": ["system/Task.rs"], "jwks": {"keys": [` + ec + `]}},
			{"client_id": "ana", "role": "analyst", "organizations": [], "scopes": ["system/Task.rs", "system/*.write"], "identifiable_access": true, "jwks": {"keys": [` + ec + `]}},
			{"client_id": "adm", "role": "admin", "scopes": [], "identifiable_access": true, "jwks": {"keys": [` + ec + `]}}]}`,
			[]string{
				`clients[0].organizations (client "gp"): a gp-system acts for at least one organisation (ODS code)`,
				`clients[1].scopes[1] (client "ana"): scope "system/*.write": an analyst reads only (r and s permissions)`,
				`clients[2].identifiable_access (client "adm"): applies only to role analyst`,
				`clients[2].scopes (client "adm"): at least one scope is required, e.g. system/Task.rs`,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseClients([]byte(tc.doc))
			if diff := cmp.Diff(tc.want, problemsOf(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// mustJWKFromJSON decodes a JWK.
func mustJWKFromJSON(t testing.TB, s string) JWK {
	t.Helper()
	var k JWK
	if err := jsonRoundTrip(s, &k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestLoadClientsFile(t *testing.T) {
	dir := t.TempDir()
	ec := mustJWK(t, &mustECKey(t).PublicKey)
	rsa := mustJWK(t, &mustRSAKey(t).PublicKey)
	good := `{"clients": [
		{"client_id": "acme-epr", "role": "provider-system", "organizations": ["RJ1"], "scopes": ["system/*.cruds"],
		 "jwks": {"keys": [` + mustJSON(t, ec) + `, ` + mustJSON(t, rsa) + `]}},
		{"client_id": "ana", "role": "analyst", "scopes": ["system/Task.read"], "identifiable_access": true,
		 "jwks_uri": "https://keys.test/ana.json"}]}`
	path := filepath.Join(dir, "clients.json")
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadClientsFile(path)
	if err != nil {
		t.Fatalf("LoadClientsFile: %v", err)
	}
	want := []Client{
		{ID: "acme-epr", Role: RoleProvider, Organizations: []string{"RJ1"}, Scopes: []string{"system/*.cruds"},
			JWKS: &JWKS{Keys: []JWK{ec, rsa}}},
		{ID: "ana", Role: RoleAnalyst, Scopes: []string{"system/Task.read"}, IdentifiableAccess: true,
			JWKSURI: "https://keys.test/ana.json"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadClientsFile (-want +got):\n%s", diff)
	}

	for _, tc := range []struct{ name, path, want string }{
		{"missing file", filepath.Join(dir, "nope.json"), "no such file"},
		{"invalid file", writeFile(t, dir, "bad.json", `{"clients": [{"client_id": "x"}]}`), `bad.json: invalid clients file, 3 problem(s):
  clients[0].role (client "x")`},
		{"too large", writeFile(t, dir, "big.json", strings.Repeat(" ", MaxClientsFileBytes+1)), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadClientsFile(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadClientsFile err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
