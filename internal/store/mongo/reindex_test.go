package mongo

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/embeddb"
	"github.com/accord-fhir/accord/internal/store"
)

// Derived indexing with Accord's organisation scoping (auth.Indexer): a Task's acl holds its patient's GP practice.

// openScopedStore opens a store on uri indexed by organisation scoping, the indexer attached as accord serve does.
func openScopedStore(t testing.TB, uri string, adjust func(*Options)) (*Store, *testClock) {
	t.Helper()
	ix := auth.NewIndexer()
	s, clock := openTestStore(t, uri, func(o *Options) {
		o.Indexer = ix
		if adjust != nil {
			adjust(o)
		}
	})
	ix.Attach(s)
	return s, clock
}

func newScopedStore(t testing.TB) (*Store, string) {
	t.Helper()
	db, err := embeddb.Start(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	s, _ := openScopedStore(t, db.URI(), nil)
	return s, db.URI()
}

func odsRef(code string) map[string]any {
	return map[string]any{"identifier": map[string]any{"system": auth.ODSSystem, "value": code}}
}

// patientAt writes Patient/id registered with the GP practice gp.
func patientAt(id, gp string) store.Write {
	return store.Write{Type: "Patient", ID: id, Method: "PUT",
		Object: fhir.Object{"resourceType": "Patient", "generalPractitioner": []any{odsRef(gp)}}}
}

// taskFor writes Task/id owned by owner, for Patient/patient.
func taskFor(id, owner, patient string) store.Write {
	return store.Write{Type: "Task", ID: id, Method: "PUT", Object: fhir.Object{"resourceType": "Task", "status": "requested",
		"intent": "order", "owner": odsRef(owner), "for": map[string]any{"reference": "Patient/" + patient}}}
}

// aclIDs returns the ids of the current resources of typ whose acl holds token.
func aclIDs(t testing.TB, s *Store, typ, token string) []string {
	t.Helper()
	page, err := s.Find(context.Background(), typ, store.Query{Conds: []store.Cond{{Field: auth.FieldACL, Op: store.OpEq, Values: []any{token}}}})
	if err != nil {
		t.Fatal(err)
	}
	return ids(page.Resources)
}

// restrictedTo is a restriction to the resources whose acl holds token (the directory types unrestricted).
func restrictedTo(token string) store.Restriction {
	return func(typ string) []store.Cond {
		if typ == "Organization" {
			return nil
		}
		return []store.Cond{{Field: auth.FieldACL, Op: store.OpEq, Values: []any{token}}}
	}
}

// historyOf reads a whole type (or system) history restricted to token, count versions a page, as "Type/id/vid";
// it fails the test when a page but the last is short.
func historyOf(t testing.TB, s *Store, typ, token string, count int) []string {
	t.Helper()
	ctx := store.WithRestriction(context.Background(), restrictedTo(token))
	var out []string
	q := store.HistoryQuery{Type: typ, Count: count}
	for range 100 {
		page, err := s.History(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			out = append(out, e.Type+"/"+e.ID+"/"+e.VersionID)
		}
		if page.Next == "" {
			return out
		}
		if len(page.Entries) != count {
			t.Errorf("a page of %d entries before the last, want %d", len(page.Entries), count)
		}
		q.Cursor = page.Next
	}
	t.Fatal("history paging does not end")
	return nil
}

func pendingReindexes(t testing.TB, s *Store) []string {
	t.Helper()
	cur, err := s.reindexes.Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []reindexDoc
	if err := cur.All(context.Background(), &recs); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Ref)
	}
	return out
}

// aboutP1 writes Patient p1 at practice A and what is about p1: Task t1 in two versions, Task t2 deleted, and
// Task t3 for another patient.
func aboutP1(t *testing.T, s *Store) {
	t.Helper()
	mustCommit(t, s, patientAt("p1", "GPA01"))
	mustCommit(t, s, taskFor("t1", "RJ1", "p1"))
	mustCommit(t, s, taskFor("t1", "RJ1", "p1"))
	mustCommit(t, s, taskFor("t2", "RJ1", "p1"))
	mustCommit(t, s, store.Write{Type: "Task", ID: "t2", Method: "DELETE"})
	mustCommit(t, s, taskFor("t3", "RJ1", "p9"))
}

func TestReindex_PatientChangesPractice_DependentsFollow(t *testing.T) {
	s, _ := newScopedStore(t)
	aboutP1(t, s)
	aboutA := []string{"Patient/p1/1", "Task/t1/1", "Task/t1/2", "Task/t2/1", "Task/t2/2"}
	if got := aclIDs(t, s, "Task", "GPA01"); !slices.Equal(got, []string{"t1"}) {
		t.Fatalf("before the move, practice A finds Tasks %v, want [t1]", got)
	}
	if got := historyOf(t, s, "", "GPA01", 2); !sameSet(got, aboutA) {
		t.Fatalf("before the move, practice A's history holds %v, want %v", got, aboutA)
	}

	mustCommit(t, s, patientAt("p1", "GPB01"))
	for _, tc := range []struct {
		name, token string
		tasks       []string
		history     []string
	}{
		{"the new practice", "GPB01", []string{"t1"}, append(slices.Clone(aboutA), "Patient/p1/2")},
		{"the old practice", "GPA01", nil, nil},
		{"the owner", "RJ1", []string{"t1", "t3"}, []string{"Task/t1/1", "Task/t1/2", "Task/t2/1", "Task/t2/2", "Task/t3/1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := aclIDs(t, s, "Task", tc.token); !slices.Equal(got, tc.tasks) {
				t.Errorf("search finds Tasks %v, want %v", got, tc.tasks)
			}
			if got := historyOf(t, s, "", tc.token, 2); !sameSet(got, tc.history) {
				t.Errorf("system history holds %v, want %v", got, tc.history)
			}
		})
	}
	if p := pendingReindexes(t, s); len(p) != 0 {
		t.Errorf("pending re-indexes left after the commit: %v", p)
	}
	// The deleted Task keeps its sources, so that the next move finds it too.
	mustCommit(t, s, patientAt("p1", "GPC01"))
	if got := historyOf(t, s, "Task", "GPC01", 10); !sameSet(got, aboutA[1:]) {
		t.Errorf("after a second move, practice C's Task history holds %v, want %v", got, aboutA[1:])
	}
}

func TestReindex_PatientCreatedAfterItsData(t *testing.T) {
	s, _ := newScopedStore(t)
	mustCommit(t, s, taskFor("t1", "RJ1", "p1"))
	mustCommit(t, s, patientAt("p1", "GPA01")) // a client-assigned id: data may name it before it exists
	if got := aclIDs(t, s, "Task", "GPA01"); !slices.Equal(got, []string{"t1"}) {
		t.Errorf("practice A finds Tasks %v, want [t1]", got)
	}
	// In one transaction, a new Patient and its Task: the Task could not read the Patient.
	p := patientAt("p2", "GPB01")
	p.New = true
	mustCommit(t, s, p, taskFor("t2", "RJ1", "p2"))
	if got := aclIDs(t, s, "Task", "GPB01"); !slices.Equal(got, []string{"t2"}) {
		t.Errorf("practice B finds Tasks %v, want [t2]", got)
	}
}

func TestCommit_VersionScope_FollowsTheCurrentVersion(t *testing.T) {
	s, _ := newScopedStore(t)
	mustCommit(t, s, taskFor("t1", "RJ1", "none"))
	mustCommit(t, s, taskFor("t1", "RJ2", "none")) // handed to RJ2: its whole history goes with it
	mustCommit(t, s, store.Write{Type: "Task", ID: "t1", Method: "DELETE"})
	mustCommit(t, s, taskFor("t2", "RJ1", "none"))
	for _, tc := range []struct {
		token string
		want  []string
	}{
		{"RJ2", []string{"Task/t1/1", "Task/t1/2", "Task/t1/3"}},
		{"RJ1", []string{"Task/t2/1"}},
		{"RJ3", nil},
	} {
		if got := historyOf(t, s, "Task", tc.token, 1); !sameSet(got, tc.want) {
			t.Errorf("%s: Task history holds %v, want %v", tc.token, got, tc.want)
		}
	}
}

func TestHistory_Restricted(t *testing.T) {
	s, _ := newScopedStore(t)
	// Interleaved: visible to RJ1 or not, and a directory resource that every restriction leaves open.
	for i, owner := range []string{"RJ1", "RJ2", "RJ2", "RJ1", "RJ2", "RJ1", "RJ1", "RJ2"} {
		mustCommit(t, s, taskFor("t"+string(rune('a'+i)), owner, "none"))
	}
	mustCommit(t, s, store.Write{Type: "Organization", ID: "o1", Method: "PUT", Object: fhir.Object{"resourceType": "Organization"}})
	rj1 := []string{"Task/ta/1", "Task/td/1", "Task/tf/1", "Task/tg/1"}
	for _, tc := range []struct {
		name, typ string
		count     int
		want      []string
	}{
		{"type history, pages of 1", "Task", 1, rj1},
		{"type history, pages of 3", "Task", 3, rj1},
		{"system history, the directory open", "", 2, append(slices.Clone(rj1), "Organization/o1/1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := historyOf(t, s, tc.typ, "RJ1", tc.count); !sameSet(got, tc.want) || len(got) != len(tc.want) {
				t.Errorf("history %v, want %v", got, tc.want)
			}
		})
	}
	ctx := context.Background()
	nothing := store.WithRestriction(ctx, func(string) []store.Cond { return []store.Cond{{Field: auth.FieldACL, Op: store.OpEq}} })
	if page, err := s.History(nothing, store.HistoryQuery{}); err != nil || len(page.Entries) != 0 {
		t.Errorf("restricted to no value: %d entries, %v", len(page.Entries), err)
	}
	other := store.WithRestriction(ctx, func(string) []store.Cond {
		return []store.Cond{{Field: "sp_status", Op: store.OpEq, Values: []any{"x"}}}
	})
	if _, err := s.History(other, store.HistoryQuery{Type: "Task"}); err == nil || !strings.Contains(err.Error(), "sp_status") {
		t.Errorf("restricted on a field versions do not carry: err = %v", err)
	}
}

// stopBeforeReindex commits ws on a store of uri whose goroutine stops dead after the commit, before it indexes
// anything again: as a process that died then.
func stopBeforeReindex(t *testing.T, uri string, ws ...store.Write) {
	t.Helper()
	s, _ := openScopedStore(t, uri, func(o *Options) {
		o.Hook = func(st string) {
			if st == "reindex" {
				runtime.Goexit()
			}
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = s.Commit(context.Background(), ws)
		t.Errorf("the commit went past the re-index")
	}()
	<-done
}

func TestReindex_LeftByAProcessThatDied_FinishedByRecover(t *testing.T) {
	for _, tc := range []struct {
		name   string
		single bool
		// now is the clock of the restarted store, from the time of the left record
		now time.Duration
		// finished: the first Recover finishes the record
		finished bool
	}{
		{"single writer restarted: finished at once", true, time.Second, true},
		{"several writers: not before the lease", false, time.Second, false},
		{"several writers: after the lease", false, time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := embeddb.Start(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close(context.Background()) })
			first, _ := openScopedStore(t, db.URI(), nil)
			aboutP1(t, first)
			stopBeforeReindex(t, db.URI(), patientAt("p1", "GPB01"))

			s, clock := openScopedStore(t, db.URI(), func(o *Options) { o.SingleWriter = tc.single })
			if got := pendingReindexes(t, s); !slices.Equal(got, []string{"Patient/p1"}) {
				t.Fatalf("pending re-indexes %v, want [Patient/p1]", got)
			}
			if got := aclIDs(t, s, "Task", "GPB01"); len(got) != 0 {
				t.Fatalf("practice B finds %v before recovery: the test shows nothing", got)
			}
			if tc.single {
				s.opened = s.opened.Add(tc.now) // opened after the record was left
			} else {
				clock.Add(tc.now)
			}
			if err := s.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := aclIDs(t, s, "Task", "GPB01"); slices.Equal(got, []string{"t1"}) != tc.finished {
				t.Errorf("after Recover, practice B finds %v; finished %v", got, tc.finished)
			}
			if got := historyOf(t, s, "Task", "GPA01", 5); (len(got) == 0) != tc.finished {
				t.Errorf("after Recover, practice A's Task history holds %v; finished %v", got, tc.finished)
			}
			if got := pendingReindexes(t, s); (len(got) == 0) != tc.finished {
				t.Errorf("after Recover, pending re-indexes %v; finished %v", got, tc.finished)
			}
		})
	}
}

func TestReindex_NeverReplacesANewerVersion(t *testing.T) {
	for _, single := range []bool{true, false} {
		s, _ := newScopedStore(t)
		s.opts.SingleWriter = single
		mustCommit(t, s, taskFor("t1", "RJ1", "none"))
		mustCommit(t, s, taskFor("t1", "RJ2", "none"))
		if err := s.Reindex(context.Background(), "Task", "t1"); err != nil {
			t.Fatal(err)
		}
		r, err := s.Read(context.Background(), "Task", "t1")
		if err != nil || r.VersionID != "2" {
			t.Fatalf("single writer %v: after Reindex, current version %q, %v", single, r.VersionID, err)
		}
		if got := aclIDs(t, s, "Task", "RJ2"); !slices.Equal(got, []string{"t1"}) {
			t.Errorf("single writer %v: after Reindex, RJ2 finds %v", single, got)
		}
		if err := s.Reindex(context.Background(), "Task", "unknown"); err != nil {
			t.Errorf("Reindex of an unknown resource: %v", err)
		}
	}
}

func TestRecover_BackfillsVersionsWithoutScope(t *testing.T) {
	s, _ := newScopedStore(t)
	aboutP1(t, s)
	ctx := context.Background()
	// As written before versions carried their scope.
	_, err := s.versions.UpdateMany(ctx, bson.D{}, bson.D{{Key: "$unset", Value: bson.D{{Key: "scope", Value: ""}, {Key: "scope_vid", Value: ""}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := historyOf(t, s, "Task", "GPA01", 5); len(got) != 0 {
		t.Fatalf("versions without scope found: %v", got)
	}
	if err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if got := historyOf(t, s, "Task", "GPA01", 5); !sameSet(got, []string{"Task/t1/1", "Task/t1/2", "Task/t2/1", "Task/t2/2"}) {
		t.Errorf("after the backfill, practice A's Task history holds %v", got)
	}
	if n, err := s.versions.CountDocuments(ctx, bson.D{{Key: "scope_vid", Value: bson.D{{Key: "$exists", Value: false}}}}); err != nil || n != 0 {
		t.Errorf("%d versions left without scope (%v)", n, err)
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b)
}

// TestReindex_CreatedUnderChosenID_SearchesDependentsOnlyWhenAwaited: a Patient created under a chosen id (a PUT)
// looks for the resources to index again only when one was stored naming it before it existed; otherwise its
// creation queries no collection for dependents (on the embedded database each such query reads a whole
// collection).
func TestReindex_CreatedUnderChosenID_SearchesDependentsOnlyWhenAwaited(t *testing.T) {
	db, err := embeddb.Start(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	var mu sync.Mutex
	var searches []string // collections searched by the sources field
	s, _ := openScopedStore(t, db.URI(), func(o *Options) {
		o.Monitor = func(c Command) {
			if c.Name == "find" && slices.Contains(c.Fields, auth.FieldSources) {
				mu.Lock()
				searches = append(searches, c.Collection)
				mu.Unlock()
			}
		}
	})
	taken := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := searches
		searches = nil
		return out
	}
	mustCommit(t, s, taskFor("t0", "RJ1", "p0"))
	mustCommit(t, s, patientAt("p0", "GPA01")) // awaited by t0
	if got := taken(); !slices.Contains(got, "Task") {
		t.Errorf("an awaited Patient's creation searched %v, want the Task collection among them", got)
	}
	if got := aclIDs(t, s, "Task", "GPA01"); !slices.Equal(got, []string{"t0"}) {
		t.Errorf("practice A finds Tasks %v, want [t0]", got)
	}
	for i := 1; i <= 3; i++ { // nobody awaits these
		mustCommit(t, s, patientAt(fmt.Sprintf("p%d", i), "GPA01"))
	}
	if got := taken(); len(got) != 0 {
		t.Errorf("creating Patients nobody awaits searched %v for dependents, want none", got)
	}
	// Awaited again after being created once and deleted, then re-created: the deletion's view still finds t9.
	mustCommit(t, s, taskFor("t9", "RJ1", "p1"))
	mustCommit(t, s, store.Write{Type: "Patient", ID: "p1", Method: "DELETE"})
	mustCommit(t, s, patientAt("p1", "GPB01"))
	if got := aclIDs(t, s, "Task", "GPB01"); !slices.Equal(got, []string{"t9"}) {
		t.Errorf("practice B finds Tasks %v, want [t9]", got)
	}
}
