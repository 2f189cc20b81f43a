package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/internal/store"
)

func newTestLedger(t testing.TB, s *Store) *Ledger {
	t.Helper()
	l, err := NewLedger(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func entry(key string) ledger.Entry {
	return ledger.Entry{Key: key, Time: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Clause: "2.5", Rule: "2.5-clinic-letter",
		Obligation: "Task/obl-1", Event: "Encounter/e1/_history/1", Organization: "Organization/R9Z", Change: ledger.ChangeOpened,
		State: ledger.StateOpen, Actor: "test"}
}

func verify(t testing.TB, l *Ledger) ledger.Verification {
	t.Helper()
	v, err := ledger.Verify(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLedgerAppend_RecordsEachKeyOnce(t *testing.T) {
	s, _ := newTestStore(t, nil)
	l := newTestLedger(t, s)
	ctx := context.Background()
	added, err := l.Append(ctx, []ledger.Entry{entry("a"), entry("b"), entry("c")})
	if err != nil || len(added) != 3 {
		t.Fatalf("Append = %d entries, %v", len(added), err)
	}
	added, err = l.Append(ctx, []ledger.Entry{entry("b"), entry("d"), entry("a"), entry("e")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range added {
		keys = append(keys, fmt.Sprintf("%s@%d", e.Key, e.Seq))
	}
	if fmt.Sprint(keys) != "[d@4 e@5]" {
		t.Errorf("second Append added %v, want [d@4 e@5]", keys)
	}
	if v := verify(t, l); v.Broken != nil || v.Entries != 5 {
		t.Errorf("chain: %+v", v)
	}
	// A ledger that starts afresh (another process, or a restart) finds the head and continues the chain.
	again := newTestLedger(t, s)
	if _, err := again.Append(ctx, []ledger.Entry{entry("f")}); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, again); v.Broken != nil || v.Head != 6 {
		t.Errorf("chain after a second appender: %+v", v)
	}
}

// TestLedgerAppend_SeveralProcesses: appenders that share the database (as several Accord processes do) keep
// one linear chain, each entry once.
func TestLedgerAppend_SeveralProcesses(t *testing.T) {
	s, _ := newTestStore(t, nil)
	const procs, each = 3, 20
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for p := 0; p < procs; p++ {
		l := newTestLedger(t, s)
		wg.Go(func() {
			for i := 0; i < each; i++ {
				// every process also tries the shared keys, which must be recorded once
				batch := []ledger.Entry{entry(fmt.Sprintf("p%d-%d", p, i)), entry(fmt.Sprintf("shared-%d", i))}
				if _, err := l.Append(context.Background(), batch); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	l := newTestLedger(t, s)
	v := verify(t, l)
	if v.Broken != nil || v.Entries != procs*each+each {
		t.Errorf("chain of %d appenders: %+v, want %d entries unbroken", procs, v, procs*each+each)
	}
	has, err := l.HasKeys(context.Background(), []string{"shared-0", "p2-19", "nothing"})
	if err != nil || !has["shared-0"] || !has["p2-19"] || has["nothing"] {
		t.Errorf("HasKeys = %v, %v", has, err)
	}
}

func TestLedgerVerify_AlteredEntry(t *testing.T) {
	s, _ := newTestStore(t, nil)
	l := newTestLedger(t, s)
	if _, err := l.Append(context.Background(), []ledger.Entry{entry("a"), entry("b"), entry("c")}); err != nil {
		t.Fatal(err)
	}
	_, err := l.entries.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: seqID(2)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "change", Value: "fulfilled"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if v := verify(t, l); v.Broken == nil || v.Broken.Seq != 2 || v.Entries != 1 {
		t.Errorf("after altering entry 2: %+v", v)
	}
}

func TestCommitTasks(t *testing.T) {
	s, clock := newTestStore(t, nil)
	l := newTestLedger(t, s)
	ctx := context.Background()
	task := func(status string) fhir.Object {
		return fhir.Object{"resourceType": "Task", "status": status, "intent": "order"}
	}
	errs := l.CommitTasks(ctx, []store.Write{
		{Type: "Task", ID: "obl-a", Object: task("requested"), Method: "PUT", New: true},
		{Type: "Task", ID: "obl-b", Object: task("requested"), Method: "PUT", New: true},
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("CommitTasks = %v", errs)
	}
	clock.Add(time.Minute)
	errs = l.CommitTasks(ctx, []store.Write{
		{Type: "Task", ID: "obl-a", Object: task("completed"), Method: "PUT", IfMatch: "1"},
		{Type: "Task", ID: "obl-b", Object: task("failed"), Method: "PUT", New: true}, // version 1 is taken
	})
	if errs[0] != nil || !errors.Is(errs[1], store.ErrConflict) {
		t.Fatalf("CommitTasks = %v, want nil and a conflict", errs)
	}
	for id, want := range map[string]string{"obl-a": "2", "obl-b": "1"} {
		r, err := s.Read(ctx, "Task", id)
		if err != nil || r.VersionID != want {
			t.Errorf("Task/%s: version %s, %v; want %s", id, r.VersionID, err, want)
		}
	}
	if errs := l.CommitTasks(ctx, []store.Write{{Type: "Task", ID: "obl-a", Object: task("failed"), Method: "PUT", IfMatch: "1"}}); !errors.Is(errs[0], store.ErrConflict) {
		t.Errorf("a write after a version that is not current: %v, want a conflict", errs[0])
	}
}
