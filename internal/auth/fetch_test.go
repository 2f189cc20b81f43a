package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHTTPFetcher(t *testing.T) {
	jwk := mustJWK(t, &mustECKey(t).PublicKey)
	set := mustJSON(t, JWKS{Keys: []JWK{jwk}})
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks.json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(set)) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/jwks.json", http.StatusFound)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys": [], "pad": "` + strings.Repeat("x", 2048) + `"}`))
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) })
	mux.HandleFunc("/nokeys", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) })
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	f := NewHTTPFetcher(HTTPFetcherOptions{Timeout: 5 * time.Second, MaxBytes: 1024, Transport: srv.Client().Transport})

	got, err := f.Fetch(context.Background(), srv.URL+"/jwks.json")
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if diff := cmp.Diff(JWKS{Keys: []JWK{jwk}}, got); diff != "" {
		t.Errorf("Fetch (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ name, uri, want string }{
		{"redirect not followed", srv.URL + "/redirect", "status 302"},
		{"too large", srv.URL + "/huge", "larger than 1024 bytes"},
		{"not JSON", srv.URL + "/html", "invalid JSON"},
		{"no keys", srv.URL + "/nokeys", "no keys member"},
		{"not found", srv.URL + "/missing", "status 404"},
		{"plain http", strings.Replace(srv.URL, "https:", "http:", 1) + "/jwks.json", "not an https URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.Fetch(context.Background(), tc.uri); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Fetch(%s) err = %v, want one containing %q", tc.uri, err, tc.want)
			}
		})
	}
}

func TestCachingFetcher(t *testing.T) {
	clock := newFakeClock()
	next := &fakeFetcher{sets: map[string]JWKS{"https://k.test/a": {Keys: []JWK{{Kid: "1"}}}}}
	c := NewCachingFetcher(next, time.Minute, clock.Now)
	for i, tc := range []struct {
		advance   time.Duration
		uri       string
		wantErr   bool
		wantCalls int
	}{
		{0, "https://k.test/a", false, 1},
		{30 * time.Second, "https://k.test/a", false, 1},
		{30 * time.Second, "https://k.test/a", false, 2}, // TTL over
		{0, "https://k.test/b", true, 3},
		{0, "https://k.test/b", true, 4}, // failures are not cached
	} {
		clock.Advance(tc.advance)
		_, err := c.Fetch(context.Background(), tc.uri)
		if (err != nil) != tc.wantErr || next.calls != tc.wantCalls {
			t.Errorf("step %d: err = %v, calls = %d; want error %v, calls %d", i, err, next.calls, tc.wantErr, tc.wantCalls)
		}
	}
}
