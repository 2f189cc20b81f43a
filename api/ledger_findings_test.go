package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/auth"
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

// TestLedger_AnalystsSeePatientsPseudonymised checks that ledger entries name their patient, and that an analyst
// without identifiable access sees a keyed hash instead: the same for every entry of one patient, never the NHS
// number; an analyst granted identifiable access, and an administrator, see the NHS number.
func TestLedger_AnalystsSeePatientsPseudonymised(t *testing.T) {
	const identifiable = "icb-analyst-identifiable"
	s := startSecured(t, func(o *apitest.Options) {
		o.Clients = append(o.Clients, apitest.WithKey(t, auth.Client{ID: identifiable, Role: auth.RoleAnalyst,
			Scopes: []string{"system/*.rs"}, IdentifiableAccess: true}, mustRSAKey(t)))
	})
	end := time.Now().Add(-time.Hour)
	for _, id := range []string{"enc-p1", "enc-p2"} {
		wantStatus(t, s.as(t, adminOps, http.MethodPut, "/Encounter/"+id, encounter(id, "IMP", end)), http.StatusCreated, "inpatient encounter")
	}
	if err := s.Ledger.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	patients := func(client string) []string {
		t.Helper()
		r := s.as(t, client, http.MethodGet, "/ledger?clause=2.5", nil)
		wantStatus(t, r, http.StatusOK, client+" reads the ledger")
		var out []string
		for _, e := range asList(decode(t, r.Body)["entries"]) {
			p, _ := e["patient"].(string)
			out = append(out, p)
		}
		if len(out) != 2 {
			t.Fatalf("%s: %d entries for 2.5, want the two opened obligations", client, len(out))
		}
		return out
	}
	nhs := nhsNumber + "|9000000009"
	for _, client := range []string{adminOps, identifiable} {
		for _, p := range patients(client) {
			if p != nhs {
				t.Errorf("%s sees patient %q, want %q", client, p, nhs)
			}
		}
	}
	pseudo := patients(analystICB)
	if pseudo[0] != pseudo[1] || len(pseudo[0]) != 64 || strings.Contains(pseudo[0], "9000000009") {
		t.Errorf("the analyst sees patients %q: want one stable keyed hash, without the NHS number", pseudo)
	}
}

// TestFindings_ShortSupply_Computed: clause 8.3's short supply is found from the expected supply duration in any
// unit of time, or else from the quantity divided by the daily dose; a supply whose length cannot be worked out is
// no finding. Each expectation is the supply in days worked out by hand against the 14-day minimum.
func TestFindings_ShortSupply_Computed(t *testing.T) {
	s := startLedgerStack(t, newTestClock())
	directory(t, s)
	duration := func(value float64, code, unit string) map[string]any {
		return map[string]any{"expectedSupplyDuration": map[string]any{"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": code}}
	}
	quantity := func(n float64) map[string]any {
		return map[string]any{"quantity": map[string]any{"value": n, "unit": "tablet"}}
	}
	dosage := func(dose, frequency, period float64, unit string) []any {
		return []any{map[string]any{"text": "as directed",
			"timing":      map[string]any{"repeat": map[string]any{"frequency": frequency, "period": period, "periodUnit": unit}},
			"doseAndRate": []any{map[string]any{"doseQuantity": map[string]any{"value": dose, "unit": "tablet"}}}}}
	}
	for _, tc := range []struct {
		name   string
		supply map[string]any
		dosage []any
		breach bool
	}{
		{"10 days", duration(10, "d", "days"), nil, true},
		{"14 days", duration(14, "d", "days"), nil, false},
		{"1 week (7 days)", duration(1, "wk", "week"), nil, true},
		{"2 weeks (14 days)", duration(2, "wk", "weeks"), nil, false},
		{"1 month (30 days)", duration(1, "mo", "month"), nil, false},
		{"14 tablets, 1 twice a day (7 days)", quantity(14), dosage(1, 2, 1, "d"), true},
		{"56 tablets, 1 twice a day (28 days)", quantity(56), dosage(1, 2, 1, "d"), false},
		{"28 tablets, 1 every 12 hours (14 days)", quantity(28), dosage(1, 1, 12, "h"), false},
		{"20 tablets, 2 every 8 hours (3.3 days)", quantity(20), dosage(2, 1, 8, "h"), true},
		{"4 tablets, 1 a week (28 days)", quantity(4), dosage(1, 1, 1, "wk"), false},
		{"20 tablets, no dosage (unknown)", quantity(20), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mr := dischargeMedicine(0)
			mr["dispenseRequest"] = tc.supply
			if tc.dosage != nil {
				mr["dosageInstruction"] = tc.dosage
			}
			id := create(t, s, mr)
			if err := s.Ledger.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			var found []string
			for _, e := range ledgerEntries(t, s, "clause=8.3") {
				if ev, _ := e["event"].(string); strings.HasPrefix(ev, "MedicationRequest/"+id+"/") {
					found = append(found, fmt.Sprint(e["change"]))
				}
			}
			switch {
			case tc.breach && (len(found) != 1 || found[0] != "breached"):
				t.Errorf("8.3 entries %v, want one breach", found)
			case !tc.breach && len(found) != 0:
				t.Errorf("8.3 entries %v, want none", found)
			}
		})
	}
}
