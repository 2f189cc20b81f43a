package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestAuthenticate_ValidToken_Principal(t *testing.T) {
	f := newFixture(t)
	resp := f.mustToken(t, "system/Task.rs system/Patient.read")
	got, err := f.svc.Authenticate(context.Background(), resp.AccessToken)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	want := Principal{ClientID: testClientID, Role: RoleProvider, Organizations: []string{"RJ1", "RJ2"},
		Scopes: mustScopes(t, "system/Task.rs system/Patient.read")}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(Scope{})); diff != "" {
		t.Errorf("Authenticate (-want +got):\n%s", diff)
	}
}

// mustScopes parses scopes.
func mustScopes(t testing.TB, s string) Scopes {
	t.Helper()
	ss, err := ParseScopes(s)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func TestAuthenticate_Refused(t *testing.T) {
	f := newFixture(t)
	good := f.mustToken(t, "system/Task.rs").AccessToken
	parsed, _, err := jwt.NewParser().ParseUnverified(good, &accessClaims{})
	if err != nil {
		t.Fatal(err)
	}
	claims := *parsed.Claims.(*accessClaims)
	otherKeys, err := NewKeySet(time.Hour, f.clock.Now, mustECKey(t))
	if err != nil {
		t.Fatal(err)
	}
	resign := func(edit func(*accessClaims)) string {
		c := claims
		edit(&c)
		s, err := f.keys.sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name, bearer, want string
	}{
		{"empty", "", "required"},
		{"garbage", "not.a.jwt", "not valid"},
		{"huge", strings.Repeat("a", 20000), "too large"},
		{"signed by a key not in the set", mustSign(t, otherKeys, claims), "not valid"},
		{"a client assertion", f.validAssertion().sign(t), "not valid"},
		{"alg none", jwtSpec{method: jwt.SigningMethodNone, key: jwt.UnsafeAllowNoneSignatureType,
			header: map[string]any{"kid": f.keys.JWKS().Keys[0].Kid, "typ": "at+jwt"}, claims: toMap(t, claims)}.sign(t),
			"not valid"},
		{"HS256 with Accord's public key as secret", jwtSpec{method: jwt.SigningMethodHS256,
			key:    publicKeyPEM(t, mustPublic(t, f.keys)),
			header: map[string]any{"kid": f.keys.JWKS().Keys[0].Kid, "typ": "at+jwt"}, claims: toMap(t, claims)}.sign(t),
			"not valid"},
		{"Accord's key without typ at+jwt", jwtSpec{method: jwt.SigningMethodES384, key: currentKey(f.keys),
			header: map[string]any{"kid": f.keys.JWKS().Keys[0].Kid}, claims: toMap(t, claims)}.sign(t),
			"not an access token"},
		{"other issuer", resign(func(c *accessClaims) { c.Issuer = "https://evil.test" }), "not valid"},
		{"other audience", resign(func(c *accessClaims) { c.Audience = jwt.ClaimStrings{"https://evil.test"} }), "not valid"},
		{"sub is not the client", resign(func(c *accessClaims) { c.Subject = "someone" }), "not an access token"},
		{"unknown client", resign(func(c *accessClaims) { c.ClientID, c.Subject = "ghost", "ghost" }), "no longer registered"},
		{"role changed", resign(func(c *accessClaims) { c.Role = RoleAdmin }), "role has changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Authenticate(context.Background(), tc.bearer)
			fe, ok := fhir.AsError(err)
			if !ok || fe.Code != fhir.IssueLogin || !strings.Contains(fe.Error(), tc.want) {
				t.Errorf("Authenticate err = %v, want a login error containing %q", err, tc.want)
			}
		})
	}
}

// mustSign signs claims with the current key of ks.
func mustSign(t testing.TB, ks *KeySet, claims accessClaims) string {
	t.Helper()
	s, err := ks.sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// currentKey returns the private key that ks signs with.
func currentKey(ks *KeySet) any {
	live := ks.live()
	return live[len(live)-1].key
}

// mustPublic returns the public key of the current key of ks.
func mustPublic(t testing.TB, ks *KeySet) any {
	t.Helper()
	pub, err := ks.JWKS().Keys[0].PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// toMap converts claims to MapClaims.
func toMap(t testing.TB, c accessClaims) jwt.MapClaims {
	t.Helper()
	var m jwt.MapClaims
	if err := jsonRoundTrip(mustJSON(t, c), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAuthenticate_Expiry(t *testing.T) {
	f := newFixture(t)
	token := f.mustToken(t, "system/Task.rs").AccessToken
	for _, tc := range []struct {
		advance time.Duration
		wantErr bool
	}{
		{4 * time.Minute, false},
		{time.Minute + 20*time.Second, false}, // 5m20s: past exp, within the 30 s skew
		{15 * time.Second, true},              // 5m35s
	} {
		f.clock.Advance(tc.advance)
		_, err := f.svc.Authenticate(context.Background(), token)
		if gotErr := err != nil; gotErr != tc.wantErr {
			t.Errorf("at +%s: err = %v, want error %v", f.clock.Now().Sub(newFakeClock().Now()), err, tc.wantErr)
		}
		if tc.wantErr && (err == nil || !strings.Contains(err.Error(), "expired")) {
			t.Errorf("err = %v, want expired", err)
		}
	}
}

func TestAuthenticate_RegistrationNarrowed(t *testing.T) {
	f := newFixture(t)
	token := f.mustToken(t, "system/Task.cruds system/Patient.rs").AccessToken
	c, err := f.clients.Get(context.Background(), testClientID)
	if err != nil {
		t.Fatal(err)
	}
	c.Scopes = []string{"system/Task.rs"}
	c.Organizations = []string{"RJ2"}
	if err := f.clients.Put(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Scopes.String(); got != "system/Task.rs" {
		t.Errorf("scopes = %q, want system/Task.rs", got)
	}
	if diff := cmp.Diff([]string{"RJ2"}, p.Organizations, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("organizations (-want +got):\n%s", diff)
	}
	if err := f.clients.Delete(context.Background(), testClientID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(context.Background(), token); err == nil {
		t.Error("Authenticate after the client was deleted: want an error")
	}
}

func TestAuthenticate_KeyRotation_PreviousKeyVerifiesUntilExpiry(t *testing.T) {
	f := newFixture(t)
	start := f.clock.Now()
	old := f.mustToken(t, "system/Task.rs").AccessToken
	if err := f.keys.Rotate(); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	fresh := f.mustToken(t, "system/Task.rs").AccessToken
	if kidOf(t, old) == kidOf(t, fresh) {
		t.Fatal("the token after Rotate is signed by the same key")
	}
	for _, tc := range []struct {
		at               time.Duration
		wantOld          bool
		wantPublishedOld bool
	}{
		{time.Minute, true, true},
		{5*time.Minute + 10*time.Second, true, true},   // old token past exp, within skew
		{5*time.Minute + 31*time.Second, false, false}, // old key retired for longer than lifetime+skew
	} {
		f.clock.Advance(start.Add(tc.at).Sub(f.clock.Now()))
		_, errOld := f.svc.Authenticate(context.Background(), old)
		_, errFresh := f.svc.Authenticate(context.Background(), fresh)
		if (errOld == nil) != tc.wantOld || errFresh != nil {
			t.Errorf("at +%s: old err = %v (want ok %v), fresh err = %v", tc.at, errOld, tc.wantOld, errFresh)
		}
		published := false
		for _, k := range f.keys.JWKS().Keys {
			published = published || k.Kid == kidOf(t, old)
		}
		if published != tc.wantPublishedOld {
			t.Errorf("at +%s: old key published %v, want %v", tc.at, published, tc.wantPublishedOld)
		}
	}
}

// kidOf returns the kid header of a JWT.
func kidOf(t testing.TB, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tok.Header["kid"].(string)
	return kid
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		header, want string
		ok           bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer   abc ", "abc", true},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"", "", false},
	} {
		got, ok := BearerToken(tc.header)
		if got != tc.want || ok != tc.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}
