package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestJWKThumbprint_RFC7638Example(t *testing.T) {
	// RFC 7638 section 3.1.
	k := JWK{Kty: "RSA", E: "AQAB", N: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR" +
		"1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ" +
		"MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_" +
		"xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
	if got, want := k.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}
	pub, err := k.PublicKey()
	if err != nil {
		t.Fatalf("PublicKey: %v", err)
	}
	if diff := cmp.Diff(k.N, mustJWK(t, pub).N); diff != "" {
		t.Errorf("PublicJWK(PublicKey) n (-want +got):\n%s", diff)
	}
}

func TestPublicJWK_RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		pub  any
		alg  string
	}{
		{"EC P-384", &mustECKey(t).PublicKey, AlgES384},
		{"RSA", &mustRSAKey(t).PublicKey, AlgRS384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := mustJWK(t, tc.pub)
			if k.Alg != tc.alg || k.Use != "sig" || k.Kid != k.thumbprint() || k.D != "" {
				t.Errorf("PublicJWK = %+v, want alg %s, use sig, kid = thumbprint, no d", k, tc.alg)
			}
			if err := k.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
			got, err := JWKS{Keys: []JWK{k}}.Key(k.Kid, tc.alg)
			if err != nil {
				t.Fatalf("Key: %v", err)
			}
			if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.pub) {
				t.Error("Key returned another public key")
			}
		})
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PublicJWK(&p256.PublicKey); err == nil || !strings.Contains(err.Error(), "P-384") {
		t.Errorf("PublicJWK(P-256) err = %v, want a P-384 error", err)
	}
}

func TestJWKSKey_Selection(t *testing.T) {
	ec := mustJWK(t, &mustECKey(t).PublicKey)
	enc := ec
	enc.Use, enc.Kid = "enc", "enc-key"
	broken := JWK{Kty: "EC", Kid: "broken", Crv: "P-384", X: "AA", Y: "AA"}
	set := JWKS{Keys: []JWK{enc, broken, ec}}
	for _, tc := range []struct {
		name, kid, alg, wantErr string
	}{
		{"found", ec.Kid, AlgES384, ""},
		{"wrong alg for the key", ec.Kid, AlgRS384, "no RS384 key"},
		{"encryption key", "enc-key", AlgES384, "no ES384 key"},
		{"malformed key", "broken", AlgES384, `key "broken": x: 1 bytes`},
		{"unknown kid", "other", AlgES384, `no ES384 key with kid "other"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := set.Key(tc.kid, tc.alg)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Key(%s, %s) err = %v, want %q", tc.kid, tc.alg, err, tc.wantErr)
			}
		})
	}
}
