package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/validation"
)

// TestLedger_ValidationWarnings_RecordedAsFindings checks that a Consensus rule at warning level, which accepts
// the write, is recorded in the ledger as a finding of its clause against the version that broke it (once per
// version, also when the ledger processes the same versions again from history), and that a clause the rule pack
// records itself (8.3) is not counted twice.
func TestLedger_ValidationWarnings_RecordedAsFindings(t *testing.T) {
	s := apitest.Start(t, apitest.Options{RuleLevels: validation.Levels{"2.4": validation.LevelWarning}})
	ctx := context.Background()
	start := time.Now().Add(-time.Minute)
	noShow := guideExample(t, "Appointment-noshow-example.json", json.RawMessage(`[{"op":"remove","path":"/extension"}]`))
	short := guideExample(t, "MedicationRequest-discharge-medicine-example.json",
		json.RawMessage(`[{"op":"replace","path":"/dispenseRequest/expectedSupplyDuration/value","value":7}]`))

	r := s.Do(t, http.MethodPost, "/Appointment", noShow)
	wantStatus(t, r, http.StatusCreated, "no-show without a telephone attempt (2.4 at warning)")
	id := r.JSON(t)["id"].(string)
	noShow["id"] = id
	wantStatus(t, s.Do(t, http.MethodPut, "/Appointment/"+id, noShow), http.StatusOK, "the same again, version 2")
	wantStatus(t, s.Do(t, http.MethodPost, "/MedicationRequest", short), http.StatusCreated, "a 7-day supply (8.3 at warning)")
	if err := s.Ledger.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	check := func(when string) {
		t.Helper()
		var events []string
		for _, e := range ledgerEntries(t, s, "clause=2.4") {
			if e["change"] != "breached" {
				t.Errorf("%s: 2.4 entry %v: change %v, want breached", when, e["key"], e["change"])
			}
			events = append(events, e["event"].(string))
		}
		want := []string{"Appointment/" + id + "/_history/1", "Appointment/" + id + "/_history/2"}
		if !sameSet(events, want) {
			t.Errorf("%s: 2.4 findings for %v, want one per version %v", when, events, want)
		}
		if n := len(ledgerEntries(t, s, "clause=8.3")); n != 1 {
			t.Errorf("%s: %d entries for 8.3, want the rule pack's one", when, n)
		}
	}
	check("after processing")
	if err := s.Ledger.Replay(ctx, start, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Ledger.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("after processing the same versions again from history")
	r = s.Do(t, http.MethodGet, "/ledger/$verify", nil)
	if r.Status != http.StatusOK || r.JSON(t)["verified"] != true {
		t.Errorf("ledger verification = %d %s", r.Status, r.Body)
	}
}
