package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// publicKeyPEM is the PEM of a public key: the "secret" of the HS256 key-confusion attack.
func publicKeyPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestToken_Assertion(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		assertion  func() string
		wantStatus int    // 0: success
		wantDesc   string // substring of the error description
	}{
		{name: "ES384 valid", assertion: func() string { return f.validAssertion().sign(t) }},
		{name: "RS384 valid", assertion: func() string {
			s := f.validAssertion()
			s.method, s.key, s.header["kid"] = jwt.SigningMethodRS384, f.rsaKey, f.rsaKid
			return s.sign(t)
		}},
		{name: "aud array with the token URL", assertion: func() string {
			s := f.validAssertion()
			s.claims["aud"] = []string{"https://other.test", testTokenURL}
			return s.sign(t)
		}},
		{name: "signed by the wrong key", wantStatus: 401, wantDesc: "signature does not verify",
			assertion: func() string {
				s := f.validAssertion()
				s.key = mustECKey(t) // same kid header, another key
				return s.sign(t)
			}},
		{name: "expired", wantStatus: 401, wantDesc: "expired", assertion: func() string {
			s := f.validAssertion()
			s.claims["iat"], s.claims["exp"] = now.Add(-10*time.Minute).Unix(), now.Add(-5*time.Minute).Unix()
			return s.sign(t)
		}},
		{name: "exp more than 5 minutes ahead", wantStatus: 401, wantDesc: "more than 5 minutes",
			assertion: func() string {
				s := f.validAssertion()
				s.claims["exp"] = now.Add(10 * time.Minute).Unix()
				return s.sign(t)
			}},
		{name: "exp missing", wantStatus: 401, wantDesc: "required", assertion: func() string {
			s := f.validAssertion()
			delete(s.claims, "exp")
			return s.sign(t)
		}},
		{name: "not valid yet", wantStatus: 401, wantDesc: "nbf", assertion: func() string {
			s := f.validAssertion()
			s.claims["nbf"] = now.Add(2 * time.Minute).Unix()
			return s.sign(t)
		}},
		{name: "alg none", wantStatus: 401, wantDesc: `alg "none" is not accepted`, assertion: func() string {
			s := f.validAssertion()
			s.method, s.key = jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType
			return s.sign(t)
		}},
		{name: "HS256 with the RSA public key as secret", wantStatus: 401, wantDesc: `alg "HS256" is not accepted`,
			assertion: func() string {
				s := f.validAssertion()
				s.method, s.key, s.header["kid"] = jwt.SigningMethodHS256, publicKeyPEM(t, &f.rsaKey.PublicKey), f.rsaKid
				return s.sign(t)
			}},
		{name: "HS384 with the EC public key as secret", wantStatus: 401, wantDesc: `alg "HS384" is not accepted`,
			assertion: func() string {
				s := f.validAssertion()
				s.method, s.key = jwt.SigningMethodHS384, publicKeyPEM(t, &f.ecKey.PublicKey)
				return s.sign(t)
			}},
		{name: "ES256", wantStatus: 401, wantDesc: `alg "ES256" is not accepted`, assertion: func() string {
			s := f.validAssertion()
			s.method, s.key = jwt.SigningMethodES256, p256
			return s.sign(t)
		}},
		{name: "RS384 header on the EC key's kid", wantStatus: 401, wantDesc: "no RS384 key", assertion: func() string {
			s := f.validAssertion()
			s.method, s.key = jwt.SigningMethodRS384, f.rsaKey
			return s.sign(t)
		}},
		{name: "wrong audience", wantStatus: 401, wantDesc: "aud must be the token endpoint URL",
			assertion: func() string {
				s := f.validAssertion()
				s.claims["aud"] = "https://evil.test/token"
				return s.sign(t)
			}},
		{name: "missing kid", wantStatus: 401, wantDesc: "no kid", assertion: func() string {
			s := f.validAssertion()
			s.header["kid"] = nil
			return s.sign(t)
		}},
		{name: "unknown kid", wantStatus: 401, wantDesc: `no ES384 key with kid "nope"`, assertion: func() string {
			s := f.validAssertion()
			s.header["kid"] = "nope"
			return s.sign(t)
		}},
		{name: "unknown client", wantStatus: 401, wantDesc: `unknown client "mallory"`, assertion: func() string {
			s := f.validAssertion()
			s.claims["iss"], s.claims["sub"] = "mallory", "mallory"
			return s.sign(t)
		}},
		{name: "iss not a client id", wantStatus: 401, wantDesc: "iss is not a client id", assertion: func() string {
			s := f.validAssertion()
			s.claims["iss"] = strings.Repeat("\n", 300)
			return s.sign(t)
		}},
		{name: "sub differs from iss", wantStatus: 401, wantDesc: "sub must be the client id",
			assertion: func() string {
				s := f.validAssertion()
				s.claims["sub"] = "someone-else"
				return s.sign(t)
			}},
		{name: "missing jti", wantStatus: 401, wantDesc: "no jti", assertion: func() string {
			s := f.validAssertion()
			delete(s.claims, "jti")
			return s.sign(t)
		}},
		{name: "malformed JWT", wantStatus: 401, wantDesc: "not a well-formed JWT",
			assertion: func() string { return "abc.def" }},
		{name: "garbage segments", wantStatus: 401, wantDesc: "not a well-formed JWT",
			assertion: func() string { return "eyJ!.eyJ@.sig" }},
		{name: "huge JWT", wantStatus: 400, wantDesc: "larger than 16384 bytes", assertion: func() string {
			s := f.validAssertion()
			s.claims["pad"] = strings.Repeat("x", 20000)
			return s.sign(t)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.token(t, tc.assertion(), "system/Task.rs")
			checkOAuth(t, err, tc.wantStatus, tc.wantDesc)
			if tc.wantStatus == 0 && (resp.AccessToken == "" || resp.Scope != "system/Task.rs" ||
				resp.TokenType != "bearer" || resp.ExpiresIn != 300) {
				t.Errorf("Token = %+v, want a bearer token for system/Task.rs valid 300 s", resp)
			}
		})
	}
}

// checkOAuth checks that err is nil (wantStatus 0) or an *OAuthError of that status whose description contains
// wantDesc.
func checkOAuth(t *testing.T, err error, wantStatus int, wantDesc string) {
	t.Helper()
	if wantStatus == 0 {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	var oe *OAuthError
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v, want *OAuthError", err)
	}
	wantCode := map[int]string{http.StatusUnauthorized: CodeInvalidClient}[wantStatus]
	if oe.Status != wantStatus || (wantCode != "" && oe.Code != wantCode) || !strings.Contains(oe.Description, wantDesc) {
		t.Errorf("err = %d %s %q, want %d %s containing %q", oe.Status, oe.Code, oe.Description,
			wantStatus, wantCode, wantDesc)
	}
}

func TestToken_ReplayedJTI_Refused(t *testing.T) {
	f := newFixture(t)
	assertion := f.validAssertion().sign(t)
	if _, err := f.token(t, assertion, "system/Task.rs"); err != nil {
		t.Fatalf("first use: %v", err)
	}
	f.clock.Advance(10 * time.Second)
	_, err := f.token(t, assertion, "system/Task.rs")
	checkOAuth(t, err, http.StatusUnauthorized, "jti has already been used")

	// The same jti from another assertion (new exp, new signature) is a replay too.
	s := f.validAssertion()
	s.claims["jti"] = "jti-1"
	_, err = f.token(t, s.sign(t), "system/Task.rs")
	checkOAuth(t, err, http.StatusUnauthorized, "jti has already been used")
}

func TestToken_Form(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name     string
		edit     func(url.Values)
		wantCode string
		wantDesc string
	}{
		{"grant_type password", func(v url.Values) { v.Set("grant_type", "password") },
			CodeUnsupportedGrantType, "grant_type must be client_credentials"},
		{"grant_type missing", func(v url.Values) { v.Del("grant_type") }, CodeInvalidRequest, "grant_type is required"},
		{"assertion type wrong", func(v url.Values) { v.Set("client_assertion_type", "urn:x") },
			CodeInvalidRequest, "client_assertion_type must be"},
		{"assertion missing", func(v url.Values) { v.Del("client_assertion") }, CodeInvalidRequest,
			"client_assertion is required"},
		{"scope missing", func(v url.Values) { v.Del("scope") }, CodeInvalidRequest, "scope is required"},
		{"parameter repeated", func(v url.Values) { v.Add("scope", "system/Task.cud") }, CodeInvalidRequest,
			`"scope" is repeated`},
		{"scope not registered", func(v url.Values) { v.Set("scope", "system/Patient.cud") }, CodeInvalidScope,
			"none of the requested scopes"},
		{"scope malformed", func(v url.Values) { v.Set("scope", "system/Task.sr") }, CodeInvalidScope,
			"in that order"},
		{"scope with search parameters", func(v url.Values) { v.Set("scope", "system/Task.rs?status=ready") },
			CodeInvalidScope, "search parameters are not supported"},
		{"patient scope", func(v url.Values) { v.Set("scope", "patient/Task.rs") }, CodeInvalidScope,
			"only system/ scopes"},
		{"client_id of another client", func(v url.Values) { v.Set("client_id", "other") }, CodeInvalidClient,
			"client_id does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := ClientCredentialsForm(f.validAssertion().sign(t), "system/Task.rs")
			tc.edit(form)
			_, err := f.svc.Token(context.Background(), form, testTokenURL)
			var oe *OAuthError
			if !errors.As(err, &oe) || oe.Code != tc.wantCode || !strings.Contains(oe.Description, tc.wantDesc) {
				t.Fatalf("err = %v, want %s containing %q", err, tc.wantCode, tc.wantDesc)
			}
			if wantStatus := map[bool]int{true: 401, false: 400}[tc.wantCode == CodeInvalidClient]; oe.Status != wantStatus {
				t.Errorf("status = %d, want %d", oe.Status, wantStatus)
			}
		})
	}
}

func TestToken_ScopeIntersection(t *testing.T) {
	f := newFixture(t) // registered: system/Task.cruds system/Encounter.cru system/Patient.rs
	for _, tc := range []struct{ requested, want string }{
		{"system/Task.rs", "system/Task.rs"},
		{"system/Task.read", "system/Task.read"},
		{"system/Task.write system/Patient.read", "system/Task.write system/Patient.read"},
		{"system/*.rs", "system/Task.rs system/Encounter.r system/Patient.rs"},
		{"system/*.*", "system/Task.cruds system/Encounter.cru system/Patient.rs"},
		{"system/Patient.cruds", "system/Patient.rs"},
		{"system/Patient.rs system/Observation.rs", "system/Patient.rs"},
		{"system/Encounter.write", "system/Encounter.cu"},
		{"system/Task.rs system/Task.r", "system/Task.rs"},
	} {
		t.Run(tc.requested, func(t *testing.T) {
			resp := f.mustToken(t, tc.requested)
			if resp.Scope != tc.want {
				t.Errorf("granted %q, want %q", resp.Scope, tc.want)
			}
		})
	}
}

func TestToken_JWKSURI(t *testing.T) {
	f := newFixture(t)
	jwk := mustJWK(t, &f.ecKey.PublicKey)
	remote := Client{ID: "remote-epr", Role: RoleProvider, Organizations: []string{"RJ1"},
		Scopes: []string{"system/Task.rs"}, JWKSURI: "https://keys.test/jwks.json"}
	if err := f.clients.Put(context.Background(), remote); err != nil {
		t.Fatal(err)
	}
	fetcher := &fakeFetcher{sets: map[string]JWKS{remote.JWKSURI: {Keys: []JWK{jwk}}}}
	f.svc.d.Fetcher = fetcher

	s := f.validAssertion()
	s.claims["iss"], s.claims["sub"] = remote.ID, remote.ID
	if _, err := f.token(t, s.sign(t), "system/Task.rs"); err != nil {
		t.Fatalf("Token with jwks_uri: %v", err)
	}
	if fetcher.calls != 1 {
		t.Errorf("fetches = %d, want 1", fetcher.calls)
	}

	fetcher.sets = nil // the client's key server is down
	s = f.validAssertion()
	s.claims["iss"], s.claims["sub"] = remote.ID, remote.ID
	_, err := f.token(t, s.sign(t), "system/Task.rs")
	checkOAuth(t, err, http.StatusUnauthorized, "could not be fetched")
}

// fakeFetcher serves key sets from a map and counts the calls.
type fakeFetcher struct {
	sets  map[string]JWKS
	calls int
}

func (f *fakeFetcher) Fetch(_ context.Context, uri string) (JWKS, error) {
	f.calls++
	set, ok := f.sets[uri]
	if !ok {
		return JWKS{}, errors.New("fetch jwks " + uri + ": status 503")
	}
	return set, nil
}

func TestNewService_Refuses(t *testing.T) {
	clock := newFakeClock()
	keys, err := NewKeySet(time.Minute, clock.Now, mustECKey(t))
	if err != nil {
		t.Fatal(err)
	}
	clients, _ := NewMemoryClients()
	replay := NewMemoryReplayCache(clock.Now)
	ok := DefaultOptions()
	ok.Issuer = testIssuer
	for _, tc := range []struct {
		name string
		d    Deps
		o    Options
		want string
	}{
		{"no clients", Deps{Keys: keys, Replay: replay}, ok, "required"},
		{"no issuer", Deps{Clients: clients, Keys: keys, Replay: replay}, DefaultOptions(), "issuer"},
		{"retention shorter than tokens", Deps{Clients: clients, Keys: keys, Replay: replay}, ok, "retains"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewService(tc.d, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewService err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
