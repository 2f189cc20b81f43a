package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"
)

// Options configure a Service.
type Options struct {
	// Issuer is Accord's FHIR base URL: the iss and aud of the access tokens it issues. Required.
	Issuer string
	// TokenLifetime is how long an access token is valid.
	TokenLifetime time.Duration
	// ClockSkew is the tolerance on exp, nbf and iat, for clocks that differ slightly.
	ClockSkew time.Duration
	// MaxAssertionBytes is the size limit of a client assertion, and of an access token.
	MaxAssertionBytes int
}

// DefaultOptions returns 5-minute access tokens, 30 s of clock skew and a 16 KiB limit on assertions.
func DefaultOptions() Options {
	return Options{TokenLifetime: 5 * time.Minute, ClockSkew: 30 * time.Second, MaxAssertionBytes: 16 << 10}
}

// MaxAssertionLifetime is how far ahead the exp of a client assertion may be (SMART backend services).
const MaxAssertionLifetime = 5 * time.Minute

// Deps are what a Service is built from.
type Deps struct {
	Clients Clients
	Keys    *KeySet
	Replay  ReplayCache
	Fetcher KeyFetcher       // for clients registered with a jwks_uri; nil refuses them
	Now     func() time.Time // nil: time.Now
	Rand    io.Reader        // for token ids; nil: crypto/rand
}

// Service issues access tokens to registered clients against signed client assertions (Token) and verifies them
// (Authenticate).
type Service struct {
	d    Deps
	opts Options
}

// NewService returns a Service. It returns an error when a dependency is missing, the issuer is empty, or the key
// set would forget a retired key before the tokens it signed expire.
func NewService(d Deps, o Options) (*Service, error) {
	switch {
	case d.Clients == nil || d.Keys == nil || d.Replay == nil:
		return nil, errors.New("auth service: clients, keys and replay cache are required")
	case o.Issuer == "":
		return nil, errors.New("auth service: issuer (the FHIR base URL) is required")
	case o.TokenLifetime <= 0 || o.MaxAssertionBytes <= 0 || o.ClockSkew < 0:
		return nil, fmt.Errorf("auth service: invalid options %+v", o)
	case d.Keys.retain < o.TokenLifetime+o.ClockSkew:
		return nil, fmt.Errorf("auth service: key set retains retired keys %s, less than the token lifetime %s plus skew %s",
			d.Keys.retain, o.TokenLifetime, o.ClockSkew)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	return &Service{d: d, opts: o}, nil
}
