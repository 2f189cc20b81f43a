package auth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestKeySet_Replace_RollsOutANewKey(t *testing.T) {
	clock := newFakeClock()
	retain := 6 * time.Minute
	k1, k2 := mustECKey(t), mustECKey(t)
	kid := func(k any) string { return mustJWK(t, k).Kid }
	ks, err := NewKeySet(retain, clock.Now, k1)
	if err != nil {
		t.Fatal(err)
	}
	published := func() []string {
		var out []string
		for _, k := range ks.JWKS().Keys {
			out = append(out, k.Kid)
		}
		return out
	}
	signer := func() string {
		s, err := ks.sign(jwt.RegisteredClaims{Subject: "x"})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, _ := jwt.NewParser().ParseUnverified(s, &jwt.RegisteredClaims{})
		return tok.Header["kid"].(string)
	}
	// 1. The new key is added before the current one: published and accepted, not signing.
	if err := ks.Replace(k2, k1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour) // keys in the file never expire
	if len(published()) != 2 || signer() != kid(&k1.PublicKey) {
		t.Fatalf("after adding: published %v, signer %s", published(), signer())
	}
	// 2. Moved last: it signs.
	if err := ks.Replace(k1, k2); err != nil {
		t.Fatal(err)
	}
	if signer() != kid(&k2.PublicKey) {
		t.Fatalf("after moving last: signer %s", signer())
	}
	// 3. The old key removed from the file still verifies for the retention time, then goes.
	if err := ks.Replace(k2); err != nil {
		t.Fatal(err)
	}
	if len(published()) != 2 {
		t.Fatalf("just removed: published %v, want both", published())
	}
	clock.Advance(retain)
	if p := published(); len(p) != 1 || p[0] != kid(&k2.PublicKey) {
		t.Fatalf("after retention: published %v", p)
	}
	if err := ks.Replace(); err == nil {
		t.Error("Replace() accepted no keys")
	}
}
