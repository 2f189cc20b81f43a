package api_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/internal/validation"
)

// obligationCase is one obligation of the rule pack (consensus.md, rows of kind obligation): how to open it with a
// due time due after the write, fulfil it, and make its trigger no longer apply.
type obligationCase struct {
	rule, clause, triggerType, owner string
	due                              time.Duration
	trigger                          func(t testing.TB, s *apitest.Server, id string, now time.Time)
	fulfil                           func(id string, now time.Time) map[string]any
	cancel                           func(t testing.TB, s *apitest.Server, id string, now time.Time)
}

var obligationCases = []obligationCase{
	{
		rule: "2.5-discharge-summary", clause: "2.5", triggerType: "Encounter", owner: trustRef, due: 23 * time.Hour,
		trigger: func(t testing.TB, s *apitest.Server, id string, now time.Time) {
			put(t, s, encounter(id, "IMP", now.Add(-time.Hour)))
		},
		fulfil: dischargeSummary,
		cancel: func(t testing.TB, s *apitest.Server, id string, now time.Time) {
			e := encounter(id, "IMP", now.Add(-time.Hour))
			e["status"] = "entered-in-error"
			put(t, s, e)
		},
	},
	{
		rule: "2.5-clinic-letter", clause: "2.5", triggerType: "Encounter", owner: trustRef, due: 10*24*time.Hour - time.Hour,
		trigger: func(t testing.TB, s *apitest.Server, id string, now time.Time) {
			put(t, s, encounter(id, "AMB", now.Add(-time.Hour)))
		},
		fulfil: clinicLetter,
		cancel: func(t testing.TB, s *apitest.Server, id string, _ time.Time) {
			wantStatus(t, s.Do(t, http.MethodDelete, "/Encounter/"+id, nil), http.StatusNoContent, "delete the encounter")
		},
	},
	{
		rule: "2.3-concluding-communication", clause: "2.3", triggerType: "Encounter", owner: trustRef, due: 23 * time.Hour,
		trigger: func(t testing.TB, s *apitest.Server, id string, now time.Time) {
			put(t, s, encounter(id, "AMB", now.Add(-time.Hour), againstAdvice))
		},
		fulfil: dischargeSummary,
		cancel: func(t testing.TB, s *apitest.Server, id string, now time.Time) {
			put(t, s, encounter(id, "AMB", now.Add(-time.Hour))) // corrected: the patient went home as planned
		},
	},
	{
		rule: "2.2-fit-note", clause: "2.2", triggerType: "Encounter", owner: trustRef, due: 2 * time.Hour,
		trigger: func(t testing.TB, s *apitest.Server, id string, now time.Time) {
			put(t, s, encounter(id, "AMB", now.Add(2*time.Hour), fitNoteNeeded))
		},
		fulfil: fitNote,
		cancel: func(t testing.TB, s *apitest.Server, id string, now time.Time) {
			put(t, s, encounter(id, "AMB", now.Add(2*time.Hour))) // no fit note needed after all
		},
	},
	{
		rule: "3.1-result-communicated", clause: "3.1", triggerType: "DiagnosticReport", owner: labTrustRef, due: 14 * 24 * time.Hour,
		trigger: func(t testing.TB, s *apitest.Server, id string, now time.Time) {
			put(t, s, testOrder("order-"+id))
			put(t, s, report(id, "final", "order-"+id, now))
		},
		fulfil: resultToPatient,
		cancel: func(t testing.TB, s *apitest.Server, id string, now time.Time) {
			put(t, s, report(id, "entered-in-error", "order-"+id, now))
		},
	},
	{
		rule: "6.2-appointment-or-waiting-time", clause: "6.2", triggerType: "ServiceRequest", owner: trustRef, due: 14 * 24 * time.Hour,
		trigger: func(t testing.TB, s *apitest.Server, id string, _ time.Time) {
			put(t, s, referral(id, "active"))
		},
		fulfil: func(id string, now time.Time) map[string]any { return appointment(id, now.Add(20*24*time.Hour)) },
		cancel: func(t testing.TB, s *apitest.Server, id string, _ time.Time) {
			put(t, s, referral(id, "revoked"))
		},
	},
}

// TestObligations_Outcomes drives every obligation of the rule pack to each outcome through HTTP, on an injected
// clock: fulfilled on time, fulfilled late (after its breach), breached (once, however often the sweeper runs),
// and cancelled when its trigger stops applying; the Tasks, the ledger and the compliance figures agree.
func TestObligations_Outcomes(t *testing.T) {
	for _, oc := range obligationCases {
		t.Run(oc.rule, func(t *testing.T) {
			clk := newTestClock()
			s := startLedgerStack(t, clk)
			directory(t, s)
			opened := clk.Now()
			outcomes := []string{"ontime", "late", "breached", "cancelled"}
			for _, id := range outcomes {
				oc.trigger(t, s, id, opened)
			}
			flush(t, s)
			for _, id := range outcomes {
				task := obligation(t, s, oc.rule, oc.triggerType+"/"+id)
				if task == nil {
					t.Fatalf("%s/%s opened no obligation", oc.triggerType, id)
				}
				if got, want := get(task, "restriction", "period", "end"), instant(opened.Add(oc.due)); got != want {
					t.Errorf("%s: due %v, want %v", id, got, want)
				}
				if got := get(task, "owner", "reference"); got != oc.owner {
					t.Errorf("%s: owner %v, want %s", id, got, oc.owner)
				}
				if task["status"] != "requested" || get(task, "reasonCode", "coding", 0, "code") != oc.clause {
					t.Errorf("%s: status %v, clause %v; want requested, %s", id, task["status"], get(task, "reasonCode", "coding", 0, "code"), oc.clause)
				}
			}

			clk.Add(oc.due / 2)
			create(t, s, oc.fulfil("ontime", clk.Now()))
			oc.cancel(t, s, "cancelled", opened)
			if n := sweep(t, s); n != 0 {
				t.Errorf("a sweep before the due time breached %d obligations", n)
			}
			clk.Add(oc.due/2 + time.Hour)
			if n := sweep(t, s); n != 2 {
				t.Errorf("the sweep after the due time breached %d obligations, want 2", n)
			}
			if n := sweep(t, s); n != 0 {
				t.Errorf("a second sweep breached %d obligations again", n)
			}
			create(t, s, oc.fulfil("late", clk.Now()))
			flush(t, s)

			entries := ledgerEntries(t, s, "clause="+oc.clause)
			for _, want := range []struct {
				id, status string
				changes    []string
			}{
				{"ontime", "completed", []string{"opened", "fulfilled"}},
				{"late", "completed", []string{"opened", "breached", "fulfilled:late"}},
				{"breached", "failed", []string{"opened", "breached"}},
				{"cancelled", "cancelled", []string{"opened", "cancelled"}},
			} {
				task := obligation(t, s, oc.rule, oc.triggerType+"/"+want.id)
				if task["status"] != want.status {
					t.Errorf("%s: Task status %v, want %s", want.id, task["status"], want.status)
				}
				if got := changesOf(entries, task["id"].(string)); !slices.Equal(got, want.changes) {
					t.Errorf("%s: ledger changes %v, want %v", want.id, got, want.changes)
				}
			}
			wantFigures(t, s, "period=2026&groupBy=clause", map[string]string{"clause": oc.clause},
				map[string]any{"opened": "4", "fulfilledOnTime": "1", "fulfilledLate": "1", "breached": "1", "cancelled": "1", "open": "0", "onTimeRate": "0.3333"})
		})
	}
}

// wantFigures fails the test unless the compliance group of query whose keys match has the figures want.
func wantFigures(t testing.TB, s *apitest.Server, query string, keys map[string]string, want map[string]any) {
	t.Helper()
	r := s.Do(t, http.MethodGet, "/ledger/$compliance?"+query, nil)
	wantStatus(t, r, http.StatusOK, "compliance")
	for _, g := range asList(decode(t, r.Body)["groups"]) {
		match := true
		for k, v := range keys {
			match = match && g[k] == v
		}
		if !match {
			continue
		}
		for k, v := range want {
			if got := g[k]; got == nil || toString(got) != v {
				t.Errorf("compliance %v: %s = %v, want %v", keys, k, got, v)
			}
		}
		return
	}
	t.Errorf("compliance has no group %v:\n%s", keys, r.Body)
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case interface{ String() string }:
		return x.String()
	}
	return ""
}

// TestObligations_FulfilmentFirst: a letter may arrive before its encounter is marked finished; the obligation
// then opens fulfilled on time, whether the two come in separate requests or in one transaction.
func TestObligations_FulfilmentFirst(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	now := clk.Now()

	planned := encounter("early", "AMB", now.Add(2*time.Hour), fitNoteNeeded)
	planned["status"] = "in-progress"
	put(t, s, planned)
	create(t, s, fitNote("early", now))
	create(t, s, clinicLetter("early", now))
	flush(t, s)
	if task := obligation(t, s, "2.5-clinic-letter", "Encounter/early"); task != nil {
		t.Fatalf("an unfinished encounter opened an obligation: %v", task["status"])
	}
	clk.Add(3 * time.Hour)
	put(t, s, encounter("early", "AMB", now.Add(2*time.Hour), fitNoteNeeded))

	tx := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:3f0c5d8e-1d47-4c59-9a3a-2e7cc1ef0001", "resource": clinicLetter("in-tx", clk.Now()), "request": map[string]any{"method": "POST", "url": "Communication"}},
		map[string]any{"resource": encounter("in-tx", "AMB", clk.Now().Add(-time.Hour)), "request": map[string]any{"method": "PUT", "url": "Encounter/in-tx"}},
	}}
	wantStatus(t, s.Do(t, http.MethodPost, "/", tx), http.StatusOK, "transaction")
	flush(t, s)

	entries := ledgerEntries(t, s, "")
	for _, c := range []struct{ rule, trigger string }{
		{"2.2-fit-note", "Encounter/early"}, {"2.5-clinic-letter", "Encounter/early"}, {"2.5-clinic-letter", "Encounter/in-tx"},
	} {
		task := obligation(t, s, c.rule, c.trigger)
		if task == nil || task["status"] != "completed" {
			t.Errorf("%s on %s: %v, want a completed obligation", c.rule, c.trigger, task)
			continue
		}
		if got := changesOf(entries, task["id"].(string)); !slices.Equal(got, []string{"opened", "fulfilled"}) {
			t.Errorf("%s on %s: changes %v, want [opened fulfilled] on time", c.rule, c.trigger, got)
		}
	}
}

// TestObligations_TriggerUpdated: a change of the trigger that moves the due time updates the open obligation (a
// ledger entry of its own); a change that does not is no change of the obligation.
func TestObligations_TriggerUpdated(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	now := clk.Now()
	put(t, s, encounter("moved", "IMP", now))
	flush(t, s)
	e := encounter("moved", "IMP", now)
	e["period"].(map[string]any)["start"] = instant(now.Add(-5 * time.Hour)) // no change to the due time
	put(t, s, e)
	put(t, s, encounter("moved", "IMP", now.Add(6*time.Hour)))
	flush(t, s)
	task := obligation(t, s, "2.5-discharge-summary", "Encounter/moved")
	if got, want := get(task, "restriction", "period", "end"), instant(now.Add(30*time.Hour)); got != want {
		t.Errorf("due %v after the encounter's end moved, want %v", got, want)
	}
	if got := changesOf(ledgerEntries(t, s, "clause=2.5"), task["id"].(string)); !slices.Equal(got, []string{"opened", "updated"}) {
		t.Errorf("changes %v, want [opened updated]", got)
	}
	if versionID(task) != "2" {
		t.Errorf("the obligation's Task is at version %s, want 2", versionID(task))
	}
}

// TestObligationTasks_Protected: clients cannot create, change or delete obligation Tasks, nor Tasks dressed as
// them, directly or in a transaction; the Tasks are read, searched and versioned like any Task.
func TestObligationTasks_Protected(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	put(t, s, encounter("e1", "IMP", clk.Now()))
	flush(t, s)
	id := ledger.ObligationID("2.5-discharge-summary", "Encounter/e1")
	task := read(t, s, "Task", id)
	v := s.Do(t, http.MethodPost, "/Task/$validate", task)
	wantStatus(t, v, http.StatusOK, "validate the obligation Task")
	for _, is := range asList(decode(t, v.Body)["issue"]) {
		if is["severity"] == "error" || is["severity"] == "fatal" {
			t.Errorf("the obligation Task does not meet its profile: %v", is)
		}
	}

	forged := clone(t, task)
	delete(forged, "id")
	delete(forged, "meta")
	incomplete := map[string]any{"resourceType": "Task", "status": "completed", "intent": "order", "owner": ref(trustRef),
		"code": coding(categorySys, "obligation")}
	tagged := map[string]any{"resourceType": "Task", "status": "requested", "intent": "order", "owner": ref(trustRef),
		"meta": map[string]any{"tag": []any{map[string]any{"system": ledger.TagSystem, "code": ledger.TagObligation}}}}
	task["status"] = "completed"
	patch := `[{"op":"replace","path":"/status","value":"completed"}]`
	tx := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"resource": task, "request": map[string]any{"method": "PUT", "url": "Task/" + id}},
	}}
	for _, c := range []struct {
		name, method, path string
		body               any
		headers            []string
	}{
		{"create a Task coded as an obligation", http.MethodPost, "/Task", forged, nil},
		{"create a Task tagged as an obligation", http.MethodPost, "/Task", tagged, nil},
		{"create a Task with a clause as its reason", http.MethodPost, "/Task", withKey(t, incomplete, "code", nil, "reasonCode", coding("https://accord-fhir.github.io/ig/CodeSystem/consensus-clause", "2.5")), nil},
		{"create a Task with an obligation identifier", http.MethodPost, "/Task", withKey(t, incomplete, "code", nil, "identifier", []any{map[string]any{"system": ledger.IdentifierSystem, "value": "2.5-discharge-summary/Encounter/e1"}}), nil},
		{"create a Task with an obligation state", http.MethodPost, "/Task", withKey(t, incomplete, "code", nil, "businessStatus", coding(ledger.StateSystem, "open")), nil},
		{"update as create with an upper-case obligation id", http.MethodPut, "/Task/OBL-0123", withResourceID(withKey(t, incomplete, "code", nil), "OBL-0123"), nil},
		{"update an obligation", http.MethodPut, "/Task/" + id, task, nil},
		{"update an obligation with an invalid body", http.MethodPut, "/Task/" + id, map[string]any{"resourceType": "Task", "id": id, "status": "bogus"}, nil},
		{"patch an obligation into an invalid one", http.MethodPatch, "/Task/" + id, `[{"op":"replace","path":"/status","value":"bogus"}]`, []string{"Content-Type", "application/json-patch+json"}},
		{"update as create with an obligation id", http.MethodPut, "/Task/obl-0123", withResourceID(clone(t, task), "obl-0123"), nil},
		{"patch an obligation", http.MethodPatch, "/Task/" + id, patch, []string{"Content-Type", "application/json-patch+json"}},
		{"delete an obligation", http.MethodDelete, "/Task/" + id, nil, nil},
		{"update an obligation in a transaction", http.MethodPost, "/", tx, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do(t, c.method, c.path, c.body, c.headers...)
			wantOutcome(t, r, http.StatusForbidden, "obligation Tasks")
		})
	}
	// An incomplete imitation fails the obligation profile first: refused all the same.
	if r := s.Do(t, http.MethodPost, "/Task", incomplete); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("an incomplete obligation Task: %s, want 422", outcomeText(r))
	}
	if got := read(t, s, "Task", id); got["status"] != "requested" || versionID(got) != "1" {
		t.Errorf("the obligation changed: status %v, version %s", got["status"], versionID(got))
	}
	for _, q := range []string{"identifier=" + ledger.IdentifierSystem + "|2.5-discharge-summary/Encounter/e1",
		"code=https://accord-fhir.github.io/ig/CodeSystem/consensus-clause|2.5", "focus=Encounter/e1", "owner=Organization/R9Z&status=requested"} {
		r := s.Do(t, http.MethodGet, "/Task?"+q, nil)
		wantStatus(t, r, http.StatusOK, "search "+q)
		if total, ids := bundleIDs(t, r); total != 1 || len(ids) != 1 || ids[0] != id {
			t.Errorf("search %s found %d: %v, want %s", q, total, ids, id)
		}
	}
	if n := historyLen(t, s, "/Task/"+id+"/_history"); n != 1 {
		t.Errorf("the obligation's history has %d versions, want 1", n)
	}
}

// TestObligationTasks_ValidWhenReportedLate: an event reported after its obligation fell due (an inpatient stay
// entered three days after the discharge) opens an obligation whose window runs from the discharge to its due
// time, a Task that meets R4 (per-1: the period's start is not after its end) and the obligation profile.
func TestObligationTasks_ValidWhenReportedLate(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	discharged := clk.Now().Add(-72 * time.Hour)
	put(t, s, encounter("late", "IMP", discharged))
	flush(t, s)
	task := obligation(t, s, "2.5-discharge-summary", "Encounter/late")
	if task == nil {
		t.Fatal("no obligation opened")
	}
	period, _ := task["restriction"].(map[string]any)["period"].(map[string]any)
	if period["start"] != instant(discharged) || period["end"] != instant(discharged.Add(24*time.Hour)) {
		t.Errorf("restriction.period = %v, want from the discharge (%s) to 24 h after", period, instant(discharged))
	}
	v := s.Do(t, http.MethodPost, "/Task/$validate", task)
	wantStatus(t, v, http.StatusOK, "validate the obligation Task")
	for _, is := range asList(decode(t, v.Body)["issue"]) {
		if is["severity"] == "error" || is["severity"] == "fatal" {
			t.Errorf("the obligation Task of a late event is not valid: %v", is)
		}
	}
}

// withKey returns a copy of res with the keys given as pairs (key, value) set, or removed for a nil value.
func withKey(t testing.TB, res map[string]any, kv ...any) map[string]any {
	t.Helper()
	out := clone(t, res)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// TestObligations_FulfilledOnlyByTheRightLetter: a discharge summary fulfils the obligation of its encounter only
// when it is about the encounter's patient and, the patient's GP practice being known, addressed to it.
func TestObligations_FulfilledOnlyByTheRightLetter(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	directory(t, s)
	put(t, s, map[string]any{"resourceType": "Patient", "id": "9000000009",
		"identifier":          []any{map[string]any{"system": nhsNumber, "value": "9000000009"}},
		"generalPractitioner": []any{orgRef(practiceRef, "Y90001")}})
	put(t, s, encounter("e1", "IMP", clk.Now()))
	flush(t, s)
	state := func() any {
		return get(obligation(t, s, "2.5-discharge-summary", "Encounter/e1"), "businessStatus", "coding", 0, "code")
	}
	toHospital := dischargeSummary("e1", clk.Now())
	toHospital["recipient"] = []any{orgRef(labTrustRef, "RJ1")}
	create(t, s, toHospital)
	otherPatient := dischargeSummary("e1", clk.Now())
	otherPatient["subject"] = map[string]any{"reference": "Patient/9000000017", "identifier": map[string]any{"system": nhsNumber, "value": "9000000017"}}
	create(t, s, otherPatient)
	flush(t, s)
	if got := state(); got != "open" {
		t.Fatalf("after letters to another hospital and about another patient the obligation is %v, want open", got)
	}
	create(t, s, dischargeSummary("e1", clk.Now()))
	flush(t, s)
	if got := state(); got != "fulfilled" {
		t.Errorf("after the letter to the GP practice the obligation is %v, want fulfilled", got)
	}
}

// TestObligations_NeedAnAccountableOrganisation: a finished Encounter that names no serviceProvider, the
// organisation clause 2.5 holds to account, is refused naming Encounter.serviceProvider; with the clause at
// warning level it is stored, and the ledger opens no obligation that would be nobody's pending action.
func TestObligations_NeedAnAccountableOrganisation(t *testing.T) {
	noProvider := func(e map[string]any) { delete(e, "serviceProvider") }
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	r := s.Do(t, http.MethodPut, "/Encounter/e1", encounter("e1", "IMP", clk.Now(), noProvider))
	oo := wantOutcome(t, r, http.StatusUnprocessableEntity, "accord-2.5-service-provider")
	if got := get(oo, "issue", 0, "expression", 0); got != "Encounter.serviceProvider" {
		t.Errorf("the refusal is at %v, want Encounter.serviceProvider", got)
	}

	lenient := startLedgerStack(t, clk, func(o *apitest.Options) { o.RuleLevels = validation.Levels{"2.5": validation.LevelWarning} })
	put(t, lenient, encounter("e1", "IMP", clk.Now(), noProvider))
	flush(t, lenient)
	if task := obligation(t, lenient, "2.5-discharge-summary", "Encounter/e1"); task != nil {
		t.Errorf("an obligation without an owner was opened: %v", task)
	}
	// Named later, the provider is held to account.
	put(t, lenient, encounter("e1", "IMP", clk.Now()))
	flush(t, lenient)
	if task := obligation(t, lenient, "2.5-discharge-summary", "Encounter/e1"); task == nil || get(task, "owner", "reference") != trustRef {
		t.Errorf("once the Encounter names its provider, the obligation is %v, want one owned by %s", task, trustRef)
	}
}

// TestObligations_ReopenedWhenTheFulfilmentIsWithdrawn: a letter marked entered in error, or deleted, and an
// appointment cancelled, no longer fulfil their obligation: it is open again (a "reopened" ledger entry), and
// breached when past due; a letter saved again unchanged still fulfils it.
func TestObligations_ReopenedWhenTheFulfilmentIsWithdrawn(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	directory(t, s)
	now := clk.Now()
	for _, e := range []string{"e1", "e2", "e3"} {
		put(t, s, encounter(e, "IMP", now))
	}
	put(t, s, referral("ref-1", "active"))
	letters := map[string]string{}
	for _, e := range []string{"e1", "e2", "e3"} {
		letters[e] = create(t, s, dischargeSummary(e, now))
	}
	appt := create(t, s, appointment("ref-1", now.Add(7*24*time.Hour)))
	flush(t, s)
	state := func(rule, trigger string) any {
		return get(obligation(t, s, rule, trigger), "businessStatus", "coding", 0, "code")
	}
	for _, e := range []string{"e1", "e2", "e3"} {
		if got := state("2.5-discharge-summary", "Encounter/"+e); got != "fulfilled" {
			t.Fatalf("%s: %v before the withdrawals, want fulfilled", e, got)
		}
	}

	withdrawn := read(t, s, "Communication", letters["e1"])
	withdrawn["status"] = "entered-in-error"
	put(t, s, withdrawn)
	wantStatus(t, s.Do(t, http.MethodDelete, "/Communication/"+letters["e2"], nil), http.StatusNoContent, "delete the letter of e2")
	put(t, s, read(t, s, "Communication", letters["e3"])) // unchanged: still the fulfilment
	cancelled := read(t, s, "Appointment", appt)
	cancelled["status"] = "cancelled"
	put(t, s, cancelled)
	flush(t, s)

	for _, c := range []struct{ rule, trigger, want string }{
		{"2.5-discharge-summary", "Encounter/e1", "open"},
		{"2.5-discharge-summary", "Encounter/e2", "open"},
		{"2.5-discharge-summary", "Encounter/e3", "fulfilled"},
		{"6.2-appointment-or-waiting-time", "ServiceRequest/ref-1", "open"},
	} {
		if got := state(c.rule, c.trigger); got != c.want {
			t.Errorf("%s on %s: %v after the withdrawals, want %s", c.rule, c.trigger, got, c.want)
		}
	}
	entries := ledgerEntries(t, s, "")
	if got := changesOf(entries, ledger.ObligationID("2.5-discharge-summary", "Encounter/e1")); !slices.Equal(got, []string{"opened", "fulfilled", "reopened"}) {
		t.Errorf("the ledger of e1's obligation: %v, want opened, fulfilled, reopened", got)
	}
	clk.Add(25 * time.Hour)
	sweep(t, s)
	if got := state("2.5-discharge-summary", "Encounter/e1"); got != "breached" {
		t.Errorf("past due, the reopened obligation is %v, want breached", got)
	}
}
