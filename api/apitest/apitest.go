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
	"os"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api"
	"github.com/accord-fhir/accord/fhir/fhirpath"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/config"
	"github.com/accord-fhir/accord/internal/conformance"
	"github.com/accord-fhir/accord/internal/embeddb"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/search"
	"github.com/accord-fhir/accord/internal/store"
	"github.com/accord-fhir/accord/internal/store/mongo"
	"github.com/accord-fhir/accord/internal/validation"
	"github.com/accord-fhir/accord/profiles"
)

// pipeline loads the validation pipeline once per test binary: it is immutable and safe to share, and loading
// the definitions takes most of a second.
var pipeline = sync.OnceValues(func() (*validation.Pipeline, error) { return validation.Default(profiles.FS) })

// guide loads the implementation guide's conformance resources once per test binary (immutable, safe to share).
var guide = sync.OnceValues(func() (*conformance.Catalog, error) {
	return conformance.Load(profiles.FS, time.Date(2025, 11, 21, 0, 0, 0, 0, time.UTC), "ig/*.json")
})

// searchRegistry loads the R4 search parameters once per test binary (immutable, safe to share).
var searchRegistry = sync.OnceValues(func() (*fhirsearch.Registry, error) {
	return fhirsearch.Load(profiles.FS, fhirpath.NewEngine())
})

// defaultPack is the implementation guide's rule pack, loaded once per test binary (it is immutable).
var defaultPack = sync.OnceValues(func() (*ledger.Pack, error) {
	return ledger.LoadPack(profiles.FS, ledger.DefaultPack, nil, nil)
})

// Server is a running stack.
type Server struct {
	URL   string
	Store *mongo.Store
	Dir   string
	// DBURI is the embedded database's connection string, for tests that compare with direct driver access.
	DBURI string
	// DB is the embedded database.
	DB *embeddb.Server
	// Security is what the API was started with (authentication, audit); see Options.Auth.
	Security api.Security
	// Ledger is the obligations engine and ledger: tests Flush it, Sweep it, and read its store.
	Ledger *ledger.Ledger
	// LedgerStore is the ledger's persistence, for tests that look behind the API.
	LedgerStore *mongo.Ledger
	// audit is the audit writer, when audit is on.
	audit *audit.Writer
}

// Options adjust the stack a test starts.
type Options struct {
	// Dir is the data directory; empty uses a fresh t.TempDir().
	Dir     string
	MaxBody int64
	// Store adjusts the store options (e.g. a Hook or a Clock).
	Store func(*mongo.Options)
	// Auth starts the stack with authentication on, as `accord serve` runs by default: Clients are the clients
	// file, and Server.Token gets their access tokens through the token endpoint. Off by default (every request
	// then acts as auth.AuthOff()).
	Auth    bool
	Clients []*Client
	// RateLimit is the requests per second allowed to each client (burst twice that); 0: no limit.
	RateLimit float64
	// Audit records every request in the audit trail (always on with Auth).
	Audit bool
	// Clock, when set, is the clock of the store and the ledger (obligations fall due by it).
	Clock func() time.Time
	// Pack is the rule pack; nil loads the implementation guide's. Ledger adjusts the ledger options.
	Pack   *ledger.Pack
	Ledger func(*ledger.Options)
	// RuleLevels, when not nil, overrides the enforcement levels of Consensus clauses (the stack then loads a
	// validation pipeline of its own).
	RuleLevels validation.Levels
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
	scoping := auth.NewIndexer()
	searchParams, err := searchRegistry()
	if err != nil {
		t.Fatalf("search parameters: %v", err)
	}
	so.SingleWriter, so.TypeDatabases, so.QueryIndexes, so.Indexer, so.Logger = true, true, false, store.Indexers{search.NewIndexer(searchParams, quiet), scoping, ledger.Indexer{}}, quiet
	so.Dialer = db.Dialer() // queue writes per database, as accord serve does on the embedded database
	if o.Clock != nil {
		so.Clock = o.Clock
	}
	if o.Store != nil {
		o.Store(&so)
	}
	st, err := mongo.Open(context.Background(), db.URI(), so)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	scoping.Attach(st)
	v, err := pipeline()
	if o.RuleLevels != nil {
		v, err = validation.Load(profiles.FS, validation.Options{Levels: o.RuleLevels})
	}
	if err != nil {
		t.Fatalf("validation pipeline: %v", err)
	}
	led, ls := startLedger(t, st, o, quiet)
	cat, err := guide()
	if err != nil {
		t.Fatalf("implementation guide: %v", err)
	}
	sopts := search.DefaultOptions()
	sopts.Terminology = conformance.NewTerminology(cat, v.Terminology())
	searcher := search.New(st, searchParams, sopts)
	ro := rest.DefaultOptions()
	ro.Scoping = scoping.Scoping() // as accord serve: access shares the indexer's caches
	svc := rest.New(led.Observe(st), v, searcher, ro)
	ao := api.DefaultOptions()
	ao.Logger, ao.Ready, ao.Ledger, ao.Conformance, ao.Includes = quiet, st.Ping, led, cat, searcher
	if o.MaxBody > 0 {
		ao.MaxBody = o.MaxBody
	}
	hs := httptest.NewUnstartedServer(nil)
	srv := &Server{URL: "http://" + hs.Listener.Addr().String(), Store: st, Dir: o.Dir, DBURI: db.URI(), DB: db, Ledger: led, LedgerStore: ls}
	srv.secure(t, o, quiet)
	ao.Security = srv.Security
	hs.Config.Handler, hs.Config.MaxHeaderBytes = api.New(svc, ao), 64<<10
	hs.Start()
	t.Cleanup(hs.Close)
	return srv
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

// startLedger runs the ledger over st until the test ends (it stops before the store closes).
func startLedger(t testing.TB, st *mongo.Store, o Options, log *slog.Logger) (*ledger.Ledger, *mongo.Ledger) {
	t.Helper()
	pack := o.Pack
	if pack == nil {
		var err error
		if pack, err = defaultPack(); err != nil {
			t.Fatalf("rule pack: %v", err)
		}
	}
	ls, err := mongo.NewLedger(context.Background(), st)
	if err != nil {
		t.Fatalf("open ledger: %v", err)
	}
	lo := ledger.DefaultOptions()
	lo.SingleWriter, lo.Logger = true, log
	if o.Clock != nil {
		lo.Clock = o.Clock
	}
	if o.Ledger != nil {
		o.Ledger(&lo)
	}
	led := ledger.New(st, ls, pack, lo)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- led.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ledger: %v", err)
		}
	})
	return led, ls
}

// RunAsServed gives the process the runtime settings `accord serve` gives itself (the garbage collector's target,
// unless GOGC is set), until the benchmark ends: benchmarks measure Accord as it runs.
func RunAsServed(b *testing.B) {
	if os.Getenv("GOGC") != "" {
		return
	}
	prev := debug.SetGCPercent(config.DefaultGCPercent)
	b.Cleanup(func() { debug.SetGCPercent(prev) })
}
