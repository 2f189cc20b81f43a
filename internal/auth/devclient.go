package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// The ready-made development client: a provider system of a made-up organisation with every scope, so that a
// newcomer's first request works. It is registered only when the service runs for development (see the README).
const (
	DevClientID     = "accord-dev"
	DevOrganization = "XDEV01"
	DevScope        = "system/*.cruds"
	// DevKeyFile is the name of the development client's private key file in the data directory.
	DevKeyFile = "dev-client-key.pem"
)

// DevClient is the development client's registration and private key.
type DevClient struct {
	Client Client
	Key    *ecdsa.PrivateKey
	KeyID  string
}

// LoadDevClient reads the development client's key from dir/DevKeyFile, creating the key (mode 0600) the first
// time, and returns the client to register. It returns an error when the file cannot be read or written or does not
// hold a P-384 key.
func LoadDevClient(dir string) (DevClient, error) {
	path := filepath.Join(dir, DevKeyFile)
	data, err := ReadOrCreateSecret(path, NewSigningKeyPEM)
	if err != nil {
		return DevClient{}, fmt.Errorf("dev client key %s: %w", path, err)
	}
	keys, err := ParseSigningKeys(data)
	if err != nil {
		return DevClient{}, fmt.Errorf("dev client key %s: %w", path, err)
	}
	key := keys[len(keys)-1]
	jwk, err := PublicJWK(&key.PublicKey)
	if err != nil {
		return DevClient{}, fmt.Errorf("dev client key %s: %w", path, err)
	}
	return DevClient{Key: key, KeyID: jwk.Kid, Client: Client{
		ID: DevClientID, Role: RoleProvider, Organizations: []string{DevOrganization}, Scopes: []string{DevScope},
		JWKS: &JWKS{Keys: []JWK{jwk}},
	}}, nil
}

// NewSigningKeyPEM makes a new P-384 signing key, as PEM: for the development client, and for Accord's own token
// keys when none are configured.
func NewSigningKeyPEM() ([]byte, error) {
	key, err := GenerateSigningKey()
	if err != nil {
		return nil, err
	}
	return MarshalPrivateKeyPEM(key)
}

// Assertion signs a client assertion for the development client, valid for one minute from now, with this jti.
func (d DevClient) Assertion(tokenURL string, now time.Time, jti string) (string, error) {
	return SignAssertion(Assertion{ClientID: d.Client.ID, KeyID: d.KeyID, TokenURL: tokenURL, JTI: jti,
		IssuedAt: now, Lifetime: time.Minute}, d.Key)
}

// String names the client without its private key.
func (d DevClient) String() string { return fmt.Sprintf("DevClient{%s, kid %s}", d.Client.ID, d.KeyID) }

// GoString is String, for %#v.
func (d DevClient) GoString() string { return d.String() }

// MarshalPrivateKeyPEM encodes a private key as a PKCS #8 PEM block.
func MarshalPrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseSigningKeys decodes the P-384 keys of PKCS #8 or SEC 1 PEM blocks, in order: the file of Accord's token
// signing keys holds the current key last, preceded by the previous ones. It returns an error when there is no
// key, a block does not parse or a key is not ECDSA P-384; the error never quotes the key.
func ParseSigningKeys(data []byte) ([]*ecdsa.PrivateKey, error) {
	var keys []*ecdsa.PrivateKey
	for i := 0; ; i++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		key, err := parseECKey(block)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", i, err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM private key found")
	}
	return keys, nil
}

// parseECKey decodes one PEM block as an ECDSA P-384 private key.
func parseECKey(b *pem.Block) (*ecdsa.PrivateKey, error) {
	var key any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("PEM type %q: want PRIVATE KEY or EC PRIVATE KEY", b.Type)
	}
	if err != nil {
		return nil, errors.New("not a valid private key")
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve.Params().Name != "P-384" {
		return nil, errors.New("not an ECDSA P-384 key")
	}
	return ec, nil
}
