package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestNewKeySet_Refuses(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		keys []*ecdsa.PrivateKey
		want string
	}{
		{"no key", nil, "no signing key"},
		{"P-256 key", []*ecdsa.PrivateKey{p256}, "P-384"},
		{"nil key", []*ecdsa.PrivateKey{nil}, "P-384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewKeySet(time.Minute, nil, tc.keys...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewKeySet err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestKeySet_JWKS_PublicOnly(t *testing.T) {
	clock := newFakeClock()
	prev, cur := mustECKey(t), mustECKey(t)
	ks, err := NewKeySet(time.Minute, clock.Now, prev, cur)
	if err != nil {
		t.Fatal(err)
	}
	set := ks.JWKS()
	if len(set.Keys) != 2 || set.Keys[0].Kid != mustJWK(t, &cur.PublicKey).Kid {
		t.Fatalf("JWKS = %+v, want the current key first, then the previous", set)
	}
	for _, k := range set.Keys {
		if k.D != "" || k.Alg != AlgES384 || k.Use != "sig" {
			t.Errorf("published key %+v: want public, ES384, sig", k)
		}
	}
	d := cur.D.Text(16)
	for _, s := range []string{fmt.Sprint(ks), fmt.Sprintf("%+v", ks), fmt.Sprintf("%#v", ks), mustJSON(t, set)} {
		if strings.Contains(s, d) {
			t.Errorf("the private key leaks into %q", s)
		}
	}
	clock.Advance(time.Minute)
	if n := len(ks.JWKS().Keys); n != 1 {
		t.Errorf("after the retention: %d keys published, want 1", n)
	}
	if err := ks.RotateTo(cur); err != nil || len(ks.JWKS().Keys) != 1 {
		t.Errorf("RotateTo(current) = %v, %d keys; want nil, 1", err, len(ks.JWKS().Keys))
	}
}
