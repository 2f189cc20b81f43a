// Package apitest starts the whole Accord stack — embedded database, store, search, validation, FHIR
// interactions and HTTP API — for tests, and makes requests to it. Nothing is mocked.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api"
	"github.com/accord-fhir/accord/internal/embeddb"
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/search"
	"github.com/accord-fhir/accord/internal/store/mongo"
	"github.com/accord-fhir/accord/internal/validation"
	"github.com/accord-fhir/accord/profiles"
)

// pipeline loads the validation pipeline once per test binary: it is immutable and safe to share, and loading
// the definitions takes most of a second.
var pipeline = sync.OnceValues(func() (*validation.Pipeline, error) { return validation.Default(profiles.FS) })

// Server is a running stack.
type Server struct {
	URL   string
	Store *mongo.Store
	Dir   string
	// DBURI is the embedded database's connection string, for tests that compare with direct driver access.
	DBURI string
}

// Options adjust the stack a test starts.
type Options struct {
	// Dir is the data directory; empty uses a fresh t.TempDir().
	Dir     string
	MaxBody int64
	// Store adjusts the store options (e.g. a Hook or a Clock).
	Store func(*mongo.Options)
}

// Start runs the stack on a fresh embedded database and stops it when the test ends.
func Start(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	db, err := embeddb.Start(o.Dir, nil)
	if err != nil {
		t.Fatalf("start embedded database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Close(ctx)
	})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	so := mongo.DefaultOptions()
	so.SingleWriter, so.Indexer, so.Logger = true, search.Identifiers{}, quiet
	if o.Store != nil {
		o.Store(&so)
	}
	st, err := mongo.Open(context.Background(), db.URI(), so)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	v, err := pipeline()
	if err != nil {
		t.Fatalf("validation pipeline: %v", err)
	}
	svc := rest.New(st, v, search.NewIdentifiers(st), rest.DefaultOptions())
	ao := api.DefaultOptions()
	ao.Logger, ao.Ready = quiet, st.Ping
	if o.MaxBody > 0 {
		ao.MaxBody = o.MaxBody
	}
	hs := httptest.NewServer(api.New(svc, ao))
	t.Cleanup(hs.Close)
	return &Server{URL: hs.URL, Store: st, Dir: o.Dir, DBURI: db.URI()}
}

// Response is a response read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object (numbers as json.Number); it fails the test when it is not one.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("response body is not a JSON object (status %d): %v\n%s", r.Status, err, r.Body)
	}
	return m
}

// Do sends a request; body may be nil, a string, []byte, or any value to encode as JSON. headers alternate
// name, value. A FHIR JSON Content-Type is set for a body unless headers set one.
func (s *Server) Do(t testing.TB, method, path string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode request body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
