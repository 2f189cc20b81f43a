package auth

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token request parameters and values (SMART backend services, RFC 7523).
const (
	GrantTypeClientCredentials = "client_credentials"
	AssertionTypeJWTBearer     = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// TokenResponse is the JSON body of a successful token response.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// tokenRequest is a token request whose form has been checked.
type tokenRequest struct {
	assertion, scope, clientID string
}

// Token answers a client-credentials token request (the form of a POST to tokenURL, the token endpoint's own URL,
// which the assertion's aud must name). It authenticates the client by its signed assertion, grants the requested
// scopes that the client is registered for, and returns a signed access token.
//
// Refusals are *OAuthError: 400 invalid_request, unsupported_grant_type or invalid_scope for the form, 401
// invalid_client for any failure of the assertion. Other errors (registry or replay cache unreachable) are
// internal: HTTP 500.
func (s *Service) Token(ctx context.Context, form url.Values, tokenURL string) (TokenResponse, error) {
	req, err := s.parseTokenForm(form)
	if err != nil {
		return TokenResponse{}, err
	}
	client, err := s.verifyAssertion(ctx, req.assertion, tokenURL)
	if err != nil {
		return TokenResponse{}, err
	}
	if req.clientID != "" && req.clientID != client.ID {
		return TokenResponse{}, badClient(nil, "client_id does not match the assertion's iss")
	}
	requested, err := ParseScopes(req.scope)
	if err != nil {
		return TokenResponse{}, badRequest(CodeInvalidScope, "%v", err)
	}
	allowed, err := ParseScopes(strings.Join(client.Scopes, " "))
	if err != nil {
		return TokenResponse{}, fmt.Errorf("token for client %s: registered scopes: %w", client.ID, err)
	}
	granted := Grant(requested, allowed)
	if len(granted) == 0 {
		return TokenResponse{}, badRequest(CodeInvalidScope, "none of the requested scopes is granted to client %q",
			client.ID)
	}
	token, err := s.issue(client, granted)
	if err != nil {
		return TokenResponse{}, err
	}
	return TokenResponse{AccessToken: token, TokenType: "bearer",
		ExpiresIn: int(s.opts.TokenLifetime / time.Second), Scope: granted.String()}, nil
}

// parseTokenForm checks the form: every parameter at most once, the grant type, the assertion type, an assertion
// within the size limit, and a scope.
func (s *Service) parseTokenForm(form url.Values) (tokenRequest, error) {
	for name, vs := range form {
		if len(vs) > 1 {
			return tokenRequest{}, badRequest(CodeInvalidRequest, "parameter %q is repeated", name)
		}
	}
	switch gt := form.Get("grant_type"); gt {
	case GrantTypeClientCredentials:
	case "":
		return tokenRequest{}, badRequest(CodeInvalidRequest, "grant_type is required")
	default:
		return tokenRequest{}, badRequest(CodeUnsupportedGrantType, "grant_type must be %s", GrantTypeClientCredentials)
	}
	if form.Get("client_assertion_type") != AssertionTypeJWTBearer {
		return tokenRequest{}, badRequest(CodeInvalidRequest, "client_assertion_type must be %s", AssertionTypeJWTBearer)
	}
	req := tokenRequest{assertion: form.Get("client_assertion"), scope: form.Get("scope"), clientID: form.Get("client_id")}
	switch {
	case req.assertion == "":
		return tokenRequest{}, badRequest(CodeInvalidRequest, "client_assertion is required")
	case len(req.assertion) > s.opts.MaxAssertionBytes:
		return tokenRequest{}, badRequest(CodeInvalidRequest, "client_assertion is larger than %d bytes",
			s.opts.MaxAssertionBytes)
	case req.scope == "":
		return tokenRequest{}, badRequest(CodeInvalidRequest, "scope is required, e.g. system/Task.rs")
	}
	return req, nil
}

// issue signs an access token for client with the granted scopes.
func (s *Service) issue(c Client, granted Scopes) (string, error) {
	jti, err := randomID(s.d.Rand)
	if err != nil {
		return "", err
	}
	now := s.d.Now()
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.opts.Issuer, Subject: c.ID, Audience: jwt.ClaimStrings{s.opts.Issuer}, ID: jti,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(s.opts.TokenLifetime)),
		},
		ClientID: c.ID, Role: c.Role, Organizations: c.Organizations, Scope: granted.String(),
	}
	return s.d.Keys.sign(claims)
}

// randomID returns 16 random bytes from r, base64url.
func randomID(r io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// assertionMethods are the only algorithms accepted on client assertions.
func assertionMethods() []string { return []string{AlgES384, AlgRS384} }

// verifyAssertion authenticates the client by its assertion, as the SMART backend-services spec says: a known
// alg, a kid among the client's keys, a valid signature, iss = sub = client id, aud = tokenURL, exp present and no
// more than 5 minutes ahead, and a jti never seen before.
func (s *Service) verifyAssertion(ctx context.Context, raw, tokenURL string) (Client, error) {
	parser := jwt.NewParser(jwt.WithValidMethods(assertionMethods()))
	var unverified jwt.RegisteredClaims
	tok, _, err := parser.ParseUnverified(raw, &unverified)
	switch {
	case errors.Is(err, jwt.ErrTokenUnverifiable): // an alg the library does not know
		return Client{}, badClient(err, "client_assertion alg is not accepted: use ES384 or RS384")
	case err != nil:
		return Client{}, badClient(err, "client_assertion is not a well-formed JWT")
	}
	alg := tok.Method.Alg()
	kid, _ := tok.Header["kid"].(string)
	switch {
	case !slices.Contains(assertionMethods(), alg):
		return Client{}, badClient(nil, "client_assertion alg %q is not accepted: use ES384 or RS384", alg)
	case kid == "":
		return Client{}, badClient(nil, "client_assertion has no kid header")
	case unverified.Issuer == "":
		return Client{}, badClient(nil, "client_assertion has no iss (the client id)")
	case !clientIDPattern.MatchString(unverified.Issuer): // not echoed: it could be anything, and long
		return Client{}, badClient(nil, "client_assertion iss is not a client id")
	}
	client, err := s.d.Clients.Get(ctx, unverified.Issuer)
	if errors.Is(err, ErrClientNotFound) {
		return Client{}, badClient(nil, "unknown client %q", unverified.Issuer)
	} else if err != nil {
		return Client{}, fmt.Errorf("token: look up client: %w", err)
	}
	key, err := s.clientKey(ctx, client, kid, alg)
	if err != nil {
		return Client{}, err
	}
	claims, err := s.checkAssertion(raw, client.ID, tokenURL, key)
	if err != nil {
		return Client{}, err
	}
	return client, s.checkReplay(ctx, client.ID, claims)
}

// clientKey finds the client's key with kid for alg, fetching the client's jwks_uri when it has one.
func (s *Service) clientKey(ctx context.Context, c Client, kid, alg string) (crypto.PublicKey, error) {
	var set JWKS
	switch {
	case c.JWKS != nil:
		set = *c.JWKS
	case s.d.Fetcher == nil:
		return nil, badClient(nil, "client %q is registered with a jwks_uri, which this server cannot fetch", c.ID)
	default:
		var err error
		if set, err = s.d.Fetcher.Fetch(ctx, c.JWKSURI); err != nil {
			return nil, badClient(err, "the key set of client %q could not be fetched from its jwks_uri", c.ID)
		}
	}
	key, err := set.Key(kid, alg)
	if err != nil {
		return nil, badClient(err, "client %q: %v", c.ID, err)
	}
	return key, nil
}

// checkAssertion verifies the signature and claims of the assertion with key.
func (s *Service) checkAssertion(raw, clientID, tokenURL string, key crypto.PublicKey) (*jwt.RegisteredClaims, error) {
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods(assertionMethods()), jwt.WithIssuer(clientID), jwt.WithSubject(clientID),
		jwt.WithAudience(tokenURL), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(s.opts.ClockSkew), jwt.WithTimeFunc(s.d.Now), jwt.WithStrictDecoding())
	if err != nil {
		return nil, badClient(err, "client_assertion: %s", assertionProblem(err))
	}
	if claims.ExpiresAt.After(s.d.Now().Add(MaxAssertionLifetime + s.opts.ClockSkew)) {
		return nil, badClient(nil, "client_assertion exp is more than 5 minutes ahead")
	}
	if claims.ID == "" {
		return nil, badClient(nil, "client_assertion has no jti")
	}
	return claims, nil
}

// checkReplay refuses an assertion whose jti the client has used before.
func (s *Service) checkReplay(ctx context.Context, clientID string, claims *jwt.RegisteredClaims) error {
	seen, err := s.d.Replay.Seen(ctx, clientID+" "+claims.ID, claims.ExpiresAt.Add(s.opts.ClockSkew))
	if err != nil {
		return fmt.Errorf("token: replay cache: %w", err)
	}
	if seen {
		return badClient(nil, "client_assertion jti has already been used")
	}
	return nil
}

// assertionProblem says what a jwt validation error means, without quoting the token.
func assertionProblem(err error) string {
	for _, p := range []struct {
		target error
		text   string
	}{
		{jwt.ErrTokenMalformed, "not a well-formed JWT"},
		{jwt.ErrTokenSignatureInvalid, "signature does not verify with the client's key"},
		{jwt.ErrTokenRequiredClaimMissing, "iss, sub, aud and exp are required"},
		{jwt.ErrTokenExpired, "expired"},
		{jwt.ErrTokenNotValidYet, "not valid yet (nbf)"},
		{jwt.ErrTokenUsedBeforeIssued, "iat is in the future"},
		{jwt.ErrTokenInvalidIssuer, "iss must be the client id"},
		{jwt.ErrTokenInvalidSubject, "sub must be the client id"},
		{jwt.ErrTokenInvalidAudience, "aud must be the token endpoint URL"},
	} {
		if errors.Is(err, p.target) {
			return p.text
		}
	}
	return "invalid"
}
