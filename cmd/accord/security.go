package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/accord-fhir/accord/api"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/config"
	"github.com/accord-fhir/accord/internal/store/mongo"
)

// Files kept under the data directory by the embedded default, when no file is configured.
const (
	tokenKeyFile     = "token-keys.pem"
	pseudonymKeyFile = "pseudonym.key"
)

// keyReloadEvery is how often the token key file is read again, for rotation.
const keyReloadEvery = time.Minute

// authOffWarning is printed, loudly, when authentication is off.
const authOffWarning = `
*************************************************************************************
* WARNING: ACCORD_AUTH=off — AUTHENTICATION IS OFF.                                 *
* Every request is served WITHOUT A TOKEN, as an administrator with every scope.    *
* For local development only: never expose this instance or give it real data.     *
*************************************************************************************
`

// secrets are what authentication needs from files, read before the database starts so that a bad file stops
// the service at once.
type secrets struct {
	clients   []auth.Client // the clients file, and the development client
	dev       *auth.DevClient
	keys      []*ecdsa.PrivateKey
	keyFile   string
	pseudonym *auth.Pseudonymiser
}

// loadSecrets reads the clients file and the key files (generating the keys of the embedded default under the
// data directory), and registers the development client in the embedded default. It returns an error naming the
// file and the problem; it never prints a secret.
func loadSecrets(cfg config.Config) (*secrets, error) {
	s := &secrets{keyFile: cfg.TokenKeyFile}
	if cfg.ClientsFile != "" {
		clients, err := auth.LoadClientsFile(cfg.ClientsFile)
		if err != nil {
			return nil, fmt.Errorf("ACCORD_CLIENTS_FILE: %w", err)
		}
		s.clients = clients
	}
	if cfg.MongoURI == "" {
		dev, err := auth.LoadDevClient(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		s.dev, s.clients = &dev, append(s.clients, dev.Client)
	}
	if s.keyFile == "" {
		s.keyFile = filepath.Join(cfg.DataDir, tokenKeyFile)
	}
	pem, err := auth.ReadOrCreateSecret(s.keyFile, auth.NewSigningKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("token signing keys %s: %w", s.keyFile, err)
	}
	if s.keys, err = auth.ParseSigningKeys(pem); err != nil {
		return nil, fmt.Errorf("token signing keys %s: %w", s.keyFile, err)
	}
	pseudoFile := cfg.PseudonymKeyFile
	if pseudoFile == "" {
		pseudoFile = filepath.Join(cfg.DataDir, pseudonymKeyFile)
	}
	secret, err := auth.ReadOrCreateSecret(pseudoFile, newPseudonymSecret)
	if err != nil {
		return nil, fmt.Errorf("pseudonymisation key %s: %w", pseudoFile, err)
	}
	if s.pseudonym, err = auth.NewPseudonymiser(bytes.TrimSpace(secret)); err != nil {
		return nil, fmt.Errorf("pseudonymisation key %s: %w", pseudoFile, err)
	}
	return s, nil
}

func newPseudonymSecret() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return []byte(hex.EncodeToString(b) + "\n"), nil
}

// security is the running authentication and audit of the service.
type security struct {
	api.Security
	writer *audit.Writer
	replay *mongo.ReplayCache
	keyset *auth.KeySet
	keyPEM []byte
	s      *secrets
	log    *slog.Logger
}

// newSecurity builds the API's Security on the open store: the client registry (the clients file over the
// database), the token service issuing tokens for base, the rate limiter and the audit writer.
func newSecurity(ctx context.Context, cfg config.Config, s *secrets, st *mongo.Store, base string, log *slog.Logger) (*security, error) {
	trail, err := mongo.NewAudit(ctx, st)
	if err != nil {
		return nil, err
	}
	sec := &security{s: s, log: log, writer: audit.NewWriter(trail, audit.WriterOptions{Logger: log})}
	sec.Audit, sec.AuditLog, sec.HSTS = sec.writer, trail, cfg.TLSCertFile != ""
	if cfg.AuthOff() {
		sec.Off = true
		return sec, nil
	}
	registry, err := auth.NewRegistry(s.clients, mongo.NewClients(st))
	if err != nil {
		return nil, fmt.Errorf("clients: %w", err)
	}
	if hidden, err := registry.Hidden(ctx); err != nil {
		return nil, err
	} else if len(hidden) > 0 {
		log.Warn("clients of the clients file hide clients registered through the admin API", "client_ids", hidden)
	}
	opts := auth.DefaultOptions()
	opts.Issuer = base
	if sec.keyset, err = auth.NewKeySet(opts.TokenLifetime+opts.ClockSkew, nil, s.keys[len(s.keys)-1]); err != nil {
		return nil, err
	}
	if err := sec.keyset.Replace(s.keys...); err != nil {
		return nil, err
	}
	sec.replay = mongo.NewReplayCache(st)
	svc, err := auth.NewService(auth.Deps{Clients: registry, Keys: sec.keyset, Replay: sec.replay,
		Fetcher: auth.NewCachingFetcher(auth.NewHTTPFetcher(auth.HTTPFetcherOptions{}), 5*time.Minute, nil)}, opts)
	if err != nil {
		return nil, err
	}
	sec.Auth, sec.Keys, sec.Clients, sec.Issuer, sec.Pseudonymiser = svc, sec.keyset, registry, base, s.pseudonym
	if cfg.RateLimit > 0 {
		sec.Limiter = auth.NewRateLimiter(cfg.RateLimit, int(2*cfg.RateLimit), nil)
	}
	sec.keyPEM, _ = os.ReadFile(s.keyFile)
	return sec, nil
}

// run purges the replay cache and picks up new token keys until ctx ends.
func (sec *security) run(ctx context.Context) error {
	if sec.Off {
		return nil
	}
	t := time.NewTicker(keyReloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := sec.replay.Purge(ctx); err != nil && ctx.Err() == nil {
				sec.log.Error("replay cache purge failed", "err", err)
			}
			sec.reloadKeys()
		}
	}
}

// reloadKeys reads the token key file again and, when it changed, makes its keys the key set.
func (sec *security) reloadKeys() {
	data, err := os.ReadFile(sec.s.keyFile)
	if err != nil || bytes.Equal(data, sec.keyPEM) {
		if err != nil {
			sec.log.Error("token key file unreadable; the keys in use are kept", "file", sec.s.keyFile, "err", err)
		}
		return
	}
	keys, err := auth.ParseSigningKeys(data)
	if err == nil {
		err = sec.keyset.Replace(keys...)
	}
	if err != nil {
		sec.log.Error("token key file invalid; the keys in use are kept", "file", sec.s.keyFile, "err", err)
		return
	}
	sec.keyPEM = data
	sec.log.Info("token signing keys reloaded", "keys", sec.keyset.String())
}

// close writes the audit entries still queued.
func (sec *security) close(log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sec.writer.Close(ctx); err != nil {
		log.Error("closing the audit trail", "err", err)
	}
}

// announce says how authentication is set up: loudly when it is off, and how to get a token for the
// development client.
func announce(cfg config.Config, s *secrets, base string, stdout, stderr io.Writer) {
	if cfg.AuthOff() {
		fmt.Fprint(stderr, authOffWarning)
		fmt.Fprint(stdout, authOffWarning)
		return
	}
	if host, _, _ := net.SplitHostPort(cfg.Addr); cfg.BaseURL == "" && (host == "" || net.ParseIP(host).IsUnspecified()) {
		fmt.Fprintf(stderr, "WARNING: ACCORD_BASE_URL is not set, so access tokens are issued for %s, which clients "+
			"cannot reach: set ACCORD_BASE_URL to the URL clients use\n", base)
	}
	if s.dev == nil {
		return
	}
	fmt.Fprintf(stdout, "Development client %q (a %s of %s, scope %s) is registered. Get an access token with\n"+
		"  accord token        (from the source tree: go run ./cmd/accord token)\n"+
		"and send it, e.g.: curl -H \"Authorization: Bearer $(go run ./cmd/accord token)\" %s/Patient\n",
		s.dev.Client.ID, s.dev.Client.Role, auth.DevOrganization, auth.DevScope, base)
}

// loadTLS loads the certificate and key of direct HTTPS serving; nil when none is configured.
func loadTLS(cfg config.Config) (*tls.Config, error) {
	if cfg.TLSCertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("ACCORD_TLS_CERT_FILE, ACCORD_TLS_KEY_FILE: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

// serveOn serves on ln, over TLS when the server has a TLS configuration.
func serveOn(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}
