package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
)

// The signature algorithms Accord accepts on client assertions, and signs its access tokens with (ES384).
const (
	AlgES384 = "ES384"
	AlgRS384 = "RS384"
)

// minRSABits is the smallest RSA modulus accepted on a client key.
const minRSABits = 2048

// p384CoordinateSize is the size in bytes of a P-384 coordinate.
const p384CoordinateSize = 48

// JWKS is a JSON Web Key Set (RFC 7517 section 5).
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is a public JSON Web Key (RFC 7517), EC P-384 or RSA: the only kinds that verify ES384 and RS384.
// D is decoded only so that private key material sent by mistake is refused.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	D   string `json:"d,omitempty"`
}

// Check returns an error naming what makes k unusable as a registered client key: a missing kid, private
// material, a use other than "sig", an alg other than ES384/RS384 or not matching the key type, an unsupported kty
// or curve, or malformed or too small key parameters.
func (k JWK) Check() error {
	switch {
	case k.Kid == "":
		return errors.New("kid is required")
	case k.D != "":
		return errors.New("private key material (d) must not be registered")
	case k.Use != "" && k.Use != "sig":
		return fmt.Errorf("use %q: want \"sig\"", k.Use)
	case k.Alg != "" && k.Alg != algFor(k.Kty):
		return fmt.Errorf("alg %q: want %s for kty %q", k.Alg, algFor(k.Kty), k.Kty)
	}
	_, err := k.PublicKey()
	return err
}

// algFor returns the one algorithm Accord accepts for keys of type kty, or "" for none.
func algFor(kty string) string {
	switch kty {
	case "EC":
		return AlgES384
	case "RSA":
		return AlgRS384
	}
	return ""
}

// PublicKey returns the *ecdsa.PublicKey (P-384) or *rsa.PublicKey of k, or an error naming what is wrong with it.
func (k JWK) PublicKey() (crypto.PublicKey, error) {
	switch k.Kty {
	case "EC":
		return k.ecKey()
	case "RSA":
		return k.rsaKey()
	case "":
		return nil, errors.New("kty is required")
	}
	return nil, fmt.Errorf("unsupported kty %q: want \"EC\" (P-384) or \"RSA\"", k.Kty)
}

// ecKey decodes an EC key on P-384, checking that the point is on the curve.
func (k JWK) ecKey() (*ecdsa.PublicKey, error) {
	if k.Crv != "P-384" {
		return nil, fmt.Errorf("unsupported crv %q: want \"P-384\" (ES384)", k.Crv)
	}
	x, err := decodeCoordinate("x", k.X)
	if err != nil {
		return nil, err
	}
	y, err := decodeCoordinate("y", k.Y)
	if err != nil {
		return nil, err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, errors.New("x, y: not a point on P-384")
	}
	return pub, nil
}

// decodeCoordinate decodes a base64url P-384 coordinate of exactly 48 bytes.
func decodeCoordinate(name, s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: not base64url without padding", name)
	}
	if len(b) != p384CoordinateSize {
		return nil, fmt.Errorf("%s: %d bytes, want %d for P-384", name, len(b), p384CoordinateSize)
	}
	return b, nil
}

// rsaKey decodes an RSA key of at least minRSABits with a sane public exponent.
func (k JWK) rsaKey() (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.Strict().DecodeString(k.N)
	if err != nil || len(nb) == 0 {
		return nil, errors.New("n: not base64url without padding")
	}
	eb, err := base64.RawURLEncoding.Strict().DecodeString(k.E)
	if err != nil || len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("e: not a base64url integer of at most 4 bytes")
	}
	n := new(big.Int).SetBytes(nb)
	e := int(new(big.Int).SetBytes(eb).Int64())
	if n.BitLen() < minRSABits {
		return nil, fmt.Errorf("n: %d-bit modulus, want at least %d", n.BitLen(), minRSABits)
	}
	if e < 3 || e%2 == 0 {
		return nil, fmt.Errorf("e: %d is not an odd exponent of at least 3", e)
	}
	return &rsa.PublicKey{N: n, E: e}, nil
}

// PublicJWK returns the public JWK of an *ecdsa.PublicKey (P-384) or *rsa.PublicKey, with use "sig", its alg, and
// as kid its RFC 7638 thumbprint. It returns an error for any other key.
func PublicJWK(pub crypto.PublicKey) (JWK, error) {
	var k JWK
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P384() {
			return JWK{}, errors.New("public JWK: EC key is not on P-384")
		}
		b, err := pub.Bytes()
		if err != nil {
			return JWK{}, fmt.Errorf("public JWK: %w", err)
		}
		enc := base64.RawURLEncoding
		k = JWK{Kty: "EC", Crv: "P-384", X: enc.EncodeToString(b[1 : 1+p384CoordinateSize]),
			Y: enc.EncodeToString(b[1+p384CoordinateSize:])}
	case *rsa.PublicKey:
		k = JWK{Kty: "RSA", N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}
	default:
		return JWK{}, fmt.Errorf("public JWK: unsupported key type %T", pub)
	}
	k.Use, k.Alg, k.Kid = "sig", algFor(k.Kty), k.thumbprint()
	return k, nil
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of k's required members, base64url.
func (k JWK) thumbprint() string {
	var canonical string
	if k.Kty == "EC" {
		canonical = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, k.Crv, k.X, k.Y)
	} else {
		canonical = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, k.E, k.N)
	}
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Key returns the public key of the set's key with this kid that can verify alg (ES384: EC, RS384: RSA).
// It returns an error when there is no such key, or when that key is malformed.
func (s JWKS) Key(kid, alg string) (crypto.PublicKey, error) {
	for _, k := range s.Keys {
		if k.Kid != kid || algFor(k.Kty) != alg || (k.Alg != "" && k.Alg != alg) || (k.Use != "" && k.Use != "sig") {
			continue
		}
		if err := k.Check(); err != nil {
			return nil, fmt.Errorf("key %q: %w", kid, err)
		}
		return k.PublicKey()
	}
	return nil, fmt.Errorf("no %s key with kid %q", alg, kid)
}
