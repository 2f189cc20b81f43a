package api_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/auth"
)

// oauthErr decodes an OAuth error response.
func oauthErr(t testing.TB, r *apitest.Response) string {
	t.Helper()
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error == "" {
		t.Fatalf("not an OAuth error (status %d): %s", r.Status, r.Body)
	}
	return e.Error
}

// signJWT signs claims with method and key, with a kid header when kid is not empty.
func signJWT(t testing.TB, claims jwt.MapClaims, method jwt.SigningMethod, key any, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuth_Token_ClientAssertions(t *testing.T) {
	s := startSecured(t)
	c, rc := s.clients[provRJ1], s.clients[rsaRJ1]
	other, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(c.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		now := time.Now()
		m := jwt.MapClaims{"iss": c.ID, "sub": c.ID, "aud": s.TokenURL(), "jti": uuid.NewString(),
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		if change != nil {
			change(m)
		}
		return m
	}
	es := func(change func(jwt.MapClaims)) string {
		return signJWT(t, claims(change), jwt.SigningMethodES384, c.Key, c.KeyID)
	}
	for _, tc := range []struct {
		name      string
		assertion func() string
		scope     string
		status    int
		code      string
	}{
		{"ES384", func() string { return es(nil) }, "system/Task.rs", 200, ""},
		{"RS384", func() string { return s.Assertion(t, rc) }, "system/Task.rs", 200, ""},
		{"v1 scope", func() string { return es(nil) }, "system/Task.read", 200, ""},
		{"wrong key", func() string { return signJWT(t, claims(nil), jwt.SigningMethodES384, other, c.KeyID) }, "system/Task.rs", 401, "invalid_client"},
		{"expired", func() string {
			return es(func(m jwt.MapClaims) {
				m["iat"], m["exp"] = time.Now().Add(-3*time.Minute).Unix(), time.Now().Add(-2*time.Minute).Unix()
			})
		}, "system/Task.rs", 401, "invalid_client"},
		{"exp more than 5 min ahead", func() string {
			return es(func(m jwt.MapClaims) { m["exp"] = time.Now().Add(10 * time.Minute).Unix() })
		}, "system/Task.rs", 401, "invalid_client"},
		{"no exp", func() string { return es(func(m jwt.MapClaims) { delete(m, "exp") }) }, "system/Task.rs", 401, "invalid_client"},
		{"wrong audience", func() string { return es(func(m jwt.MapClaims) { m["aud"] = "https://elsewhere.test/auth/token" }) }, "system/Task.rs", 401, "invalid_client"},
		{"audience is the FHIR base", func() string { return es(func(m jwt.MapClaims) { m["aud"] = s.URL }) }, "system/Task.rs", 401, "invalid_client"},
		{"sub is not iss", func() string { return es(func(m jwt.MapClaims) { m["sub"] = provRJ2 }) }, "system/Task.rs", 401, "invalid_client"},
		{"no jti", func() string { return es(func(m jwt.MapClaims) { delete(m, "jti") }) }, "system/Task.rs", 401, "invalid_client"},
		{"unknown client", func() string {
			return es(func(m jwt.MapClaims) { m["iss"], m["sub"] = "nobody", "nobody" })
		}, "system/Task.rs", 401, "invalid_client"},
		{"unknown kid", func() string { return signJWT(t, claims(nil), jwt.SigningMethodES384, c.Key, "no-such-kid") }, "system/Task.rs", 401, "invalid_client"},
		{"no kid", func() string { return signJWT(t, claims(nil), jwt.SigningMethodES384, c.Key, "") }, "system/Task.rs", 401, "invalid_client"},
		{"alg none", func() string {
			return signJWT(t, claims(nil), jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, c.KeyID)
		}, "system/Task.rs", 401, "invalid_client"},
		{"HS256 with the public key as secret", func() string {
			return signJWT(t, claims(nil), jwt.SigningMethodHS256, pubPEM, c.KeyID)
		}, "system/Task.rs", 401, "invalid_client"},
		{"signature cut short", func() string { a := es(nil); return a[:len(a)-10] }, "system/Task.rs", 401, "invalid_client"},
		{"malformed", func() string { return "not.a.jwt" }, "system/Task.rs", 401, "invalid_client"},
		{"not base64", func() string { return "%%%.%%%.%%%" }, "system/Task.rs", 401, "invalid_client"},
		{"huge", func() string { return strings.Repeat("a", 17<<10) }, "system/Task.rs", 400, "invalid_request"},
		{"scope narrower than registered", func() string { return es(nil) }, "system/Task.s system/Patient.rs", 200, ""},
		{"no scope granted", func() string { return s.Assertion(t, rc) }, "system/Encounter.rs", 400, "invalid_scope"},
		{"scope syntax", func() string { return es(nil) }, "patient/Task.rs", 400, "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.PostToken(t, auth.ClientCredentialsForm(tc.assertion(), tc.scope))
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
			}
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.status != 200 {
				if got := oauthErr(t, r); got != tc.code {
					t.Errorf("error %q, want %q", got, tc.code)
				}
				return
			}
			var tr auth.TokenResponse
			if err := json.Unmarshal(r.Body, &tr); err != nil || tr.TokenType != "bearer" || tr.ExpiresIn != 300 || tr.AccessToken == "" {
				t.Fatalf("token response %s (%v)", r.Body, err)
			}
			if got := s.DoAs(t, tr.AccessToken, http.MethodGet, "/Task", nil); got.Status != http.StatusOK {
				t.Errorf("GET /Task with the token: %d %s", got.Status, got.Body)
			}
		})
	}
}

func TestAuth_Token_ReplayedJTI_Refused(t *testing.T) {
	s := startSecured(t)
	form := auth.ClientCredentialsForm(s.Assertion(t, s.clients[provRJ1]), "system/Task.rs")
	if r := s.PostToken(t, form); r.Status != http.StatusOK {
		t.Fatalf("first use: %d %s", r.Status, r.Body)
	}
	r := s.PostToken(t, form)
	if r.Status != http.StatusUnauthorized || oauthErr(t, r) != "invalid_client" || !strings.Contains(string(r.Body), "jti") {
		t.Errorf("replay: %d %s, want 401 invalid_client about the jti", r.Status, r.Body)
	}
}

func TestAuth_Token_BadForms(t *testing.T) {
	s := startSecured(t)
	c := s.clients[provRJ1]
	good := func() url.Values { return auth.ClientCredentialsForm(s.Assertion(t, c), "system/Task.rs") }
	for _, tc := range []struct {
		name        string
		body        func() string
		contentType string
		status      int
		code        string
	}{
		{"password grant", func() string { f := good(); f.Set("grant_type", "password"); return f.Encode() }, "", 400, "unsupported_grant_type"},
		{"no grant type", func() string { f := good(); f.Del("grant_type"); return f.Encode() }, "", 400, "invalid_request"},
		{"no assertion type", func() string { f := good(); f.Del("client_assertion_type"); return f.Encode() }, "", 400, "invalid_request"},
		{"no assertion", func() string { f := good(); f.Del("client_assertion"); return f.Encode() }, "", 400, "invalid_request"},
		{"no scope", func() string { f := good(); f.Del("scope"); return f.Encode() }, "", 400, "invalid_request"},
		{"repeated parameter", func() string { return good().Encode() + "&scope=system/Task.rs" }, "", 400, "invalid_request"},
		{"client_id of another client", func() string { f := good(); f.Set("client_id", provRJ2); return f.Encode() }, "", 401, "invalid_client"},
		{"JSON body", func() string { return `{"grant_type":"client_credentials"}` }, "application/json", 400, "invalid_request"},
		{"larger than 20 KiB", func() string { return good().Encode() + "&pad=" + strings.Repeat("x", 21<<10) }, "", 400, "invalid_request"},
		{"malformed form", func() string { return "grant_type=%zz" }, "", 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			r := s.Do(t, http.MethodPost, "/auth/token", tc.body(), "Content-Type", ct)
			if r.Status != tc.status || oauthErr(t, r) != tc.code {
				t.Errorf("status %d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
		})
	}
}

func TestAuth_Discovery_Public(t *testing.T) {
	s := startSecured(t)
	r := s.Do(t, http.MethodGet, "/.well-known/smart-configuration", nil)
	wantStatus(t, r, http.StatusOK, "smart-configuration")
	var conf auth.SMARTConfiguration
	if err := json.Unmarshal(r.Body, &conf); err != nil {
		t.Fatal(err)
	}
	if conf.TokenEndpoint != s.TokenURL() || conf.JWKSURI != s.URL+"/.well-known/jwks.json" ||
		strings.Join(conf.TokenEndpointAuthSigningAlgValuesSupported, " ") != "ES384 RS384" ||
		strings.Join(conf.GrantTypesSupported, " ") != "client_credentials" {
		t.Errorf("smart-configuration %s", r.Body)
	}
	r = s.Do(t, http.MethodGet, "/.well-known/jwks.json", nil)
	wantStatus(t, r, http.StatusOK, "jwks")
	var set auth.JWKS
	if err := json.Unmarshal(r.Body, &set); err != nil || len(set.Keys) != 1 || set.Keys[0].Alg != "ES384" || set.Keys[0].D != "" {
		t.Errorf("jwks %s (%v)", r.Body, err)
	}
	// The access token is signed by the published key.
	tok := s.Token(t, s.clients[provRJ1], "system/Task.rs")
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil || parsed.Header["kid"] != set.Keys[0].Kid || parsed.Header["typ"] != "at+jwt" {
		t.Errorf("access token header %v (%v), want kid %s", parsed.Header, err, set.Keys[0].Kid)
	}
	r = s.Do(t, http.MethodGet, "/metadata", nil)
	wantStatus(t, r, http.StatusOK, "metadata")
	if !strings.Contains(string(r.Body), `"SMART-on-FHIR"`) || !strings.Contains(string(r.Body), s.TokenURL()) {
		t.Errorf("the CapabilityStatement does not advertise SMART on FHIR and the token endpoint")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		wantStatus(t, s.Do(t, http.MethodGet, path, nil), http.StatusOK, path)
	}
	wantIssue(t, s.Do(t, http.MethodGet, "/public/no-such-page", nil), http.StatusNotFound, "not-found", "/public/ without a token")
}
