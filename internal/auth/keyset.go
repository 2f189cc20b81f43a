package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// KeySet holds the keys Accord signs access tokens with (ES384): the current key, and the previous ones until the
// tokens they signed have expired. It is safe for concurrent use.
type KeySet struct {
	now    func() time.Time
	retain time.Duration

	mu   sync.RWMutex
	keys []signingKey // the last is current
}

// signingKey is one key of a KeySet.
type signingKey struct {
	kid     string
	key     *ecdsa.PrivateKey
	retired time.Time // zero for the current key
}

// NewKeySet returns a key set whose current key is the last of keys (the others are kept as previous keys, as if
// retired now). A previous key stays published and accepted for retain after it was retired: at least the access
// token lifetime plus the clock skew. now is the clock (nil: time.Now). It returns an error for no keys or a key
// not on P-384.
func NewKeySet(retain time.Duration, now func() time.Time, keys ...*ecdsa.PrivateKey) (*KeySet, error) {
	if now == nil {
		now = time.Now
	}
	if len(keys) == 0 {
		return nil, errors.New("key set: no signing key")
	}
	ks := &KeySet{now: now, retain: retain}
	for _, k := range keys {
		if err := ks.RotateTo(k); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

// GenerateSigningKey returns a new P-384 key for a KeySet, from a secure random source.
func GenerateSigningKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return k, nil
}

// Rotate makes a newly generated key current; the previous current key keeps verifying until its tokens expire.
func (ks *KeySet) Rotate() error {
	k, err := GenerateSigningKey()
	if err != nil {
		return err
	}
	return ks.RotateTo(k)
}

// RotateTo makes key current, like Rotate, for keys shared by several instances (loaded from a secret).
// It returns an error for a key not on P-384; making the current key current again does nothing.
func (ks *KeySet) RotateTo(key *ecdsa.PrivateKey) error {
	if key == nil || key.Curve != elliptic.P384() {
		return errors.New("key set: signing key must be ECDSA P-384 (ES384)")
	}
	jwk, err := PublicJWK(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("key set: %w", err)
	}
	now := ks.now()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if n := len(ks.keys); n > 0 && ks.keys[n-1].kid == jwk.Kid {
		return nil
	}
	kept := ks.keys[:0]
	for _, k := range ks.keys {
		if k.retired.IsZero() {
			k.retired = now
		}
		if now.Sub(k.retired) < ks.retain && k.kid != jwk.Kid {
			kept = append(kept, k)
		}
	}
	ks.keys = append(kept, signingKey{kid: jwk.Kid, key: key})
	return nil
}

// live returns the keys still in use at now (the current one last), under the read lock.
func (ks *KeySet) live() []signingKey {
	now := ks.now()
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	out := make([]signingKey, 0, len(ks.keys))
	for _, k := range ks.keys {
		if k.retired.IsZero() || now.Sub(k.retired) < ks.retain {
			out = append(out, k)
		}
	}
	return out
}

// JWKS returns the public keys to publish at /.well-known/jwks.json: the current key and the previous ones whose
// tokens may still be valid.
func (ks *KeySet) JWKS() JWKS {
	live := ks.live()
	set := JWKS{Keys: make([]JWK, 0, len(live))}
	for i := len(live) - 1; i >= 0; i-- {
		jwk, _ := PublicJWK(&live[i].key.PublicKey) // cannot fail: checked in RotateTo
		set.Keys = append(set.Keys, jwk)
	}
	return set
}

// String identifies the set by its key ids only: the private keys never reach a log.
func (ks *KeySet) String() string {
	live := ks.live()
	kids := make([]string, len(live))
	for i, k := range live {
		kids[i] = k.kid
	}
	return fmt.Sprintf("KeySet%v", kids)
}

// GoString is String, for %#v.
func (ks *KeySet) GoString() string { return ks.String() }

// sign signs claims with the current key, as an RFC 9068 access token (typ at+jwt).
func (ks *KeySet) sign(claims jwt.Claims) (string, error) {
	live := ks.live()
	cur := live[len(live)-1]
	t := jwt.NewWithClaims(jwt.SigningMethodES384, claims)
	t.Header["kid"] = cur.kid
	t.Header["typ"] = accessTokenType
	s, err := t.SignedString(cur.key)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// verificationKey is a jwt.Keyfunc: the public key of the live key named by the token's kid.
func (ks *KeySet) verificationKey(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	for _, k := range ks.live() {
		if k.kid == kid {
			return &k.key.PublicKey, nil
		}
	}
	return nil, fmt.Errorf("no live signing key with kid %q", kid)
}
