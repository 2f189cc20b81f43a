package config

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want func(*Config)
	}{
		{"defaults", nil, nil, func(*Config) {}},
		{"environment", map[string]string{"ACCORD_ADDR": "0.0.0.0:9000", "MONGODB_URI": "mongodb://db:27017", "ACCORD_DB": "sel", "ACCORD_MAX_BODY": "2MB", "ACCORD_SHUTDOWN_TIMEOUT": "5s",
			"ACCORD_TOKEN_KEY_FILE": "/run/secrets/token.pem", "ACCORD_PSEUDONYM_KEY_FILE": "/run/secrets/pseudonym"}, nil,
			func(c *Config) {
				c.Addr, c.MongoURI, c.Database, c.MaxBody, c.ShutdownTimeout = "0.0.0.0:9000", "mongodb://db:27017", "sel", 2<<20, 5*time.Second
				c.TokenKeyFile, c.PseudonymKeyFile = "/run/secrets/token.pem", "/run/secrets/pseudonym"
			}},
		{"security settings", map[string]string{"ACCORD_AUTH": "off", "ACCORD_CLIENTS_FILE": "clients.json", "ACCORD_RATE_LIMIT": "2.5",
			"ACCORD_TLS_CERT_FILE": "cert.pem", "ACCORD_TLS_KEY_FILE": "key.pem"}, []string{"-rate-limit", "0"},
			func(c *Config) {
				c.Auth, c.ClientsFile, c.RateLimit, c.TLSCertFile, c.TLSKeyFile = "off", "clients.json", 0, "cert.pem", "key.pem"
			}},
		{"flags win over environment", map[string]string{"ACCORD_ADDR": "0.0.0.0:9000"}, []string{"-addr", "127.0.0.1:0", "-data-dir", "/tmp/x", "-max-body", "512KB"},
			func(c *Config) { c.Addr, c.DataDir, c.MaxBody = "127.0.0.1:0", "/tmp/x", 512<<10 }},
		{"search page limit", map[string]string{"ACCORD_SEARCH_MAX_COUNT": "200"}, nil, func(c *Config) { c.SearchMaxCount = 200 }},
		{"garbage collector target", map[string]string{"ACCORD_GC_PERCENT": "150"}, nil, func(c *Config) { c.GCPercent = 150 }},
		{"garbage collector target by flag", map[string]string{"ACCORD_GC_PERCENT": "150"}, []string{"-gc-percent", "800"}, func(c *Config) { c.GCPercent = 800 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(tc.args, env(tc.env), io.Discard)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Default()
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoad_Invalid_NamesEachProblem(t *testing.T) {
	_, err := Load([]string{"extra"}, env(map[string]string{
		"ACCORD_ADDR": "nonsense", "ACCORD_MAX_BODY": "lots", "MONGODB_URI": "postgres://x", "ACCORD_DB": "a.b",
		"ACCORD_LOG_LEVEL": "loud", "ACCORD_BASE_URL": "ftp://x", "ACCORD_SHUTDOWN_TIMEOUT": "-1s",
		"ACCORD_AUTH": "maybe", "ACCORD_RATE_LIMIT": "fast", "ACCORD_TLS_CERT_FILE": "cert.pem", "ACCORD_SEARCH_MAX_COUNT": "0",
		"ACCORD_GC_PERCENT": "10",
	}), io.Discard)
	if err == nil {
		t.Fatal("Load accepted an invalid configuration")
	}
	for _, want := range []string{"unexpected arguments: extra", "ACCORD_ADDR", "ACCORD_MAX_BODY", "MONGODB_URI", "ACCORD_DB", "ACCORD_LOG_LEVEL", "ACCORD_BASE_URL", "ACCORD_SHUTDOWN_TIMEOUT",
		"ACCORD_AUTH", "ACCORD_RATE_LIMIT", "ACCORD_TLS_KEY_FILE", "ACCORD_SEARCH_MAX_COUNT", "ACCORD_GC_PERCENT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestLoad_MongoDBWithAuth_NeedsSharedKeyFiles(t *testing.T) {
	_, err := Load(nil, env(map[string]string{"MONGODB_URI": "mongodb://db:27017"}), io.Discard)
	for _, want := range []string{"ACCORD_TOKEN_KEY_FILE", "ACCORD_PSEUDONYM_KEY_FILE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("MONGODB_URI without %s: %v", want, err)
		}
	}
	if _, err := Load(nil, env(map[string]string{"MONGODB_URI": "mongodb://db:27017", "ACCORD_AUTH": "off"}), io.Discard); err != nil {
		t.Errorf("MONGODB_URI with ACCORD_AUTH=off: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"10MB": 10 << 20, "512kb": 512 << 10, "1048576": 1 << 20, "1 GB": 1 << 30, "100B": 100} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1MB", "ten", "1.5MB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}
