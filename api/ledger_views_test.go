package api_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/auth"
)

// requestToGP is a Task of code asking the practice to act, requested by the lab trust's consultant.
func requestToGP(code string) map[string]any {
	return map[string]any{"resourceType": "Task", "status": "requested", "intent": "order",
		"code": coding(categorySys, code), "for": subject(), "authoredOn": "2026-03-02T09:00:00Z",
		"requester": ref("PractitionerRole/consultant-1"), "owner": orgRef(practiceRef, "Y90001")}
}

// dischargeMedicine is a discharge MedicationRequest of the consultant supplying days of medicine.
func dischargeMedicine(days int) map[string]any {
	return map[string]any{"resourceType": "MedicationRequest", "status": "active", "intent": "order",
		"extension":                 []any{map[string]any{"url": "https://accord-fhir.github.io/ig/StructureDefinition/counselling", "valueDateTime": "2026-03-02T08:00:00Z"}},
		"category":                  []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "discharge", "display": "Discharge"}}}},
		"medicationCodeableConcept": map[string]any{"coding": []any{map[string]any{"system": sct, "code": "108761006", "display": "Capecitabine (product)"}}},
		"subject":                   subject(), "authoredOn": "2026-03-02T08:30:00Z", "requester": ref("PractitionerRole/consultant-1"),
		"dispenseRequest": map[string]any{"expectedSupplyDuration": map[string]any{"value": days, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"}}}
}

// interfaceIssue is a practice's report of an issue of type about the resources concerned.
func interfaceIssue(issueType string, about ...string) map[string]any {
	refs := make([]any, len(about))
	for i, a := range about {
		refs[i] = ref(a)
	}
	return map[string]any{"resourceType": "Communication", "status": "completed", "category": []any{coding(categorySys, "interface-issue")},
		"subject": subject(), "about": refs, "reasonCode": []any{coding(issueSys, issueType)}, "sent": "2026-03-02T12:00:00Z",
		"sender": orgRef(practiceRef, "Y90001"), "payload": []any{map[string]any{"contentString": "Reported by the practice"}}}
}

// TestFindings_RecordedOnce: the events that break a clause by themselves (a request to the GP to refer onward or
// to start an urgent medicine, a short supply) are recorded once as breaches against their sender, and interface
// issues reported by a practice as "reported" entries against the organisation they concern, under the clause
// their type maps to; the compliance figures count them beside the obligations.
func TestFindings_RecordedOnce(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	directory(t, s)
	onward := requestToGP("onward-referral-request")
	onwardID := create(t, s, onward)
	onward["id"], onward["status"] = onwardID, "accepted"
	put(t, s, onward) // a second version: still one finding
	onwardComm := map[string]any{"resourceType": "Communication", "status": "completed", "category": []any{coding(categorySys, "onward-referral-request")},
		"subject": subject(), "sent": "2026-03-02T12:00:00Z", "recipient": []any{orgRef(practiceRef, "Y90001")}, "sender": orgRef(trustRef, "R9Z"),
		"payload": []any{map[string]any{"contentString": "Please refer to dermatology"}}}
	create(t, s, onwardComm)
	create(t, s, requestToGP("urgent-medicine-request"))
	create(t, s, dischargeMedicine(7))
	create(t, s, dischargeMedicine(28)) // enough: no finding
	create(t, s, interfaceIssue("unnecessary-referral-back", "Task/"+onwardID))
	create(t, s, interfaceIssue("missing-booking", "ServiceRequest/some-referral", trustRef))
	create(t, s, interfaceIssue("other", trustRef))
	draft := interfaceIssue("other", trustRef) // not yet reported: not counted
	draft["status"] = "preparation"
	create(t, s, draft)
	flush(t, s)

	type finding struct{ clause, org, change string }
	var got []finding
	for _, e := range ledgerEntries(t, s, "") {
		got = append(got, finding{e["clause"].(string), toString(e["organization"]), e["change"].(string)})
	}
	want := []finding{
		{"1.1", labTrustRef, "breached"}, {"1.1", trustRef, "breached"}, {"8.2", labTrustRef, "breached"},
		{"8.3", labTrustRef, "breached"}, {"1.1", labTrustRef, "reported"}, {"6.2", trustRef, "reported"},
		{"issues", trustRef, "reported"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ledger findings:\n got %v\nwant %v", got, want)
	}
	wantFigures(t, s, "period=2026-03&groupBy=clause,organization", map[string]string{"clause": "1.1", "organization": labTrustRef},
		map[string]any{"opened": "0", "breachesRecorded": "1", "reported": "1"})
	wantFigures(t, s, "period=2026-03&groupBy=clause,organization", map[string]string{"clause": "6.2", "organization": trustRef},
		map[string]any{"reported": "1"})
	r := s.Do(t, http.MethodGet, "/ledger?state=reported&organization=R9Z", nil)
	wantStatus(t, r, http.StatusOK, "reported entries of R9Z")
	if n := len(asList(decode(t, r.Body)["entries"])); n != 2 {
		t.Errorf("R9Z has %d reported entries, want 2", n)
	}
}

// TestCompliance_GroupsAndMeasureReports: the figures group by clause, organisation and month, and come as valid
// MeasureReports, one per clause and organisation.
func TestCompliance_GroupsAndMeasureReports(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	directory(t, s)
	start := clk.Now()
	put(t, s, encounter("a", "IMP", start))
	put(t, s, encounter("b", "IMP", start))
	put(t, s, testOrder("order-1"))
	put(t, s, report("dr-1", "final", "order-1", start))
	flush(t, s)
	clk.Add(2 * time.Hour)
	create(t, s, dischargeSummary("a", clk.Now()))
	clk.Add(30 * 24 * time.Hour) // into April
	sweep(t, s)
	put(t, s, encounter("c", "IMP", clk.Now()))
	flush(t, s)

	wantFigures(t, s, "period=2026&groupBy=organization", map[string]string{"organization": trustRef},
		map[string]any{"opened": "3", "fulfilledOnTime": "1", "breached": "1", "open": "1", "onTimeRate": "0.5"})
	wantFigures(t, s, "period=2026&groupBy=organization", map[string]string{"organization": labTrustRef},
		map[string]any{"opened": "1", "breached": "1", "onTimeRate": "0"})
	wantFigures(t, s, "period=2026&groupBy=month", map[string]string{"month": "2026-03"}, map[string]any{"opened": "3"})
	wantFigures(t, s, "period=2026&groupBy=month", map[string]string{"month": "2026-04"}, map[string]any{"opened": "1", "open": "1"})
	wantFigures(t, s, "period=2026-03&groupBy=clause,organization,month", map[string]string{"clause": "2.5", "organization": trustRef, "month": "2026-03"},
		map[string]any{"opened": "2", "fulfilledOnTime": "1", "breached": "1"})

	r := s.Do(t, http.MethodGet, "/ledger/$measure-report?period=2026-03", nil)
	wantStatus(t, r, http.StatusOK, "measure reports")
	b := decode(t, r.Body)
	if b["resourceType"] != "Bundle" || b["type"] != "collection" {
		t.Fatalf("not a collection Bundle: %s", truncated(r.Body))
	}
	var clauses []string
	for _, e := range asList(b["entry"]) {
		mr := e["resource"].(map[string]any)
		clause := toString(get(mr, "group", 0, "code", "coding", 0, "code"))
		org := toString(get(mr, "extension", 0, "valueReference", "reference"))
		clauses = append(clauses, clause+" "+org)
		v := s.Do(t, http.MethodPost, "/MeasureReport/$validate", mr)
		wantStatus(t, v, http.StatusOK, "validate the MeasureReport of "+clause)
		for _, is := range asList(decode(t, v.Body)["issue"]) {
			if is["severity"] == "error" || is["severity"] == "fatal" {
				t.Errorf("MeasureReport %s %s is not valid: %v", clause, org, is)
			}
		}
		if clause == "2.5" {
			pops := map[string]string{}
			for _, p := range asList(get(mr, "group", 0, "population")) {
				pops[toString(get(p, "code", "coding", 0, "code"))] = toString(p["count"])
			}
			if pops["initial-population"] != "2" || pops["numerator"] != "1" || pops["denominator"] != "2" || pops["breached"] != "1" {
				t.Errorf("2.5 populations %v", pops)
			}
			if score := toString(get(mr, "group", 0, "measureScore", "value")); score != "0.5" {
				t.Errorf("2.5 score %s, want 0.5", score)
			}
		}
	}
	if !slices.Equal(clauses, []string{"2.5 " + trustRef, "3.1 " + labTrustRef}) {
		t.Errorf("MeasureReports for %v", clauses)
	}
}

// TestLedger_Entries: the ledger pages in sequence order and filters by clause, organisation, state and period.
func TestLedger_Entries(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	directory(t, s)
	for _, id := range []string{"p1", "p2", "p3"} {
		put(t, s, encounter(id, "IMP", clk.Now()))
		clk.Add(24 * time.Hour)
	}
	put(t, s, testOrder("order-1"))
	put(t, s, report("dr-1", "final", "order-1", clk.Now()))
	flush(t, s)
	all := ledgerEntries(t, s, "_count=2")
	if len(all) != 4 {
		t.Fatalf("paged through %d entries, want 4", len(all))
	}
	for i, e := range all {
		if toString(e["seq"]) != string(rune('1'+i)) {
			t.Errorf("entry %d has seq %v", i, e["seq"])
		}
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"clause=2.5", 3}, {"clause=3.1", 1}, {"organization=R9Z", 3}, {"organization=Organization/RJ1", 1},
		{"state=opened", 4}, {"state=breached", 0}, {"period=2026-03-03", 1}, {"period=2026-03-02/2026-03-03&clause=2.5", 2},
	} {
		if got := len(ledgerEntries(t, s, c.query)); got != c.want {
			t.Errorf("GET /ledger?%s: %d entries, want %d", c.query, got, c.want)
		}
	}
}

// TestLedger_BadInput: malformed filters, periods, groupings and unknown clauses are a 400 OperationOutcome that
// names the parameter.
func TestLedger_BadInput(t *testing.T) {
	s := startLedgerStack(t, newTestClock())
	for _, c := range []struct{ path, param string }{
		{"/ledger?clause=9.9", "clause"},
		{"/ledger?clause=", "clause"},
		{"/ledger?state=closed", "state"},
		{"/ledger?period=March", "period"},
		{"/ledger?period=2026-03/2026-01", "period"},
		{"/ledger?_count=0", "_count"},
		{"/ledger?_cursor=x", "_cursor"},
		{"/ledger?patient=1", "patient"},
		{"/ledger/$compliance", "period"},
		{"/ledger/$compliance?period=2026-13", "period"},
		{"/ledger/$compliance?period=2026&groupBy=week", "groupBy"},
		{"/ledger/$compliance?period=2026&groupBy=clause,", "groupBy"},
		{"/ledger/$measure-report?period=soon", "period"},
		{"/public/waiting-times?period=2026-02-30", "period"},
		{"/ledger?clause=2.5&clause=2.3", "clause"},
		{"/ledger?period=0000", "period"},
		{"/ledger?period=2026-11-21T13:00:00", "period"},
		{"/ledger/$compliance?period=2026&groupBy=clause&groupBy=month", "groupBy"},
		{"/ledger/$compliance?period=2026&period=2025", "period"},
		{"/public/waiting-times?period=0000", "period"},
		{"/public/waiting-times?period=2026&period=2025", "period"},
		{"/Organization/R9Z/$pending-actions?_count=1&_count=100", "_count"},
		{"/ledger/$verify?x=1", "x"},
		{"/ledger?_count=", "_count"},
		{"/ledger?_cursor=", "_cursor"},
		{"/Organization/R9Z/$pending-actions?_cursor=", "_cursor"},
	} {
		t.Run(c.path, func(t *testing.T) {
			oo := wantOutcome(t, s.Do(t, http.MethodGet, c.path, nil), http.StatusBadRequest)
			if got := get(oo, "issue", 0, "expression", 0); got != c.param {
				t.Errorf("expression %v, want %s", got, c.param)
			}
		})
	}
}

// TestLedger_VerifyDetectsTampering: an entry altered in the database breaks the chain at that entry, and GET
// /ledger/$verify says so; the ledger has no route that changes entries.
func TestLedger_VerifyDetectsTampering(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	for _, id := range []string{"t1", "t2", "t3"} {
		put(t, s, encounter(id, "IMP", clk.Now()))
	}
	flush(t, s)
	r := s.Do(t, http.MethodGet, "/ledger/$verify", nil)
	wantStatus(t, r, http.StatusOK, "verify")
	if v := decode(t, r.Body); v["verified"] != true || toString(v["entries"]) != "3" {
		t.Fatalf("an untouched ledger: %s", r.Body)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		if r := s.Do(t, m, "/ledger", `{}`); r.Status != http.StatusMethodNotAllowed && r.Status != http.StatusNotFound {
			t.Errorf("%s /ledger: %d, want 405 or 404", m, r.Status)
		}
	}

	tamper(t, s, 2, bson.D{{Key: "organization", Value: "Organization/someone-else"}})
	r = s.Do(t, http.MethodGet, "/ledger/$verify", nil)
	v := decode(t, r.Body)
	if v["verified"] != false || toString(get(v, "brokenAt", "seq")) != "2" || !strings.Contains(toString(get(v, "brokenAt", "reason")), "altered") {
		t.Errorf("after altering entry 2: %s", r.Body)
	}
}

// tamper changes fields of ledger entry seq directly in the database.
func tamper(t testing.TB, s *apitest.Server, seq int, set bson.D) {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(s.DBURI))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	id := strings.Repeat("0", 19) + string(rune('0'+seq))
	res, err := client.Database("accord").Collection("ledger").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	if err != nil || res.MatchedCount != 1 {
		t.Fatalf("tamper with entry %d: %v (%d matched)", seq, err, res.MatchedCount)
	}
}

// TestPendingActions: an organisation's open obligations and its other Tasks to do, oldest due first, with the
// resources they concern; closed obligations and other organisations' are not listed.
func TestPendingActions(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	directory(t, s)
	put(t, s, map[string]any{"resourceType": "Patient", "id": "9000000009", "identifier": []any{map[string]any{"system": nhsNumber, "value": "9000000009"}}})
	now := clk.Now()
	put(t, s, encounter("letter-due", "AMB", now))     // due in 10 days
	put(t, s, encounter("summary-due", "IMP", now))    // due tomorrow
	put(t, s, encounter("done", "IMP", now))           // fulfilled below
	put(t, s, testOrder("order-1"))                    // RJ1's
	put(t, s, report("dr-1", "final", "order-1", now)) // RJ1's obligation
	create(t, s, dischargeSummary("done", now))
	create(t, s, map[string]any{"resourceType": "Task", "status": "requested", "intent": "order", "owner": orgRef(trustRef, "R9Z"),
		"for": subject(), "focus": ref("Encounter/done"), "code": map[string]any{"text": "Call the patient about the results"},
		"restriction": map[string]any{"period": map[string]any{"end": instant(now.Add(48 * time.Hour))}}})
	flush(t, s)

	r := s.Do(t, http.MethodGet, "/Organization/R9Z/$pending-actions", nil)
	wantStatus(t, r, http.StatusOK, "pending actions")
	b := decode(t, r.Body)
	if b["type"] != "searchset" || toString(b["total"]) != "3" {
		t.Fatalf("not a searchset of 2: %s", truncated(r.Body))
	}
	var matches, includes []string
	for _, e := range asList(b["entry"]) {
		res := e["resource"].(map[string]any)
		switch get(e, "search", "mode") {
		case "match":
			matches = append(matches, toString(get(res, "focus", "reference")))
		case "include":
			includes = append(includes, res["resourceType"].(string)+"/"+res["id"].(string))
		}
	}
	if !slices.Equal(matches, []string{"Encounter/summary-due", "Encounter/done", "Encounter/letter-due"}) {
		t.Errorf("pending actions about %v, want the discharge summary, the practice's Task, then the clinic letter", matches)
	}
	slices.Sort(includes)
	if !slices.Equal(includes, []string{"Encounter/done", "Encounter/letter-due", "Encounter/summary-due", "Patient/9000000009"}) {
		t.Errorf("included %v", includes)
	}
	r = s.Do(t, http.MethodGet, "/Organization/RJ1/$pending-actions", nil)
	if total := toString(decode(t, r.Body)["total"]); total != "1" {
		t.Errorf("RJ1 has %s pending actions, want 1", total)
	}
	wantStatus(t, s.Do(t, http.MethodPost, "/Organization/R9Z/$pending-actions", `{}`), http.StatusMethodNotAllowed, "POST pending actions")

	// Overdue, the discharge summary is breached, and still R9Z's to do (late): first in the list.
	clk.Add(25 * time.Hour)
	sweep(t, s)
	b = decode(t, s.Do(t, http.MethodGet, "/Organization/R9Z/$pending-actions", nil).Body)
	first := asList(b["entry"])[0]["resource"].(map[string]any)
	if toString(b["total"]) != "3" || get(first, "focus", "reference") != "Encounter/summary-due" || first["status"] != "failed" {
		t.Errorf("after the breach: total %v, first %v %v; want 3, the breached discharge summary first", b["total"], get(first, "focus", "reference"), first["status"])
	}
}

// TestLedgerViews_Access: analysts read the ledger but not pending actions; a system reads the pending actions of
// the organisations it acts for only; the waiting times need no token.
func TestLedgerViews_Access(t *testing.T) {
	const orgsOnly = "rj1-orgs" // a system of RJ1 that may read Organizations, not Tasks
	s := startSecured(t, func(o *apitest.Options) {
		o.Clients = append(o.Clients, apitest.NewClient(t, orgsOnly, auth.RoleProvider, []string{"RJ1"}, "system/Organization.rs"))
	})
	for _, r := range []map[string]any{organization("RJ1", "Example Teaching Hospitals"), organization("G85001", "Example Practice")} {
		s.put(t, adminOps, r)
	}
	for _, c := range []struct {
		client, path string
		want         int
	}{
		{analystICB, "/ledger", http.StatusOK},
		{analystICB, "/ledger/$compliance?period=2026", http.StatusOK},
		{adminOps, "/ledger/$verify", http.StatusOK},
		{provRJ1, "/ledger", http.StatusForbidden},
		{gpG85001, "/ledger/$measure-report?period=2026", http.StatusForbidden},
		{provRJ1, "/Organization/RJ1/$pending-actions", http.StatusOK},
		{gpG85001, "/Organization/G85001/$pending-actions", http.StatusOK},
		{gpG85001, "/Organization/RJ1/$pending-actions", http.StatusForbidden},
		{analystICB, "/Organization/RJ1/$pending-actions", http.StatusForbidden},
		{orgsOnly, "/Organization/RJ1/$pending-actions", http.StatusForbidden},
	} {
		if r := s.as(t, c.client, http.MethodGet, c.path, nil); r.Status != c.want {
			t.Errorf("%s GET %s: %s, want %d", c.client, c.path, outcomeText(r), c.want)
		}
	}
	if r := s.Do(t, http.MethodGet, "/ledger", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("GET /ledger without a token: %d, want 401", r.Status)
	}
	r := s.Do(t, http.MethodGet, "/public/waiting-times", nil)
	wantStatus(t, r, http.StatusOK, "waiting times without a token")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("waiting times served as %q", ct)
	}
	wantStatus(t, s.Do(t, http.MethodGet, "/public/elsewhere", nil), http.StatusNotFound, "another public path")
}

// TestWaitingTimes: per provider and service, the median and 90th percentile days from referral received to
// first appointment; a group of fewer than five referrals is suppressed.
func TestWaitingTimes(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	directory(t, s)
	for i, days := range []int{10, 20, 30, 40, 50, 60} {
		id := "gastro-" + string(rune('a'+i))
		put(t, s, referral(id, "active"))
		create(t, s, appointment(id, clk.Now().Add(time.Duration(days)*24*time.Hour)))
		clk.Add(time.Hour)
	}
	for i := 0; i < 3; i++ { // a small service of another provider
		id := "cardio-" + string(rune('a'+i))
		sr := referral(id, "active")
		sr["performer"] = []any{orgRef(labTrustRef, "RJ1")}
		sr["code"] = map[string]any{"text": "Cardiology"}
		put(t, s, sr)
		create(t, s, appointment(id, clk.Now().Add(5*24*time.Hour)))
	}
	put(t, s, referral("waiting", "active")) // no appointment yet: not counted
	flush(t, s)

	r := s.Do(t, http.MethodGet, "/public/waiting-times", nil)
	wantStatus(t, r, http.StatusOK, "waiting times")
	w := decode(t, r.Body)
	groups := asList(w["groups"])
	if len(groups) != 1 || toString(w["suppressedGroups"]) != "1" || toString(w["minimumGroupSize"]) != "5" {
		t.Fatalf("want one group and one suppressed: %s", r.Body)
	}
	g := groups[0]
	for k, v := range map[string]string{"service": "Gastroenterology outpatients", "referrals": "6", "medianDays": "35", "percentile90Days": "55"} {
		if toString(g[k]) != v {
			t.Errorf("%s = %v, want %s", k, g[k], v)
		}
	}
	if get(g, "provider", "reference") != trustRef || get(g, "provider", "name") != "Example Hospital NHS Trust" {
		t.Errorf("provider %v", g["provider"])
	}
	r = s.Do(t, http.MethodGet, "/public/waiting-times?period=2025", nil)
	if n := len(asList(decode(t, r.Body)["groups"])); n != 0 {
		t.Errorf("2025 has %d groups, want none", n)
	}
	entries := ledgerEntries(t, s, "clause=6.2&state=fulfilled")
	if len(entries) != 9 {
		t.Errorf("%d referrals fulfilled by their appointment, want 9", len(entries))
	}
}

// adviceRequest is a practice's request for advice and guidance.
func adviceRequest(id string) map[string]any {
	return map[string]any{"resourceType": "ServiceRequest", "id": id, "status": "completed", "intent": "order",
		"category": []any{map[string]any{"coding": []any{map[string]any{"system": categorySys, "code": "advice-and-guidance", "display": "Advice and guidance"}}}},
		"code":     map[string]any{"text": "Advice on dyspepsia"}, "subject": subject(), "authoredOn": "2026-03-01T09:00:00Z",
		"requester": orgRef(practiceRef, "Y90001")}
}

// TestAdviceAndGuidance: the share of referrals preceded by advice and guidance, and the advice requests that
// became referrals (clause 7.1), from the stored requests.
func TestAdviceAndGuidance(t *testing.T) {
	s := startLedgerStack(t, newTestClock())
	directory(t, s)
	put(t, s, adviceRequest("ag-1"))
	put(t, s, adviceRequest("ag-2"))
	put(t, s, adviceRequest("ag-3"))
	after := referral("after-advice", "active")
	after["basedOn"] = []any{ref("ServiceRequest/ag-1")}
	after["requester"] = orgRef(practiceRef, "Y90001")
	put(t, s, after)
	direct := referral("direct", "active")
	direct["requester"] = orgRef(practiceRef, "Y90001")
	put(t, s, direct)
	old := referral("last-year", "active")
	old["authoredOn"] = "2025-06-01T09:00:00Z"
	put(t, s, old)

	r := s.Do(t, http.MethodGet, "/ledger/$advice-and-guidance?period=2026-03", nil)
	wantStatus(t, r, http.StatusOK, "advice and guidance")
	rep := decode(t, r.Body)
	for k, v := range map[string]string{"referrals": "2", "referralsAfterAdvice": "1", "shareAfterAdvice": "0.5",
		"adviceRequests": "3", "adviceConverted": "1", "conversionRate": "0.3333"} {
		if got := toString(get(rep, "total", k)); got != v {
			t.Errorf("total %s = %s, want %s", k, got, v)
		}
	}
	if g := asList(rep["groups"]); len(g) != 1 || g[0]["organization"] != practiceRef {
		t.Errorf("groups %v, want the practice's", rep["groups"])
	}
	wantOutcome(t, s.Do(t, http.MethodGet, "/ledger/$advice-and-guidance", nil), http.StatusBadRequest, "period")
}

// TestPendingActions_Paging: pending actions come in pages of _count, oldest due first and those without a due
// date last, following next links to the end without repeats or gaps; Tasks owned by the practice's ODS code
// alone are listed, finished ones are not; a Task finished between two pages leaves the later pages whole.
func TestPendingActions_Paging(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	directory(t, s)
	now := clk.Now()
	task := func(id string, owner map[string]any, status string, dueIn time.Duration) map[string]any {
		t := map[string]any{"resourceType": "Task", "id": id, "status": status, "intent": "order", "owner": owner,
			"for": subject(), "code": map[string]any{"text": "Act on " + id}}
		if dueIn != 0 {
			t["restriction"] = map[string]any{"period": map[string]any{"end": instant(now.Add(dueIn))}}
		}
		return t
	}
	byCode := map[string]any{"identifier": map[string]any{"system": odsCode, "value": "Y90001"}}
	for _, r := range []map[string]any{
		task("p-day5", orgRef(practiceRef, "Y90001"), "requested", 5*24*time.Hour),
		task("p-day1", orgRef(practiceRef, "Y90001"), "accepted", 24*time.Hour),
		task("p-code-day3", byCode, "in-progress", 3*24*time.Hour),
		task("p-nodue", map[string]any{"reference": practiceRef}, "requested", 0),
		task("p-day2", map[string]any{"reference": practiceRef}, "ready", 2*24*time.Hour),
		task("p-day4", orgRef(practiceRef, "Y90001"), "on-hold", 4*24*time.Hour),
		task("p-done", orgRef(practiceRef, "Y90001"), "completed", 24*time.Hour),
		task("trust-day1", orgRef(trustRef, "R9Z"), "requested", 24*time.Hour),
	} {
		put(t, s, r)
	}
	flush(t, s)

	var ids []string
	path := "/Organization/Y90001/$pending-actions?_count=2"
	for page := 0; path != ""; page++ {
		if page == 10 {
			t.Fatal("the next links do not end")
		}
		b := decode(t, s.Do(t, http.MethodGet, path, nil).Body)
		if toString(b["total"]) != "6" && page == 0 {
			t.Errorf("total %v, want 6", b["total"])
		}
		n := 0
		for _, e := range asList(b["entry"]) {
			if get(e, "search", "mode") == "match" {
				ids = append(ids, get(e, "resource", "id").(string))
				n++
			}
		}
		if n > 2 {
			t.Errorf("page %d has %d matches, want at most 2", page, n)
		}
		if page == 0 { // the first of the third page's Tasks is finished meanwhile
			done := task("p-day4", orgRef(practiceRef, "Y90001"), "completed", 4*24*time.Hour)
			put(t, s, done)
			flush(t, s)
		}
		path = ""
		for _, l := range asList(b["link"]) {
			if l["relation"] == "next" {
				u, _ := url.Parse(l["url"].(string))
				path = u.RequestURI()
			}
		}
	}
	want := []string{"p-day1", "p-day2", "p-code-day3", "p-day5", "p-nodue"}
	if !slices.Equal(ids, want) {
		t.Errorf("pending actions %v, want %v", ids, want)
	}

	for _, bad := range []struct{ query, param string }{
		{"_count=0", "_count"}, {"_count=many", "_count"}, {"_count=5000", "_count"},
		{"_cursor=not-a-cursor", "_cursor"}, {"status=requested", "status"},
	} {
		r := s.Do(t, http.MethodGet, "/Organization/Y90001/$pending-actions?"+bad.query, nil)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), bad.param) {
			t.Errorf("?%s: %d %s, want 400 naming %s", bad.query, r.Status, truncated(r.Body), bad.param)
		}
	}
}

// TestLedger_OneKeyPerOrganisation: an organisation named by its ODS code alone, by reference alone, or both, is
// one organisation in the ledger (its entries, the compliance figures), and the organization filter finds it by
// either name.
func TestLedger_OneKeyPerOrganisation(t *testing.T) {
	clk := newTestClock()
	s := startLedgerStack(t, clk)
	directory(t, s)
	byCode := func(e map[string]any) {
		e["serviceProvider"] = map[string]any{"identifier": map[string]any{"system": odsCode, "value": "R9Z"}}
	}
	byRef := func(e map[string]any) { e["serviceProvider"] = ref(trustRef) }
	put(t, s, encounter("by-code", "IMP", clk.Now(), byCode))
	put(t, s, encounter("by-ref", "IMP", clk.Now(), byRef))
	put(t, s, encounter("both", "IMP", clk.Now()))
	flush(t, s)
	for _, q := range []string{"organization=R9Z", "organization=" + trustRef, "organization=" + odsCode + "|R9Z"} {
		if n := len(ledgerEntries(t, s, q)); n != 3 {
			t.Errorf("/ledger?%s: %d entries, want the 3 obligations opened", q, n)
		}
	}
	b := decode(t, s.Do(t, http.MethodGet, "/ledger/$compliance?period=2026&groupBy=organization", nil).Body)
	groups := asList(b["groups"])
	if len(groups) != 1 || groups[0]["organization"] != trustRef || toString(groups[0]["opened"]) != "3" {
		t.Errorf("compliance by organisation: %v, want one group of %s with 3 opened", groups, trustRef)
	}
	task := obligation(t, s, "2.5-discharge-summary", "Encounter/by-code")
	if get(task, "owner", "reference") != trustRef || get(task, "owner", "identifier", "value") != "R9Z" {
		t.Errorf("the obligation's owner is %v, want %s with its ODS code", task["owner"], trustRef)
	}
}

// TestFindings_Withdrawn: a report entered in error, or deleted, after it was recorded is withdrawn in the ledger
// (a "withdrawn" entry) and no longer counts in the compliance figures.
func TestFindings_Withdrawn(t *testing.T) {
	s := startLedgerStack(t, newTestClock())
	directory(t, s)
	kept := create(t, s, interfaceIssue("other", trustRef))
	inError := create(t, s, interfaceIssue("other", trustRef))
	deleted := create(t, s, interfaceIssue("other", trustRef))
	flush(t, s)
	reported := func() string {
		b := decode(t, s.Do(t, http.MethodGet, "/ledger/$compliance?period=2026", nil).Body)
		return toString(get(b, "total", "reported"))
	}
	if got := reported(); got != "3" {
		t.Fatalf("%s reports counted, want 3", got)
	}
	withdrawn := read(t, s, "Communication", inError)
	withdrawn["status"] = "entered-in-error"
	put(t, s, withdrawn)
	wantStatus(t, s.Do(t, http.MethodDelete, "/Communication/"+deleted, nil), http.StatusNoContent, "delete a report")
	flush(t, s)
	if got := reported(); got != "1" {
		t.Errorf("%s reports counted after two were withdrawn, want 1", got)
	}
	var events []string
	for _, e := range ledgerEntries(t, s, "state=withdrawn") {
		events = append(events, strings.Split(toString(e["event"]), "/_history/")[0])
	}
	slices.Sort(events)
	want := []string{"Communication/" + deleted, "Communication/" + inError}
	slices.Sort(want)
	if !slices.Equal(events, want) {
		t.Errorf("withdrawn entries for %v, want %v (not %s)", events, want, kept)
	}
}
