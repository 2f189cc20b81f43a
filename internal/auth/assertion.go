package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Assertion describes a client assertion (RFC 7523) that a backend-services client signs to get an access token.
type Assertion struct {
	ClientID string        // iss and sub
	KeyID    string        // kid header: the registered key that signs
	TokenURL string        // aud
	JTI      string        // unique per assertion
	IssuedAt time.Time     // iat; exp is IssuedAt + Lifetime
	Lifetime time.Duration // at most MaxAssertionLifetime
}

// SignAssertion signs a as a JWT with key: an ES384 signature for a P-384 *ecdsa.PrivateKey, RS384 for an
// *rsa.PrivateKey. It returns an error for any other key or a missing field. Tests and `accord token` share it.
func SignAssertion(a Assertion, key crypto.Signer) (string, error) {
	if a.ClientID == "" || a.KeyID == "" || a.TokenURL == "" || a.JTI == "" || a.Lifetime <= 0 {
		return "", errors.New("sign assertion: client id, key id, token URL, jti and lifetime are required")
	}
	var method jwt.SigningMethod
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P384() {
			return "", errors.New("sign assertion: EC key is not on P-384")
		}
		method = jwt.SigningMethodES384
	case *rsa.PrivateKey:
		method = jwt.SigningMethodRS384
	default:
		return "", fmt.Errorf("sign assertion: unsupported key type %T", key)
	}
	t := jwt.NewWithClaims(method, jwt.RegisteredClaims{
		Issuer: a.ClientID, Subject: a.ClientID, Audience: jwt.ClaimStrings{a.TokenURL}, ID: a.JTI,
		IssuedAt: jwt.NewNumericDate(a.IssuedAt), ExpiresAt: jwt.NewNumericDate(a.IssuedAt.Add(a.Lifetime)),
	})
	t.Header["kid"] = a.KeyID
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign assertion: %w", err)
	}
	return s, nil
}

// ClientCredentialsForm returns the form of a backend-services token request with this assertion and scope.
func ClientCredentialsForm(assertion, scope string) url.Values {
	return url.Values{
		"grant_type":            {GrantTypeClientCredentials},
		"client_assertion_type": {AssertionTypeJWTBearer},
		"client_assertion":      {assertion},
		"scope":                 {scope},
	}
}
