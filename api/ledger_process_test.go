package api_test

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/internal/store"
	"github.com/accord-fhir/accord/internal/store/mongo"
	"github.com/accord-fhir/accord/profiles"
)

// otherProcess opens a second store and ledger on s's database, as a second Accord process would.
func otherProcess(t *testing.T, s *apitest.Server, clk *testClock) *ledger.Ledger {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	so := mongo.DefaultOptions()
	// (Only the obligation fields: the sweep finds obligations by them.)
	so.Indexer, so.Clock, so.Logger, so.TypeDatabases = ledger.Indexer{}, clk.Now, quiet, true
	st, err := mongo.Open(context.Background(), s.DBURI, so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	ls, err := mongo.NewLedger(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	lo := ledger.DefaultOptions()
	lo.Clock, lo.Logger = clk.Now, quiet
	return ledger.New(st, ls, s.Ledger.Pack(), lo)
}

// TestSweep_SeveralProcesses: three processes sweeping the same database at once breach each obligation once,
// with one ledger entry for each breach.
func TestSweep_SeveralProcesses(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	const n = 20
	for i := 0; i < n; i++ {
		put(t, s, encounter("e"+string(rune('a'+i)), "IMP", clk.Now()))
	}
	flush(t, s)
	clk.Add(48 * time.Hour)
	sweepers := []*ledger.Ledger{s.Ledger, otherProcess(t, s, clk), otherProcess(t, s, clk)}
	counts := make([]int, len(sweepers))
	var wg sync.WaitGroup
	for i, l := range sweepers {
		wg.Go(func() {
			c, err := l.Sweep(context.Background())
			if err != nil {
				t.Error(err)
			}
			counts[i] = c
		})
	}
	wg.Wait()
	t.Logf("breaches recorded by each sweeper: %v", counts)
	if total := counts[0] + counts[1] + counts[2]; total != n {
		t.Errorf("the sweepers breached %v obligations, %d in all, want %d", counts, total, n)
	}
	breaches := ledgerEntries(t, s, "state=breached")
	var obligations []string
	for _, e := range breaches {
		obligations = append(obligations, e["obligation"].(string))
	}
	slices.Sort(obligations)
	if len(breaches) != n || len(slices.Compact(obligations)) != n {
		t.Errorf("%d breach entries for %d obligations, want %d for %d", len(breaches), len(slices.Compact(obligations)), n, n)
	}
	r := s.Do(t, http.MethodGet, "/ledger/$verify", nil)
	if v := decode(t, r.Body); v["verified"] != true {
		t.Errorf("the chain after concurrent sweeps: %s", r.Body)
	}
}

// TestLedger_RecoversAfterCrash: versions a stopped process committed but never processed, and an obligation
// change it wrote without its ledger entry, are processed and recorded when the next process starts.
func TestLedger_RecoversAfterCrash(t *testing.T) {
	clk := newTestClock()
	dir := t.TempDir()
	var crashedTask fhir.Object
	t.Run("before the crash", func(t *testing.T) {
		s := startLedgerStack(t, clk, func(o *apitest.Options) { o.Dir = dir })
		put(t, s, encounter("processed", "IMP", clk.Now()))
		flush(t, s)
		// Committed, but the process stops before processing it.
		commit(t, s, encounter("unprocessed", "IMP", clk.Now()))
		// An obligation change written just before the stop, without its ledger entry.
		commit(t, s, encounter("half-done", "IMP", clk.Now()))
		crashedTask = read(t, s, "Task", ledger.ObligationID("2.5-discharge-summary", "Encounter/processed"))
		half := ledger.ObligationID("2.5-discharge-summary", "Encounter/half-done")
		for k, v := range map[string]any{"id": half, "focus": ref("Encounter/half-done"),
			"identifier": []any{map[string]any{"system": ledger.IdentifierSystem, "value": "2.5-discharge-summary/Encounter/half-done"}}} {
			crashedTask[k] = v
		}
		delete(crashedTask, "meta")
		if errs := s.LedgerStore.CommitTasks(context.Background(), []store.Write{{Type: "Task", ID: half, Object: crashedTask, Method: "PUT", New: true}}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		if err := s.LedgerStore.PutMark(context.Background(), ledger.Mark{ID: "crashed-process", Through: clk.Now().Add(-time.Second), Beat: clk.Now()}); err != nil {
			t.Fatal(err)
		}
	})
	clk.Add(time.Minute)
	s := startLedgerStack(t, clk, func(o *apitest.Options) { o.Dir = dir })
	deadline := time.Now().Add(20 * time.Second)
	var entries []map[string]any
	for time.Now().Before(deadline) {
		if entries = ledgerEntries(t, s, "clause=2.5"); len(entries) >= 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got []string
	for _, e := range entries {
		got = append(got, strings.TrimPrefix(e["key"].(string), "Task/")+" "+e["change"].(string))
	}
	want := []string{
		ledger.ObligationID("2.5-discharge-summary", "Encounter/processed") + "/1 opened",
		ledger.ObligationID("2.5-discharge-summary", "Encounter/unprocessed") + "/1 opened",
		ledger.ObligationID("2.5-discharge-summary", "Encounter/half-done") + "/1 opened",
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries after the restart:\n got %v\nwant %v", got, want)
	}
	if task := obligation(t, s, "2.5-discharge-summary", "Encounter/unprocessed"); task == nil || task["status"] != "requested" {
		t.Errorf("the unprocessed encounter's obligation: %v", task)
	}
	r := s.Do(t, http.MethodGet, "/ledger/$verify", nil)
	if v := decode(t, r.Body); v["verified"] != true || toString(v["entries"]) != "3" {
		t.Errorf("the chain after recovery: %s", r.Body)
	}
}

// commit writes res through the store, as a process that stops before the ledger sees the commit.
func commit(t testing.TB, s *apitest.Server, res map[string]any) {
	t.Helper()
	typ, id := res["resourceType"].(string), res["id"].(string)
	if _, err := s.Store.Commit(context.Background(), []store.Write{{Type: typ, ID: id, Object: res, Method: "PUT"}}); err != nil {
		t.Fatal(err)
	}
}

// TestRulePack_AnotherChangesBehaviour: a different rule pack (and different local durations) changes what
// opens and when it is due, with no change of code.
func TestRulePack_AnotherChangesBehaviour(t *testing.T) {
	pack, err := fs.ReadFile(profiles.FS, ledger.DefaultPack)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := fs.ReadFile(profiles.FS, "ig/CodeSystem-consensus-clause.json")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(pack), `"due": {"from": "period.end", "after": "P10D"}`, `"due": {"from": "period.end", "after": {"value": 3, "code": "d"}}`, 1)
	edited = strings.Replace(edited, `"id": "2.2-fit-note"`, `"id": "2.2-fit-note-off"`, 1)
	edited = strings.Replace(edited, `status = 'finished' and extension.where(url = %fitNoteFlag).value = true`, `false`, 1)
	other, err := ledger.LoadPack(fstest.MapFS{"rules/pack.json": {Data: []byte(edited)}, "ig/CodeSystem-consensus-clause.json": {Data: cs}},
		"rules/pack.json", nil, map[string]string{"referral-first-contact": "P21D"})
	if err != nil {
		t.Fatal(err)
	}
	clk := newTestClock()
	s := startLedgerStack(t, clk, func(o *apitest.Options) { o.Pack = other })
	directory(t, s)
	now := clk.Now()
	put(t, s, encounter("clinic", "AMB", now, fitNoteNeeded))
	put(t, s, referral("ref-1", "active"))
	flush(t, s)
	for _, c := range []struct {
		rule, trigger string
		due           time.Duration
	}{
		{"2.5-clinic-letter", "Encounter/clinic", 3 * 24 * time.Hour},
		{"6.2-appointment-or-waiting-time", "ServiceRequest/ref-1", 21 * 24 * time.Hour},
	} {
		task := obligation(t, s, c.rule, c.trigger)
		if got := get(task, "restriction", "period", "end"); got != instant(now.Add(c.due)) {
			t.Errorf("%s: due %v, want %s", c.rule, got, instant(now.Add(c.due)))
		}
	}
	for _, rule := range []string{"2.2-fit-note", "2.2-fit-note-off"} {
		if task := obligation(t, s, rule, "Encounter/clinic"); task != nil {
			t.Errorf("the pack without a fit-note rule opened %s", rule)
		}
	}
}

// TestSweeper_RunsOnItsInterval: the sweeper runs by itself every SweepInterval (ACCORD_SWEEP_INTERVAL) and
// breaches what the injected clock says is past due.
func TestSweeper_RunsOnItsInterval(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk, func(o *apitest.Options) {
		o.Ledger = func(lo *ledger.Options) { lo.SweepInterval = 20 * time.Millisecond }
	})
	put(t, s, encounter("e1", "IMP", clk.Now()))
	flush(t, s)
	time.Sleep(100 * time.Millisecond)
	if task := obligation(t, s, "2.5-discharge-summary", "Encounter/e1"); task["status"] != "requested" {
		t.Fatalf("breached before its due time: %v", task["status"])
	}
	clk.Add(25 * time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		// The sweeper marks the Task, then appends the breach to the ledger: wait for both.
		task := obligation(t, s, "2.5-discharge-summary", "Encounter/e1")
		if n := len(ledgerEntries(t, s, "state=breached")); task["status"] == "failed" && n > 0 {
			time.Sleep(100 * time.Millisecond) // several more sweeps
			if n := len(ledgerEntries(t, s, "state=breached")); n != 1 {
				t.Errorf("%d breach entries, want 1", n)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the sweeper did not breach the obligation past due")
}
