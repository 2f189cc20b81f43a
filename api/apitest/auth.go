package apitest

import (
	"context"
	"crypto"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accord-fhir/accord/api"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/store/mongo"
)

// Client is a test client: its registration and its private key.
type Client struct {
	auth.Client
	Key   crypto.Signer
	KeyID string
}

// NewClient returns a client of role acting for orgs with scopes, registered with a new P-384 key.
func NewClient(t testing.TB, id string, role auth.Role, orgs []string, scopes ...string) *Client {
	t.Helper()
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return WithKey(t, auth.Client{ID: id, Role: role, Organizations: orgs, Scopes: scopes}, key)
}

// WithKey returns the client c holding key (an *ecdsa.PrivateKey on P-384 or an *rsa.PrivateKey), its public key
// registered as c's only key.
func WithKey(t testing.TB, c auth.Client, key crypto.Signer) *Client {
	t.Helper()
	jwk, err := auth.PublicJWK(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	c.JWKS = &auth.JWKS{Keys: []auth.JWK{jwk}}
	return &Client{Client: c, Key: key, KeyID: jwk.Kid}
}

// TokenURL is the token endpoint's URL: the aud of client assertions.
func (s *Server) TokenURL() string { return s.URL + api.TokenPath }

// Assertion signs a client assertion for c, valid for a minute from now, with a fresh jti.
func (s *Server) Assertion(t testing.TB, c *Client) string {
	t.Helper()
	a, err := auth.SignAssertion(auth.Assertion{ClientID: c.ID, KeyID: c.KeyID, TokenURL: s.TokenURL(),
		JTI: uuid.NewString(), IssuedAt: time.Now(), Lifetime: time.Minute}, c.Key)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// PostToken posts a token request form to the token endpoint.
func (s *Server) PostToken(t testing.TB, form url.Values) *Response {
	t.Helper()
	return s.Do(t, http.MethodPost, api.TokenPath, form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

// Token gets an access token for c with scope through the real token endpoint; it fails the test when refused.
func (s *Server) Token(t testing.TB, c *Client, scope string) string {
	t.Helper()
	r := s.PostToken(t, auth.ClientCredentialsForm(s.Assertion(t, c), scope))
	if r.Status != http.StatusOK {
		t.Fatalf("token for %s: status %d: %s", c.ID, r.Status, r.Body)
	}
	var tr auth.TokenResponse
	if err := json.Unmarshal(r.Body, &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token for %s: %v: %s", c.ID, err, r.Body)
	}
	return tr.AccessToken
}

// DoAs is Do with the bearer token.
func (s *Server) DoAs(t testing.TB, token, method, path string, body any, headers ...string) *Response {
	t.Helper()
	return s.Do(t, method, path, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
}

// FlushAudit writes the audit entries recorded so far; it fails the test when audit is off or the write fails.
func (s *Server) FlushAudit(t testing.TB) {
	t.Helper()
	if s.audit == nil {
		t.Fatal("audit is off: start with Options.Auth or Options.Audit")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.audit.Flush(ctx); err != nil {
		t.Fatalf("flush audit: %v", err)
	}
}

// secure sets up the Security of the stack: authentication off, or on with o.Clients as the clients file over the
// registry in the database; audit on with authentication or o.Audit.
func (s *Server) secure(t testing.TB, o Options, log *slog.Logger) {
	t.Helper()
	if o.Auth || o.Audit {
		trail, err := mongo.NewAudit(context.Background(), s.Store)
		if err != nil {
			t.Fatalf("audit trail: %v", err)
		}
		s.audit = audit.NewWriter(trail, audit.WriterOptions{Logger: log})
		t.Cleanup(func() { _ = s.audit.Close(context.Background()) })
		s.Security.Audit, s.Security.AuditLog = s.audit, trail
	}
	if !o.Auth {
		s.Security.Off = true
		return
	}
	fixed := make([]auth.Client, len(o.Clients))
	for i, c := range o.Clients {
		fixed[i] = c.Client
	}
	registry, err := auth.NewRegistry(fixed, mongo.NewClients(s.Store))
	if err != nil {
		t.Fatalf("clients: %v", err)
	}
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	ao := auth.DefaultOptions()
	ao.Issuer = s.URL
	keys, err := auth.NewKeySet(ao.TokenLifetime+ao.ClockSkew, nil, key)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.NewService(auth.Deps{Clients: registry, Keys: keys, Replay: mongo.NewReplayCache(s.Store)}, ao)
	if err != nil {
		t.Fatal(err)
	}
	pseudonyms, err := auth.NewPseudonymiser([]byte("a test secret of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	s.Security = api.Security{Auth: svc, Keys: keys, Clients: registry, Issuer: s.URL,
		Audit: s.Security.Audit, AuditLog: s.Security.AuditLog, Pseudonymiser: pseudonyms}
	if o.RateLimit > 0 {
		s.Security.Limiter = auth.NewRateLimiter(o.RateLimit, int(2*o.RateLimit), nil)
	}
}
