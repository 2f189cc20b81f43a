package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadDevClient_CreatesOnceAndGetsAToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	dev, err := LoadDevClient(dir)
	if err != nil {
		t.Fatalf("LoadDevClient: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, DevKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want mode 0600", err, info.Mode())
	}
	again, err := LoadDevClient(dir)
	if err != nil || again.KeyID != dev.KeyID {
		t.Fatalf("second LoadDevClient = %v, %v; want the same key %s", again.KeyID, err, dev.KeyID)
	}

	f := newFixture(t)
	if err := f.clients.Put(context.Background(), dev.Client); err != nil {
		t.Fatalf("register the dev client: %v", err)
	}
	assertion, err := dev.Assertion(testTokenURL, f.clock.Now(), "dev-1")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.svc.Token(context.Background(), ClientCredentialsForm(assertion, DevScope), testTokenURL)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	p, err := f.svc.Authenticate(context.Background(), resp.AccessToken)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p.ClientID != DevClientID || !p.ActsFor(DevOrganization) || !p.Allows("Task", InteractionCreate) {
		t.Errorf("principal = %+v, want the dev client, acting for %s, allowed to create Tasks", p, DevOrganization)
	}
	d := dev.Key.D.Text(16)
	for _, s := range []string{fmt.Sprint(dev), fmt.Sprintf("%+v", dev), fmt.Sprintf("%#v", dev)} {
		if strings.Contains(s, d) {
			t.Errorf("the dev client's private key leaks into %q", s)
		}
	}
}

func TestParseSigningKeys(t *testing.T) {
	ec1, ec2 := mustECKey(t), mustECKey(t)
	pem1, err := MarshalPrivateKeyPEM(ec1)
	if err != nil {
		t.Fatal(err)
	}
	pem2, err := MarshalPrivateKeyPEM(ec2)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec2)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM, err := MarshalPrivateKeyPEM(mustRSAKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		want    int
		wantErr string
	}{
		{"two PKCS #8 keys", append(pem1, pem2...), 2, ""},
		{"SEC 1 key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), 1, ""},
		{"nothing", []byte("not a key"), 0, "no PEM private key"},
		{"RSA key", rsaPEM, 0, "not an ECDSA P-384 key"},
		{"public key", publicKeyPEM(t, &ec1.PublicKey), 0, `PEM type "PUBLIC KEY"`},
		{"corrupt", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}), 0, "not a valid private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParseSigningKeys(tc.data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(keys) != tc.want || !keys[len(keys)-1].Equal(ec2) && tc.want == 2 {
				t.Errorf("ParseSigningKeys = %d keys, %v; want %d in order", len(keys), err, tc.want)
			}
		})
	}
}

func TestSignAssertion_Refuses(t *testing.T) {
	ok := Assertion{ClientID: "c", KeyID: "k", TokenURL: testTokenURL, JTI: "j", IssuedAt: time.Now(), Lifetime: time.Minute}
	noJTI := ok
	noJTI.JTI = ""
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		a    Assertion
		key  crypto.Signer
		want string
	}{
		{"no jti", noJTI, mustECKey(t), "required"},
		{"Ed25519 key", ok, edKey, "unsupported key type"},
		{"P-256 key", ok, p256, "not on P-384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := SignAssertion(tc.a, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("SignAssertion err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
