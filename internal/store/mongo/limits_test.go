package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/search"
	"github.com/accord-fhir/accord/internal/store"
	"github.com/accord-fhir/accord/profiles"
)

func TestIndexValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		index map[string]any
		want  int
	}{
		{"none", nil, 0},
		{"scalars", map[string]any{"a": "x", "b": time.Now(), "c": int64(1)}, 3},
		{"lists count their elements", map[string]any{"a": []any{"x", "y"}, "b": []string{"p", "q", "r"}, "c": "z"}, 6},
		{"empty list", map[string]any{"a": []any{}}, 0},
		{"bytes are one value", map[string]any{"a": []byte("abc")}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := indexValues(tc.index); got != tc.want {
				t.Errorf("indexValues(%v) = %d, want %d", tc.index, got, tc.want)
			}
		})
	}
}

// The default number of index values is far above what real resources need: every official R4 example, indexed
// by Accord's search parameters, stays under a fifth of it.
func TestDefaultMaxIndexValues_R4ExamplesWellUnder(t *testing.T) {
	reg, err := fhirsearch.Load(profiles.FS, fhirpath.NewEngine())
	if err != nil {
		t.Fatal(err)
	}
	ix := search.NewIndexer(reg, slog.New(slog.DiscardHandler))
	files, err := filepath.Glob("../../../testdata/r4examples/*.json")
	if err != nil || len(files) < 140 {
		t.Fatalf("%d examples (%v)", len(files), err)
	}
	most, which := 0, ""
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := fhir.DecodeObject(b, fhir.MaxDepth)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		index, err := ix.Index(obj["resourceType"].(string), obj)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if n := indexValues(index); n > most {
			most, which = n, filepath.Base(f)
		}
	}
	t.Logf("most index values: %d, %s", most, which)
	if most > DefaultMaxIndexValues/5 {
		t.Errorf("%s has %d index values, more than a fifth of DefaultMaxIndexValues (%d)", which, most, DefaultMaxIndexValues)
	}
}

// Small limits, so that the tests write little: fieldIndexer copies "k" into the view beside the raw resource.
const (
	testMaxDocument = 64 << 10
	testMaxValues   = 100
)

func newLimitedStore(t *testing.T, log *slog.Logger) *Store {
	t.Helper()
	s, _ := newTestStore(t, func(o *Options) {
		o.Indexer, o.MaxDocumentSize, o.MaxIndexValues = fieldIndexer{}, testMaxDocument, testMaxValues
		if log != nil {
			o.Logger = log
		}
	})
	return s
}

// tagged is a Basic with n tags, each an index value.
func tagged(n int) fhir.Object {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%d", i)
	}
	return basic("", "", tags...)
}

// incompressible is n letters that compression cannot shrink (stored JSON is compressed: a repeated letter would
// not reach any limit), the same on every call.
func incompressible(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(r.IntN(26))
	}
	return string(b)
}

// noted is a Basic with a string of n bytes that is not indexed.
func noted(n int) fhir.Object {
	obj := basic("", "")
	obj["note"] = incompressible(n)
	return obj
}

// manyFindings are clause warnings of about n bytes in all.
func manyFindings(n int) []fhir.Issue {
	var out []fhir.Issue
	for size := 0; size < n; size += 1 << 10 {
		out = append(out, fhir.Issue{Severity: fhir.SeverityWarning, Code: fhir.IssueInvariant, Clause: "2.4",
			Details: strings.Repeat("w", 1<<10), Expression: []string{"Basic.note"}})
	}
	return out
}

func TestCommit_TooLarge_NothingWritten(t *testing.T) {
	big := basic(incompressible(40<<10), "") // 40 KiB, twice in the view: the version fits, the view does not
	for _, tc := range []struct {
		name   string
		writes []store.Write // the last one is too large
		unit   string
	}{
		{"create: the view is too large", []store.Write{{Type: "Basic", ID: "new", Object: big, Method: "POST", New: true}}, "search index fields"},
		{"create: the resource alone is too large", []store.Write{{Type: "Basic", ID: "new", Object: noted(testMaxDocument), Method: "POST", New: true}}, "search index fields"},
		{"create: the version's findings make it too large", []store.Write{{Type: "Basic", ID: "new", Object: noted(testMaxDocument / 2),
			Findings: manyFindings(testMaxDocument / 2), Method: "POST", New: true}}, "findings"},
		{"create: too many index values", []store.Write{{Type: "Basic", ID: "new", Object: tagged(testMaxValues + 1), Method: "POST", New: true}}, "search index values"},
		{"update of a stored resource", []store.Write{{Type: "Basic", ID: "old", Object: big, Method: "PUT"}}, "search index fields"},
		{"update with If-Match", []store.Write{{Type: "Basic", ID: "old", Object: big, Method: "PUT", IfMatch: "1"}}, "search index fields"},
		{"with a claim (commit record)", []store.Write{{Type: "Basic", ID: "new", Object: big, Method: "POST", New: true, Claim: "Basic?identifier=s|1"}}, "search index fields"},
		{"a commit of two: the first is not written either", []store.Write{
			{Type: "Basic", ID: "small", Object: basic("a", ""), Method: "PUT"},
			{Type: "Basic", ID: "new", Object: big, Method: "POST", New: true},
		}, "search index fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newLimitedStore(t, nil)
			ctx := context.Background()
			mustCommit(t, s, store.Write{Type: "Basic", ID: "old", Object: basic("v1", ""), Method: "PUT"})

			_, err := s.Commit(ctx, tc.writes)
			var tl *store.TooLargeError
			last := tc.writes[len(tc.writes)-1]
			if !errors.As(err, &tl) || tl.Ref != "Basic/"+last.ID || !strings.Contains(tl.Unit, tc.unit) || tl.Size <= tl.Limit {
				t.Fatalf("Commit: err = %#v (%v), want a TooLargeError of Basic/%s in %q", tl, err, last.ID, tc.unit)
			}
			for _, id := range []string{"new", "small"} {
				if _, err := s.Read(ctx, "Basic", id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("read Basic/%s after the refused commit: %v, want ErrNotFound", id, err)
				}
			}
			if r, err := s.Read(ctx, "Basic", "old"); err != nil || r.VersionID != "1" {
				t.Errorf("Basic/old is at version %s (%v), want 1", r.VersionID, err)
			}
			assertVersions(t, s, 1)
			if n, err := countPending(ctx, s); err != nil || n != 0 {
				t.Errorf("%d pending versions (%v)", n, err)
			}
			if last.Claim != "" {
				if _, err := s.ClaimHolder(ctx, last.Claim); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("the refused commit left its claim: %v", err)
				}
			}
			// Nothing is left half done: the resource takes a write of an acceptable size.
			mustCommit(t, s, store.Write{Type: "Basic", ID: last.ID, Object: basic("v2", ""), Method: "PUT"})
		})
	}
}

func TestCommit_UnderTheLimits_Stored(t *testing.T) {
	for _, tc := range []struct {
		name string
		obj  fhir.Object
	}{
		{"indexed string", basic(incompressible(20<<10), "")},
		{"string not indexed", noted(testMaxDocument / 2)},
		{"index values at the limit", tagged(testMaxValues)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newLimitedStore(t, nil)
			mustCommit(t, s, store.Write{Type: "Basic", ID: "b", Object: tc.obj, Method: "PUT"})
			if _, err := s.Read(context.Background(), "Basic", "b"); err != nil {
				t.Errorf("read: %v", err)
			}
		})
	}
}

// The default limit keeps a document the database accepts: a view just under it is stored and read back.
func TestCommit_DefaultLimit_UnderTheDatabases(t *testing.T) {
	s, _ := newTestStore(t, func(o *Options) { o.Indexer = fieldIndexer{} })
	ctx := context.Background()
	k := incompressible(DefaultMaxDocumentSize/2 - 1024) // the view holds it twice
	mustCommit(t, s, store.Write{Type: "Basic", ID: "big", Object: basic(k, ""), Method: "PUT"})
	r, err := s.Read(ctx, "Basic", "big")
	if err != nil || !strings.Contains(string(r.JSON), k) {
		t.Fatalf("read: %v", err)
	}
	_, err = s.Commit(ctx, []store.Write{{Type: "Basic", ID: "big", Object: basic(k+incompressible(2048), ""), Method: "PUT"}})
	var tl *store.TooLargeError
	if !errors.As(err, &tl) || tl.Limit != DefaultMaxDocumentSize {
		t.Fatalf("a view over the default limit: err = %v, want a TooLargeError", err)
	}
}

func TestOpen_DocumentSizeAboveTheDatabases_Refused(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxDocumentSize = maxBSONSize + 1
	if s, err := Open(context.Background(), "mongodb://127.0.0.1:1", opts); err == nil {
		_ = s.Close(context.Background())
		t.Fatal("Open accepted a maximum document size above the database's")
	}
}

// logCount keeps the messages logged, with their attributes.
type logCount struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logCount) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCount) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCount) WithGroup(string) slog.Handler            { return l }

func (l *logCount) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, msg)
	return nil
}

func (l *logCount) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// Versions committed before writes were checked, whose views the database cannot store: Recover leaves them
// (logging each once) and still finishes the other unfinished writes.
func TestRecover_VersionTooLargeToBeCurrent_LeftAndLoggedOnce(t *testing.T) {
	log := &logCount{}
	s := newLimitedStore(t, slog.New(log))
	ctx := context.Background()
	big := basic(incompressible(40<<10), "")
	raw, err := fhir.Marshal(big)
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, store.Write{Type: "Basic", ID: "lone", Object: basic("v1", ""), Method: "PUT"})
	mustCommit(t, s, store.Write{Type: "Basic", ID: "stale", Object: basic("v1", ""), Method: "PUT"})
	mustCommit(t, s, store.Write{Type: "Basic", ID: "stale", Object: basic("v2", ""), Method: "PUT"})
	v1, err := s.readVersion(ctx, "Basic", "stale", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.putCurrent(ctx, v1, nil); err != nil { // a crash left Basic/stale's view at version 1
		t.Fatal(err)
	}
	// As a process before the check left them: version 2 of Basic/lone, and a committed commit of two.
	now := time.Now().UTC()
	docs := []versionDoc{
		{ID: versionKey("Basic", "lone", 2), Type: "Basic", RID: "lone", VID: 2, TS: now, Method: "PUT", Raw: rawJSON{json: raw}},
		{ID: versionKey("Basic", "t-big", 1), Type: "Basic", RID: "t-big", VID: 1, TS: now, Method: "POST", Created: true, Raw: rawJSON{json: raw}, Txn: "txn1"},
		{ID: versionKey("Basic", "t-small", 1), Type: "Basic", RID: "t-small", VID: 1, TS: now, Method: "POST", Created: true, Raw: rawJSON{json: []byte(`{"resourceType":"Basic"}`)}, Txn: "txn1"},
	}
	for _, d := range docs {
		if _, err := s.versionsOf("Basic").InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.txns.InsertOne(ctx, txnDoc{ID: "txn1", State: txnCommitted, TS: now}); err != nil {
		t.Fatal(err)
	}

	for run := range 3 {
		if err := s.Recover(ctx); err != nil {
			t.Fatalf("Recover run %d: %v", run+1, err)
		}
	}
	want := map[string]string{"lone": "1", "stale": "2", "t-small": "1", "t-big": ""}
	for id, vid := range want {
		r, err := s.Read(ctx, "Basic", id)
		if vid == "" && !errors.Is(err, store.ErrNotFound) || vid != "" && (err != nil || r.VersionID != vid) {
			t.Errorf("after Recover, Basic/%s is at version %q (%v), want %q", id, r.VersionID, err, vid)
		}
	}
	if n, err := countPending(ctx, s); err != nil || n != 0 {
		t.Errorf("%d pending versions after Recover (%v)", n, err)
	}
	for _, ref := range []string{"resource=Basic/lone", "resource=Basic/t-big"} {
		if n := log.count(ref + " version="); n != 1 {
			t.Errorf("%s is logged %d times, want once", ref, n)
		}
	}
}
