package auth

import (
	"crypto/ecdsa"
	"errors"
	"slices"
)

// Replace makes keys the key set as read from the token key file: every one of them verifies tokens, and the last
// signs them. A key no longer among them keeps verifying for the retention time, as if retired now. So a new key
// is rolled out to several instances by adding it first before the current key (every instance then accepts its
// tokens), then moving it last (it signs), then removing the old key. It returns an error for no keys or a key not
// on P-384, and then changes nothing.
func (ks *KeySet) Replace(keys ...*ecdsa.PrivateKey) error {
	if len(keys) == 0 {
		return errors.New("key set: no signing key")
	}
	next := make([]signingKey, 0, len(keys))
	for _, k := range keys {
		if k == nil || k.Curve.Params().Name != "P-384" {
			return errors.New("key set: signing key must be ECDSA P-384 (ES384)")
		}
		jwk, err := PublicJWK(&k.PublicKey)
		if err != nil {
			return err
		}
		next = append(next, signingKey{kid: jwk.Kid, key: k})
	}
	now := ks.now()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	var kept []signingKey
	for _, old := range ks.keys {
		if slices.ContainsFunc(next, func(n signingKey) bool { return n.kid == old.kid }) {
			continue
		}
		if old.retired.IsZero() {
			old.retired = now
		}
		if now.Sub(old.retired) < ks.retain {
			kept = append(kept, old)
		}
	}
	ks.keys = append(kept, next...)
	return nil
}
