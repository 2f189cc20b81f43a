package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/accord-fhir/accord/fhir"
)

// PseudonymSystem is the identifier system of pseudonymised identifiers in what analysts read.
const PseudonymSystem = fhir.CanonicalBase + "/NamingSystem/pseudonym"

// MinPseudonymKeyBytes is the shortest secret a Pseudonymiser accepts.
const MinPseudonymKeyBytes = 32

// Pseudonymiser turns patient identifiers into pseudonyms: the keyed hash HMAC-SHA256(key, system, value). The same
// identifier always gives the same pseudonym under one key (so analysts can count and join), and without the key
// nobody can go back to the identifier, nor test a guessed NHS number.
type Pseudonymiser struct {
	key []byte
}

// NewPseudonymiser returns a Pseudonymiser keyed with a copy of secret, which comes from the environment or a file
// and must be at least MinPseudonymKeyBytes long (it returns an error otherwise).
func NewPseudonymiser(secret []byte) (*Pseudonymiser, error) {
	if len(secret) < MinPseudonymKeyBytes {
		return nil, errors.New("pseudonymisation key: at least 32 bytes are required")
	}
	return &Pseudonymiser{key: append([]byte(nil), secret...)}, nil
}

// Pseudonym returns the pseudonym of the identifier system|value: 64 hex digits.
func (p *Pseudonymiser) Pseudonym(system, value string) string {
	mac := hmac.New(sha256.New, p.key)
	// Length-prefixing the system keeps ("a|b", "c") and ("a", "b|c") apart.
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(system)))
	mac.Write(n[:])
	mac.Write([]byte(system))
	mac.Write([]byte(value))
	return hex.EncodeToString(mac.Sum(nil))
}

// String hides the key, so that a Pseudonymiser never prints it.
func (p *Pseudonymiser) String() string { return "Pseudonymiser{key: redacted}" }

// GoString is String, for %#v.
func (p *Pseudonymiser) GoString() string { return p.String() }
