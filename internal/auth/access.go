package auth

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/golang-jwt/jwt/v5"
)

// accessTokenType is the typ header of Accord's access tokens (RFC 9068), so that no other JWT passes for one.
const accessTokenType = "at+jwt"

// accessClaims are the claims of an access token.
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID      string   `json:"client_id"`
	Role          Role     `json:"role"`
	Organizations []string `json:"organizations"`
	Scope         string   `json:"scope"`
}

// BearerToken extracts the token from an Authorization header value "Bearer <token>" (scheme case-insensitive);
// ok is false for an empty header or another scheme.
func BearerToken(header string) (token string, ok bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Authenticate verifies an access token issued by this service (signed ES384 by a live key of the KeySet, typ
// at+jwt, iss and aud the issuer, not expired) and returns the caller as a Principal. The principal reflects the
// client's registration now: a client deleted since is refused, and its organisations and scopes are narrowed to
// what it is still registered for.
//
// A token that does not pass gives a *fhir.Error of code login (HTTP 401, with WWW-Authenticate: Bearer
// error="invalid_token"); other errors (registry unreachable) are internal.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	claims, err := s.verifyAccessToken(bearer)
	if err != nil {
		return Principal{}, err
	}
	client, err := s.d.Clients.Get(ctx, claims.ClientID)
	if errors.Is(err, ErrClientNotFound) {
		return Principal{}, invalidToken("the client of this access token is no longer registered")
	} else if err != nil {
		return Principal{}, err
	}
	if client.Role != claims.Role {
		return Principal{}, invalidToken("the client's role has changed: request a new access token")
	}
	granted, err := ParseScopes(claims.Scope)
	if err != nil {
		return Principal{}, invalidToken("access token scope does not parse")
	}
	allowed, err := ParseScopes(strings.Join(client.Scopes, " "))
	if err != nil {
		return Principal{}, err
	}
	orgs := slices.DeleteFunc(slices.Clone(claims.Organizations), func(o string) bool {
		return !slices.Contains(client.Organizations, o)
	})
	return Principal{ClientID: client.ID, Role: client.Role, Organizations: orgs, Scopes: Grant(granted, allowed),
		Identifiable: client.IdentifiableAccess && client.Role == RoleAnalyst}, nil
}

// verifyAccessToken checks the signature and the claims of an access token.
func (s *Service) verifyAccessToken(bearer string) (*accessClaims, error) {
	if bearer == "" {
		return nil, invalidToken("an access token is required")
	}
	if len(bearer) > s.opts.MaxAssertionBytes {
		return nil, invalidToken("access token is too large")
	}
	claims := &accessClaims{}
	tok, err := jwt.ParseWithClaims(bearer, claims, s.d.Keys.verificationKey,
		jwt.WithValidMethods([]string{AlgES384}), jwt.WithIssuer(s.opts.Issuer), jwt.WithAudience(s.opts.Issuer),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(s.opts.ClockSkew),
		jwt.WithTimeFunc(s.d.Now), jwt.WithStrictDecoding())
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, invalidToken("access token expired")
	case err != nil:
		return nil, invalidToken("access token is not valid")
	case tok.Header["typ"] != accessTokenType || claims.ClientID == "" || claims.Subject != claims.ClientID:
		return nil, invalidToken("not an access token of this server")
	}
	return claims, nil
}

// invalidToken returns the *fhir.Error of a refused access token.
func invalidToken(details string) error {
	return fhir.Errorf(fhir.IssueLogin, "", "%s", details)
}
