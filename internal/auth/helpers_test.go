package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "https://accord.test/fhir"
	testTokenURL = "https://accord.test/auth/token"
	testClientID = "acme-epr"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustECKey returns a new P-384 key.
func mustECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mustRSAKey returns a new 2048-bit RSA key.
func mustRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mustJWK returns the public JWK of a key.
func mustJWK(t testing.TB, pub any) JWK {
	t.Helper()
	k, err := PublicJWK(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture is a Service with one provider client (testClientID) holding an EC and an RSA key, on a fake clock.
type fixture struct {
	svc     *Service
	clock   *fakeClock
	clients *MemoryClients
	keys    *KeySet
	replay  *MemoryReplayCache
	ecKey   *ecdsa.PrivateKey
	ecKid   string
	rsaKey  *rsa.PrivateKey
	rsaKid  string
	jtis    int
}

// testClient is the registration of testClientID with these keys.
func testClient(keys ...JWK) Client {
	return Client{
		ID: testClientID, Role: RoleProvider, Organizations: []string{"RJ1", "RJ2"},
		Scopes: []string{"system/Task.cruds", "system/Encounter.cru", "system/Patient.rs"},
		JWKS:   &JWKS{Keys: keys},
	}
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{clock: newFakeClock(), ecKey: mustECKey(t), rsaKey: mustRSAKey(t)}
	ecJWK, rsaJWK := mustJWK(t, &f.ecKey.PublicKey), mustJWK(t, &f.rsaKey.PublicKey)
	f.ecKid, f.rsaKid = ecJWK.Kid, rsaJWK.Kid
	var err error
	if f.clients, err = NewMemoryClients(testClient(ecJWK, rsaJWK)); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Issuer = testIssuer
	if f.keys, err = NewKeySet(opts.TokenLifetime+opts.ClockSkew, f.clock.Now, mustECKey(t)); err != nil {
		t.Fatal(err)
	}
	f.replay = NewMemoryReplayCache(f.clock.Now)
	f.svc, err = NewService(Deps{Clients: f.clients, Keys: f.keys, Replay: f.replay, Now: f.clock.Now}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// jwtSpec is a JWT to sign: method, key, header entries (a nil value removes one) and claims.
type jwtSpec struct {
	method jwt.SigningMethod
	key    any
	header map[string]any
	claims jwt.MapClaims
}

// validAssertion is a correct ES384 assertion of testClientID, with a fresh jti.
func (f *fixture) validAssertion() jwtSpec {
	f.jtis++
	now := f.clock.Now()
	return jwtSpec{
		method: jwt.SigningMethodES384,
		key:    f.ecKey,
		header: map[string]any{"kid": f.ecKid},
		claims: jwt.MapClaims{
			"iss": testClientID, "sub": testClientID, "aud": testTokenURL,
			"exp": now.Add(2 * time.Minute).Unix(), "iat": now.Unix(), "jti": "jti-" + strconv.Itoa(f.jtis),
		},
	}
}

// sign signs s.
func (s jwtSpec) sign(t testing.TB) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.method, s.claims)
	for k, v := range s.header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	out, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// token asks f's service for a token with this assertion and scope.
func (f *fixture) token(t testing.TB, assertion, scope string) (TokenResponse, error) {
	t.Helper()
	return f.svc.Token(context.Background(), ClientCredentialsForm(assertion, scope), testTokenURL)
}

// mustToken returns an access token for testClientID with scope.
func (f *fixture) mustToken(t testing.TB, scope string) TokenResponse {
	t.Helper()
	resp, err := f.token(t, f.validAssertion().sign(t), scope)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return resp
}

// mustJSON marshals v.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonRoundTrip decodes JSON text into v.
func jsonRoundTrip(text string, v any) error { return json.Unmarshal([]byte(text), v) }
