package mongo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/embeddb"
	"github.com/accord-fhir/accord/internal/store"
)

// mixedWrites are versions of three types, some sharing a timestamp.
func mixedWrites(t *testing.T, s *Store, clock *testClock) {
	t.Helper()
	for i := 0; i < 14; i++ {
		clock.Add(time.Millisecond * time.Duration(i%2))
		switch i % 3 {
		case 0:
			mustCommit(t, s, put(fmt.Sprint("t", i%4), fmt.Sprint("s", i)))
		case 1:
			mustCommit(t, s, store.Write{Type: "Patient", ID: fmt.Sprint("p", i%2), Method: "PUT",
				Object: fhir.Object{"resourceType": "Patient", "gender": []string{"male", "female"}[i%2]}})
		default:
			mustCommit(t, s, store.Write{Type: "Encounter", ID: fmt.Sprint("e", i), Method: "PUT",
				Object: fhir.Object{"resourceType": "Encounter", "status": "finished", "class": fhir.Object{"code": "IMP"}}})
		}
	}
	mustCommit(t, s, store.Write{Type: "Patient", ID: "p1", Method: "DELETE"})
}

// historyKeys pages through a history with q.Count per page and returns the version keys in order; every page
// but the last must be full.
func historyKeys(t *testing.T, s *Store, q store.HistoryQuery) []string {
	t.Helper()
	var keys []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		page, err := s.History(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			keys = append(keys, e.Reference()+"/"+e.VersionID+"@"+e.LastUpdated.Format(time.RFC3339Nano))
		}
		if page.Next == "" {
			return keys
		}
		if len(page.Entries) != q.Count {
			t.Errorf("page %d has %d entries, want %d (more follow)", pages, len(page.Entries), q.Count)
		}
		q.Cursor = page.Next
	}
}

// TestTypeDatabases_History: with a database per type, system history merges the types' versions in the order
// of one collection (newest first, then by key), page after full page, and type history reads the type's alone.
func TestTypeDatabases_History(t *testing.T) {
	s, clock := newTestStore(t, func(o *Options) { o.TypeDatabases = true })
	mixedWrites(t, s, clock)
	ctx := context.Background()
	// The expected order, from the versions themselves.
	type v struct {
		key string
		ts  time.Time
	}
	var all []v
	for _, typ := range []string{"Encounter", "Patient", "Task"} {
		n, err := s.client.Database("accord_"+typ).Collection("versions").CountDocuments(ctx, bson.D{})
		if err != nil || n == 0 {
			t.Fatalf("accord_%s.versions holds %d versions (%v)", typ, n, err)
		}
		vs, err := s.findVersions(ctx, bson.D{{Key: "type", Value: typ}})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range vs {
			all = append(all, v{key: fmt.Sprintf("%s/%s/%d", d.Type, d.RID, d.VID), ts: d.TS.UTC()})
		}
	}
	if names, err := s.db.ListCollectionNames(ctx, bson.D{}); err != nil || slices.ContainsFunc(names, func(n string) bool { return n == "versions" || fhir.IsResourceType(n) }) {
		t.Errorf("the main database holds %v (%v): views and versions belong to the type databases", names, err)
	}
	slices.SortFunc(all, func(a, b v) int {
		if c := b.ts.Compare(a.ts); c != 0 {
			return c
		}
		return cmp.Compare(b.key, a.key)
	})
	want := make([]string, len(all))
	for i, x := range all {
		// Version keys put the version after the id; history keys use _history's form.
		typ, rest, _ := cutKey(x.key)
		want[i] = typ + "/" + rest + "@" + x.ts.Format(time.RFC3339Nano)
	}
	for _, count := range []int{1, 2, 3, 5, 100} {
		if got := historyKeys(t, s, store.HistoryQuery{Count: count}); !slices.Equal(got, want) {
			t.Errorf("system history by %d:\n got %v\nwant %v", count, got, want)
		}
	}
	var tasks []string
	for _, k := range want {
		if k[:5] == "Task/" {
			tasks = append(tasks, k)
		}
	}
	if got := historyKeys(t, s, store.HistoryQuery{Type: "Task", Count: 2}); !slices.Equal(got, tasks) {
		t.Errorf("Task history:\n got %v\nwant %v", got, tasks)
	}
}

// cutKey turns "Type/id/vid" into "Type" and "id/vid".
func cutKey(key string) (string, string, bool) {
	typ := typeOfKey(key)
	return typ, key[len(typ)+1:], typ != key
}

// TestTypeDatabases_MovesEarlierLayout: a database written with every type in the main database opens with a
// database per type: everything is moved, reads, versions and histories are unchanged, and a move that stopped
// midway (some documents already copied) finishes.
func TestTypeDatabases_MovesEarlierLayout(t *testing.T) {
	for _, partly := range []bool{false, true} {
		t.Run(fmt.Sprintf("stopped midway=%v", partly), func(t *testing.T) {
			db, err := embeddb.Start(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close(context.Background()) })
			ctx := context.Background()
			before, clock := openTestStore(t, db.URI(), nil)
			mixedWrites(t, before, clock)
			wantSystem := historyKeys(t, before, store.HistoryQuery{Count: 4})
			wantTask := historyKeys(t, before, store.HistoryQuery{Type: "Task", Count: 3})
			wantRead, err := before.Read(ctx, "Task", "t0")
			if err != nil {
				t.Fatal(err)
			}
			if partly { // a move that copied part of the versions, and one view, before it stopped
				cur, err := before.versions.Find(ctx, bson.D{{Key: "type", Value: "Task"}})
				if err != nil {
					t.Fatal(err)
				}
				var docs []bson.Raw
				if err := cur.All(ctx, &docs); err != nil {
					t.Fatal(err)
				}
				for _, d := range docs[:len(docs)/2] {
					if _, err := before.client.Database("accord_Task").Collection("versions").InsertOne(ctx, d); err != nil {
						t.Fatal(err)
					}
				}
				var view bson.Raw
				if err := before.db.Collection("Patient").FindOne(ctx, bson.D{{Key: "_id", Value: "p0"}}).Decode(&view); err != nil {
					t.Fatal(err)
				}
				if _, err := before.client.Database("accord_Patient").Collection("Patient").InsertOne(ctx, view); err != nil {
					t.Fatal(err)
				}
			}
			_ = before.Close(ctx)

			for reopen := 0; reopen < 2; reopen++ { // the second opening finds nothing left to move
				after, _ := openTestStore(t, db.URI(), func(o *Options) { o.TypeDatabases = true })
				if got := historyKeys(t, after, store.HistoryQuery{Count: 4}); !slices.Equal(got, wantSystem) {
					t.Errorf("system history after the move:\n got %v\nwant %v", got, wantSystem)
				}
				if got := historyKeys(t, after, store.HistoryQuery{Type: "Task", Count: 3}); !slices.Equal(got, wantTask) {
					t.Errorf("Task history after the move:\n got %v\nwant %v", got, wantTask)
				}
				got, err := after.Read(ctx, "Task", "t0")
				if err != nil || string(got.JSON) != string(wantRead.JSON) || got.VersionID != wantRead.VersionID {
					t.Errorf("read after the move = %s %s (%v), want %s %s", got.VersionID, got.JSON, err, wantRead.VersionID, wantRead.JSON)
				}
				if _, err := after.Read(ctx, "Patient", "p1"); err == nil {
					t.Error("the deleted Patient/p1 reads after the move")
				}
				if r, err := after.VRead(ctx, "Patient", "p1", "1"); err != nil || r.Deleted {
					t.Errorf("vread Patient/p1/1 after the move: %+v %v", r, err)
				}
				names, err := after.db.ListCollectionNames(ctx, bson.D{})
				if err != nil || slices.ContainsFunc(names, func(n string) bool { return n == "versions" || fhir.IsResourceType(n) }) {
					t.Errorf("after the move the main database still holds %v (%v)", names, err)
				}
				if r := mustCommit(t, after, put("t0", "completed")); r[0].Resource.VersionID == wantRead.VersionID || r[0].Created {
					t.Errorf("a write after the move = %+v", r[0])
				}
				wantSystem = historyKeys(t, after, store.HistoryQuery{Count: 4})
				wantTask = historyKeys(t, after, store.HistoryQuery{Type: "Task", Count: 3})
				if wantRead, err = after.Read(ctx, "Task", "t0"); err != nil {
					t.Fatal(err)
				}
				_ = after.Close(ctx)
			}
		})
	}
}
