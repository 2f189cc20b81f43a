package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a strings.Builder safe for the concurrent writes of a running service.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// inProcess is accord serve running in this process.
type inProcess struct {
	addr           string
	stdout, stderr *syncBuffer
	stop           func()
}

// serveInProcess runs `accord serve` with env until the test ends.
func serveInProcess(t *testing.T, env map[string]string) *inProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &inProcess{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, p.stdout, p.stderr,
			func(a string) { addr <- a })
	}()
	select {
	case p.addr = <-addr:
	case err := <-done:
		cancel()
		t.Fatalf("accord serve stopped: %v\n%s", err, p.stderr)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("accord serve did not start:\n%s", p.stderr)
	}
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("accord serve: %v", err)
			}
		})
	}
	t.Cleanup(p.stop)
	return p
}

func TestAuth_ClientsFileDoesNotParse_RefusesToStart(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		mentions      []string
	}{
		{"not JSON", `{"clients": [`, []string{"invalid JSON"}},
		{"bad client", `{"clients": [{"client_id": "x", "role": "root", "scopes": ["system/Task.rs"], "jwks": {"keys": []}}]}`,
			[]string{"clients[0].role", `(client "x")`, "clients[0].jwks.keys"}},
		{"missing file", "", []string{"no such file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
			if tc.content != "" {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{"ACCORD_CLIENTS_FILE": path, "ACCORD_DATA_DIR": t.TempDir(), "ACCORD_ADDR": "127.0.0.1:0"}
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &syncBuffer{}, &syncBuffer{}, nil)
			if err == nil {
				t.Fatal("accord serve started with a bad clients file")
			}
			for _, want := range append(tc.mentions, "ACCORD_CLIENTS_FILE") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not mention %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestAuth_Off_WarnsLoudly(t *testing.T) {
	p := serveInProcess(t, map[string]string{"ACCORD_AUTH": "off", "ACCORD_DATA_DIR": t.TempDir(), "ACCORD_ADDR": "127.0.0.1:0"})
	resp, err := http.Get("http://" + p.addr + "/Patient")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /Patient without a token, auth off: %d", resp.StatusCode)
	}
	p.stop()
	for _, out := range []string{p.stderr.String(), p.stdout.String()} {
		if !strings.Contains(out, "AUTHENTICATION IS OFF") || !strings.Contains(out, "ACCORD_AUTH=off") {
			t.Errorf("no loud warning:\n%s", out)
		}
	}
}

func TestAuth_DevClientToken_EndToEnd(t *testing.T) {
	dir := t.TempDir()
	p := serveInProcess(t, map[string]string{"ACCORD_DATA_DIR": dir, "ACCORD_ADDR": "127.0.0.1:0"})
	if out := p.stdout.String(); !strings.Contains(out, "accord token") || !strings.Contains(out, "accord-dev") {
		t.Errorf("the start message does not say how to get a token:\n%s", out)
	}
	base := "http://" + p.addr
	get := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/Task", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := get(""); status != http.StatusUnauthorized {
		t.Errorf("GET /Task without a token: %d, want 401 (auth is on by default)", status)
	}
	var stdout, stderr syncBuffer
	env := map[string]string{"ACCORD_DATA_DIR": dir, "ACCORD_ADDR": p.addr}
	if err := run(context.Background(), []string{"token"}, func(k string) string { return env[k] }, &stdout, &stderr, nil); err != nil {
		t.Fatalf("accord token: %v\n%s", err, stderr.String())
	}
	token := strings.TrimSpace(stdout.String())
	if strings.Count(token, ".") != 2 || strings.Contains(token, "\n") {
		t.Fatalf("accord token printed %q, want one JWT", token)
	}
	if !strings.Contains(stderr.String(), "curl -H") {
		t.Errorf("accord token gives no example:\n%s", stderr.String())
	}
	if status := get(token); status != http.StatusOK {
		t.Errorf("GET /Task with the token of accord token: %d", status)
	}
	// The README's example: a Patient managed by the development client's organisation.
	body := `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],` +
		`"managingOrganization":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"XDEV01"}}}`
	req, _ := http.NewRequest(http.MethodPost, base+"/Patient", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("the README's POST /Patient: %d", resp.StatusCode)
	}
	// Without a running service, accord token says so.
	p.stop()
	err = run(context.Background(), []string{"token"}, func(k string) string { return env[k] }, &syncBuffer{}, &syncBuffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "serving") {
		t.Errorf("accord token without a service: %v", err)
	}
}

func TestAuth_TLS_ServesHTTPSWithHSTS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	p := serveInProcess(t, map[string]string{"ACCORD_DATA_DIR": dir, "ACCORD_ADDR": "127.0.0.1:0",
		"ACCORD_TLS_CERT_FILE": cert, "ACCORD_TLS_KEY_FILE": key})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get("https://" + p.addr + "/.well-known/smart-configuration")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" ||
		!strings.Contains(string(body), `"token_endpoint":"https://`+p.addr+`/auth/token"`) {
		t.Errorf("HTTPS smart-configuration: %d, HSTS %q: %s", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"), body)
	}
	if resp, err := http.Get("http://" + p.addr + "/metadata"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served on the TLS port")
		}
	}
	env := map[string]string{"ACCORD_DATA_DIR": dir, "ACCORD_TLS_CERT_FILE": cert, "ACCORD_TLS_KEY_FILE": filepath.Join(dir, "missing.pem")}
	err = run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &syncBuffer{}, &syncBuffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "ACCORD_TLS_KEY_FILE") {
		t.Errorf("a missing TLS key file: %v", err)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key under dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for path, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}
