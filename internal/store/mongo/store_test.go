package mongo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/embeddb"
	"github.com/accord-fhir/accord/internal/store"
)

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestStore opens a store on a fresh embedded database.
func newTestStore(t testing.TB, adjust func(*Options)) (*Store, *testClock) {
	t.Helper()
	db, err := embeddb.Start(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	return openTestStore(t, db.URI(), adjust)
}

func openTestStore(t testing.TB, uri string, adjust func(*Options)) (*Store, *testClock) {
	t.Helper()
	clock := &testClock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	opts := DefaultOptions()
	opts.SingleWriter, opts.Clock = true, clock.Now
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if adjust != nil {
		adjust(&opts)
	}
	s, err := Open(context.Background(), uri, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s, clock
}

func task(status string) fhir.Object {
	return fhir.Object{"resourceType": "Task", "status": status, "intent": "order"}
}

func put(id, status string) store.Write {
	return store.Write{Type: "Task", ID: id, Object: task(status), Method: "PUT"}
}

func mustCommit(t testing.TB, s *Store, ws ...store.Write) []store.Result {
	t.Helper()
	res, err := s.Commit(context.Background(), ws)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return res
}

func TestCommit_Versions(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	r := mustCommit(t, s, put("a", "requested"))
	if !r[0].Created || r[0].Resource.VersionID != "1" {
		t.Fatalf("first write = %+v, want created version 1", r[0])
	}
	r = mustCommit(t, s, store.Write{Type: "Task", ID: "a", Object: task("accepted"), IfMatch: "1", Method: "PUT"})
	if r[0].Created || r[0].Resource.VersionID != "2" {
		t.Fatalf("update = %+v, want version 2", r[0])
	}
	if _, err := s.Commit(ctx, []store.Write{{Type: "Task", ID: "a", Object: task("x"), IfMatch: "1"}}); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("stale If-Match: err = %v, want ErrPreconditionFailed", err)
	}
	mustCommit(t, s, store.Write{Type: "Task", ID: "a", Method: "DELETE"})
	if _, err := s.Read(ctx, "Task", "a"); !errors.Is(err, store.ErrGone) {
		t.Fatalf("read after delete: err = %v, want ErrGone", err)
	}
	if r := mustCommit(t, s, store.Write{Type: "Task", ID: "a", Method: "DELETE"}); !r[0].Noop {
		t.Errorf("second delete = %+v, want Noop", r[0])
	}
	v2, err := s.VRead(ctx, "Task", "a", "2")
	if err != nil || v2.Deleted {
		t.Fatalf("vread 2 = %+v, %v", v2, err)
	}
	obj, err := fhir.DecodeObject(v2.JSON, 64)
	if err != nil || obj["status"] != "accepted" || obj["id"] != "a" {
		t.Errorf("version 2 content = %s", v2.JSON)
	}
	if v3, err := s.VRead(ctx, "Task", "a", "3"); err != nil || !v3.Deleted {
		t.Errorf("vread 3 = %+v, %v; want the deletion", v3, err)
	}
	if _, err := s.VRead(ctx, "Task", "a", "4"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("vread 4: err = %v, want ErrNotFound", err)
	}
	if r := mustCommit(t, s, put("a", "ready")); !r[0].Created || r[0].Resource.VersionID != "4" {
		t.Errorf("re-create after delete = %+v, want created version 4", r[0])
	}
}

func TestCommit_Many_AllOrNothing(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	mustCommit(t, s, put("b", "requested"))
	stale := store.Write{Type: "Task", ID: "b", Object: task("accepted"), IfMatch: "7", Method: "PUT"}
	if _, err := s.Commit(ctx, []store.Write{put("new", "requested"), stale}); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("err = %v, want ErrPreconditionFailed", err)
	}
	if _, err := s.Read(ctx, "Task", "new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the failed commit left Task/new: %v", err)
	}
	assertVersions(t, s, 1)

	// A version slot taken between planning and insert fails the whole commit, and the first insert is undone.
	taken := versionDoc{ID: versionKey("Task", "c", 1), Type: "Task", RID: "c", VID: 1, TS: time.Now(), Method: "PUT", Raw: rawJSON{json: []byte(`{}`)}}
	if _, err := s.versions.InsertOne(ctx, taken); err != nil {
		t.Fatal(err)
	}
	_, err := s.Commit(ctx, []store.Write{put("d", "requested"), {Type: "Task", ID: "c", Object: task("x"), IfMatch: "", Method: "PUT"}})
	if err == nil {
		// The conflict is repaired and retried: then both must be there.
		for _, id := range []string{"c", "d"} {
			if _, err := s.Read(ctx, "Task", id); err != nil {
				t.Errorf("after retried commit, read %s: %v", id, err)
			}
		}
	} else if _, rerr := s.Read(ctx, "Task", "d"); !errors.Is(rerr, store.ErrNotFound) {
		t.Errorf("failed commit (%v) left Task/d", err)
	}
}

func TestCommit_Claims(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	w := put("p1", "requested")
	w.Claim = "Task?identifier=x|1"
	mustCommit(t, s, w)
	w2 := put("p2", "requested")
	w2.Claim = w.Claim
	_, err := s.Commit(ctx, []store.Write{w2})
	var held *store.ClaimedError
	if !errors.As(err, &held) || held.Ref != "Task/p1" {
		t.Fatalf("second claim: err = %v, want ClaimedError held by Task/p1", err)
	}
	if _, err := s.Read(ctx, "Task", "p2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused claim wrote Task/p2")
	}
	if err := s.ReleaseClaim(ctx, w.Claim, "Task/other"); err != nil {
		t.Fatal(err)
	}
	if h, err := s.ClaimHolder(ctx, w.Claim); err != nil || h.Ref != "Task/p1" {
		t.Errorf("release by a non-holder removed the claim: %+v %v", h, err)
	}
	if err := s.ReleaseClaim(ctx, w.Claim, "Task/p1"); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, w2)
}

// stopAt runs a commit whose goroutine stops dead at stage, as a crashed process would; layout, when set, adjusts
// the store's options.
func stopAt(t *testing.T, uri, stage string, layout func(*Options), ws ...store.Write) {
	t.Helper()
	s, _ := openTestStore(t, uri, func(o *Options) {
		if layout != nil {
			layout(o)
		}
		o.Hook = func(st string) {
			if st == stage {
				runtime.Goexit()
			}
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = s.Commit(context.Background(), ws)
		t.Errorf("the commit went past stage %s", stage)
	}()
	<-done
}

func TestRecover(t *testing.T) {
	for _, tc := range []struct {
		name, stage string
		visible     bool
		single      bool
	}{
		{"single writer: undecided is undone at once", "versions", false, true},
		{"single writer: committed is finished", "committed", true, true},
		{"several writers: undecided waits for the lease", "versions", false, false},
		{"several writers: committed is finished", "committed", true, false},
	} {
		for _, typeDBs := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/TypeDatabases=%v", tc.name, typeDBs), func(t *testing.T) {
				layout := func(o *Options) { o.TypeDatabases = typeDBs }
				db, err := embeddb.Start(t.TempDir(), nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = db.Close(context.Background()) })
				claimed := put("t1", "requested")
				claimed.Claim = "Task?identifier=s|1"
				stopAt(t, db.URI(), tc.stage, layout, claimed, put("t2", "requested"))

				s, clock := openTestStore(t, db.URI(), func(o *Options) { layout(o); o.SingleWriter = tc.single }) // Open runs Recover
				ctx := context.Background()
				pending, err := countPending(ctx, s)
				if wantPending := !tc.visible && !tc.single; err != nil || (pending > 0) != wantPending {
					t.Errorf("after restart, %d pending versions (%v); want some: %v", pending, err, wantPending)
				}
				for _, id := range []string{"t1", "t2"} {
					_, err := s.Read(ctx, "Task", id)
					if tc.visible != (err == nil) {
						t.Errorf("after restart, read %s: err = %v, want visible=%v", id, err, tc.visible)
					}
					_, err = s.VRead(ctx, "Task", id, "1")
					if tc.visible != (err == nil) {
						t.Errorf("after restart, vread %s: err = %v, want visible=%v", id, err, tc.visible)
					}
				}
				page, err := s.History(ctx, store.HistoryQuery{Count: 10})
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: 2, false: 0}[tc.visible]; len(page.Entries) != want {
					t.Errorf("system history has %d entries, want %d", len(page.Entries), want)
				}
				// Once the lease has passed, an undecided commit is removed entirely, claim included.
				clock.Add(time.Minute)
				if err := s.Recover(ctx); err != nil {
					t.Fatal(err)
				}
				n, err := countPending(ctx, s)
				if err != nil || n != 0 {
					t.Errorf("pending versions left after recovery: %d (%v)", n, err)
				}
				_, err = s.ClaimHolder(ctx, claimed.Claim)
				if tc.visible != (err == nil) {
					t.Errorf("claim after recovery: err = %v, want held=%v", err, tc.visible)
				}
				if r := mustCommit(t, s, put("t2", "accepted")); r[0].Created == tc.visible {
					t.Errorf("write after recovery = %+v", r[0])
				}
			})
		}
	}
}

// countPending counts the versions of undecided or unfinished commits, of every type.
func countPending(ctx context.Context, s *Store) (int, error) {
	vs, err := s.findVersions(ctx, bson.D{{Key: "txn", Value: bson.D{{Key: "$exists", Value: true}}}})
	return len(vs), err
}

func TestRecover_RepairsStaleCurrentView(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	mustCommit(t, s, put("r", "requested"))
	mustCommit(t, s, put("r", "accepted"))
	// A crash between the version insert and the current-view update leaves the view one version behind.
	v1, err := s.readVersion(ctx, "Task", "r", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.putCurrent(ctx, v1, nil); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Read(ctx, "Task", "r"); r.VersionID != "1" {
		t.Fatalf("setup: current is version %s", r.VersionID)
	}
	if err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Read(ctx, "Task", "r"); err != nil || r.VersionID != "2" {
		t.Errorf("after Recover, current = %s (%v), want 2", r.VersionID, err)
	}
	// A write that meets the stale view repairs it and succeeds too.
	if err := s.putCurrent(ctx, v1, nil); err != nil {
		t.Fatal(err)
	}
	if r := mustCommit(t, s, put("r", "completed")); r[0].Resource.VersionID != "3" {
		t.Errorf("write over a stale view made version %s, want 3", r[0].Resource.VersionID)
	}
}

func TestCommit_Concurrent(t *testing.T) {
	for _, single := range []bool{true, false} {
		t.Run(fmt.Sprintf("SingleWriter=%v", single), func(t *testing.T) {
			s, _ := newTestStore(t, func(o *Options) { o.SingleWriter = single })
			ctx := context.Background()
			mustCommit(t, s, put("x", "requested"))
			const n = 10
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok, stale := 0, 0
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.Commit(ctx, []store.Write{{Type: "Task", ID: "x", Object: task("accepted"), IfMatch: "1", Method: "PUT"}})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case errors.Is(err, store.ErrPreconditionFailed):
						stale++
					default:
						t.Errorf("Commit: %v", err)
					}
				}()
			}
			wg.Wait()
			if ok != 1 || stale != n-1 {
				t.Errorf("If-Match updates: %d succeeded, %d stale; want 1 and %d", ok, stale, n-1)
			}
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.Commit(ctx, []store.Write{put("x", "in-progress")}); err != nil {
						t.Errorf("unconditional update: %v", err)
					}
				}()
			}
			wg.Wait()
			r, err := s.Read(ctx, "Task", "x")
			if err != nil || r.VersionID != fmt.Sprint(n+2) {
				t.Errorf("current = %s (%v), want %d", r.VersionID, err, n+2)
			}
			assertVersions(t, s, n+2)
		})
	}
}

func assertVersions(t *testing.T, s *Store, want int) {
	t.Helper()
	n, err := s.versions.CountDocuments(context.Background(), bson.D{})
	if err != nil || int(n) != want {
		t.Errorf("versions stored = %d (%v), want %d", n, err, want)
	}
}

func TestHistory_Paging(t *testing.T) {
	s, clock := newTestStore(t, nil)
	ctx := context.Background()
	for i := 0; i < 25; i++ {
		clock.Add(time.Millisecond * time.Duration(i%2)) // some versions share a timestamp
		mustCommit(t, s, put(fmt.Sprint("h", i%3), fmt.Sprint("s", i)))
	}
	for _, tc := range []struct {
		name  string
		q     store.HistoryQuery
		total int
	}{
		{"system", store.HistoryQuery{Count: 10}, 25},
		{"type", store.HistoryQuery{Type: "Task", Count: 7}, 25},
		{"instance", store.HistoryQuery{Type: "Task", ID: "h0", Count: 3}, 9},
		{"other type", store.HistoryQuery{Type: "Patient", Count: 10}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			var last time.Time
			q := tc.q
			for pages := 0; ; pages++ {
				if pages > 30 {
					t.Fatal("paging does not end")
				}
				page, err := s.History(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page.Entries {
					key := e.Reference() + "/" + e.VersionID
					if seen[key] {
						t.Errorf("%s returned twice", key)
					}
					seen[key] = true
					if !last.IsZero() && e.LastUpdated.After(last) {
						t.Errorf("%s is newer than the entry before it", key)
					}
					last = e.LastUpdated
				}
				if page.Next == "" {
					break
				}
				q.Cursor = page.Next
			}
			if len(seen) != tc.total {
				t.Errorf("paged through %d versions, want %d", len(seen), tc.total)
			}
		})
	}
	since := store.HistoryQuery{Count: 100, Since: clock.Now()}
	page, err := s.History(ctx, since)
	if err != nil || len(page.Entries) == 0 || len(page.Entries) == 25 {
		t.Errorf("_since kept %d of 25 versions (%v)", len(page.Entries), err)
	}
	for _, e := range page.Entries {
		if e.LastUpdated.Before(since.Since) {
			t.Errorf("%s/%s is before _since", e.Reference(), e.VersionID)
		}
	}
}

func TestCommit_FindingsKeptWithTheVersion(t *testing.T) {
	s, _ := newTestStore(t, nil)
	w := put("f", "requested")
	w.Findings = []fhir.Issue{{Severity: fhir.SeverityWarning, Code: fhir.IssueInvariant, Clause: "2.4", Details: "no telephone attempt", Expression: []string{"Appointment"}}}
	mustCommit(t, s, w)
	mustCommit(t, s, put("f", "accepted")) // a version without findings
	page, err := s.History(context.Background(), store.HistoryQuery{Type: "Task", ID: "f", Count: 10})
	if err != nil || len(page.Entries) != 2 {
		t.Fatalf("history = %+v, %v", page, err)
	}
	if got := page.Entries[1].Findings; len(got) != 1 || got[0].Clause != "2.4" || got[0].Severity != fhir.SeverityWarning || got[0].Details != "no telephone attempt" {
		t.Errorf("version 1 findings = %+v", got)
	}
	if got := page.Entries[0].Findings; len(got) != 0 {
		t.Errorf("version 2 findings = %+v, want none", got)
	}
}
