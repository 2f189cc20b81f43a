package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/ledger"
)

// Codes and systems of the ledger fixtures.
const (
	sct         = "http://snomed.info/sct"
	nhsNumber   = "https://fhir.nhs.uk/Id/nhs-number"
	odsCode     = "https://fhir.nhs.uk/Id/ods-organization-code"
	actCode     = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	disposition = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
	categorySys = "https://accord-fhir.github.io/ig/CodeSystem/event-category"
	issueSys    = "https://accord-fhir.github.io/ig/CodeSystem/interface-issue-type"
	fitNoteURL  = "https://accord-fhir.github.io/ig/StructureDefinition/fit-note-required"
	trustRef    = "Organization/R9Z"    // the hospital trust: accountable for the encounters
	labTrustRef = "Organization/RJ1"    // the trust whose clinician orders tests
	practiceRef = "Organization/Y90001" // the GP practice
)

// testClock is the settable clock of the store and the ledger.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Add moves the clock on by d.
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// startLedgerStack starts the stack on clock c, with the sweeper left to the test (an interval of a day).
func startLedgerStack(t *testing.T, c *testClock, extra ...func(*apitest.Options)) *apitest.Server {
	t.Helper()
	o := apitest.Options{Clock: c.Now, Ledger: func(lo *ledger.Options) { lo.SweepInterval = 24 * time.Hour }}
	for _, f := range extra {
		f(&o)
	}
	return apitest.Start(t, o)
}

func instant(t time.Time) string { return t.UTC().Format(fhir.InstantFormat) }

func ref(r string) map[string]any { return map[string]any{"reference": r} }

func orgRef(ref, code string) map[string]any {
	return map[string]any{"reference": ref, "identifier": map[string]any{"system": odsCode, "value": code}}
}

// displays are the displays the implementation guide's category patterns require.
var displays = map[string]string{
	"373942005": "Discharge summary", "371531000": "Report of clinic encounter", "3457005": "Patient referral",
	"fit-note": "Fit note", "result-to-patient": "Result to patient", "waiting-time": "Waiting time",
	"interface-issue": "Interface issue report", "onward-referral-request": "Request to the GP to refer onward",
}

// coding is a CodeableConcept of one coding (with the display the guide's patterns ask for, if any).
func coding(system, code string) map[string]any {
	c := map[string]any{"system": system, "code": code}
	if d, ok := displays[code]; ok && (system == sct || system == categorySys) {
		c["display"] = d
	}
	return map[string]any{"coding": []any{c}}
}

// subject is the fixtures' patient.
func subject() map[string]any {
	return map[string]any{"reference": "Patient/9000000009", "identifier": map[string]any{"system": nhsNumber, "value": "9000000009"}}
}

// encounter is a finished Encounter of class (IMP, AMB) that ended at end; options adjust it.
func encounter(id, class string, end time.Time, opts ...func(map[string]any)) map[string]any {
	e := map[string]any{
		"resourceType": "Encounter", "id": id, "status": "finished",
		"class":   map[string]any{"system": actCode, "code": class},
		"subject": subject(), "period": map[string]any{"start": instant(end.Add(-2 * time.Hour)), "end": instant(end)},
		"hospitalization": map[string]any{"dischargeDisposition": coding(disposition, "home")},
		"serviceProvider": orgRef(trustRef, "R9Z"),
	}
	for _, o := range opts {
		o(e)
	}
	return e
}

func againstAdvice(e map[string]any) {
	e["hospitalization"] = map[string]any{"dischargeDisposition": coding(disposition, "aadvice")}
}

func fitNoteNeeded(e map[string]any) {
	e["extension"] = []any{map[string]any{"url": fitNoteURL, "valueBoolean": true}}
}

// letter is a completed Communication of category (SNOMED or event-category coding) about encounter enc, from the
// trust to the practice.
func letter(category map[string]any, enc string, sent time.Time) map[string]any {
	return map[string]any{
		"resourceType": "Communication", "status": "completed", "category": []any{category},
		"subject": subject(), "encounter": ref("Encounter/" + enc), "sent": instant(sent),
		"recipient": []any{orgRef(practiceRef, "Y90001")}, "sender": orgRef(trustRef, "R9Z"),
		"payload": []any{map[string]any{"contentString": "Letter text"}},
	}
}

func dischargeSummary(enc string, sent time.Time) map[string]any {
	return letter(coding(sct, "373942005"), enc, sent)
}

func clinicLetter(enc string, sent time.Time) map[string]any {
	return letter(coding(sct, "371531000"), enc, sent)
}

func fitNote(enc string, sent time.Time) map[string]any {
	return letter(coding(categorySys, "fit-note"), enc, sent)
}

// testOrder is a ServiceRequest for a test, requested by a PractitionerRole of the lab trust.
func testOrder(id string) map[string]any {
	return map[string]any{"resourceType": "ServiceRequest", "id": id, "status": "active", "intent": "order",
		"code": map[string]any{"text": "Full blood count"}, "subject": subject(), "requester": ref("PractitionerRole/consultant-1")}
}

// report is a DiagnosticReport of status for the test order, issued at issued.
func report(id, status, order string, issued time.Time) map[string]any {
	return map[string]any{"resourceType": "DiagnosticReport", "id": id, "status": status,
		"code": map[string]any{"text": "Full blood count"}, "subject": subject(), "basedOn": []any{ref("ServiceRequest/" + order)},
		"issued": instant(issued)}
}

// resultToPatient is the communication of report dr to the patient.
func resultToPatient(dr string, sent time.Time) map[string]any {
	return map[string]any{"resourceType": "Communication", "status": "completed",
		"category": []any{coding(categorySys, "result-to-patient")}, "subject": subject(),
		"recipient": []any{subject()}, "sent": instant(sent), "about": []any{ref("DiagnosticReport/" + dr)},
		"payload": []any{map[string]any{"contentString": "Your result is normal"}}}
}

// referral is an active referral to the gastroenterology service of the trust.
func referral(id, status string) map[string]any {
	return map[string]any{
		"resourceType": "ServiceRequest", "id": id, "status": status, "intent": "order",
		"extension": []any{
			map[string]any{"url": "https://accord-fhir.github.io/ig/StructureDefinition/intended-outcome", "valueCodeableConcept": map[string]any{
				"coding": []any{map[string]any{"system": "https://accord-fhir.github.io/ig/CodeSystem/intended-outcome", "code": "diagnosis"}}}},
			map[string]any{"url": "https://accord-fhir.github.io/ig/StructureDefinition/patient-consent", "valueBoolean": true},
		},
		"category": []any{coding(sct, "3457005")}, "code": map[string]any{"text": "Gastroenterology outpatient assessment"},
		"subject": subject(), "authoredOn": "2026-03-01T10:00:00Z", "requester": ref("PractitionerRole/gp-smith"),
		"performer":      []any{map[string]any{"reference": "HealthcareService/gastro-opd", "display": "Gastroenterology outpatients"}},
		"reasonCode":     []any{map[string]any{"text": "Persistent dyspepsia"}},
		"supportingInfo": []any{ref("QuestionnaireResponse/dyspepsia-assessment")},
	}
}

// appointment is a booked Appointment based on referral sr, starting at start.
func appointment(sr string, start time.Time) map[string]any {
	return map[string]any{"resourceType": "Appointment", "status": "booked", "start": instant(start), "end": instant(start.Add(30 * time.Minute)),
		"basedOn": []any{ref("ServiceRequest/" + sr)},
		"extension": []any{map[string]any{"url": "https://accord-fhir.github.io/ig/StructureDefinition/rebooking-contact",
			"valueContactPoint": map[string]any{"system": "phone", "value": "020 7946 0001"}}},
		"participant": []any{map[string]any{"actor": ref("Patient/9000000009"), "status": "accepted"}}}
}

// directory stores what accountability is resolved through: the trusts, the practice, the consultant's role and
// the gastroenterology service.
func directory(t testing.TB, s *apitest.Server) {
	t.Helper()
	for _, r := range []map[string]any{
		organization("R9Z", "Example Hospital NHS Trust"), organization("RJ1", "Example Teaching Hospitals"),
		organization("Y90001", "Example Green Practice"),
		{"resourceType": "PractitionerRole", "id": "consultant-1", "organization": orgRef(labTrustRef, "RJ1"),
			"telecom": []any{map[string]any{"system": "phone", "value": "020 7946 0002"}}},
		{"resourceType": "HealthcareService", "id": "gastro-opd", "providedBy": orgRef(trustRef, "R9Z"), "name": "Gastroenterology outpatients",
			"telecom": []any{map[string]any{"system": "phone", "value": "020 7946 0001"}}},
	} {
		put(t, s, r)
	}
}

func organization(code, name string) map[string]any {
	return map[string]any{"resourceType": "Organization", "id": code, "name": name, "active": true,
		"identifier": []any{map[string]any{"system": odsCode, "value": code}},
		"telecom":    []any{map[string]any{"system": "phone", "value": "020 7946 0100"}}}
}

// put stores res under its id; anything but 200 or 201 fails the test.
func put(t testing.TB, s *apitest.Server, res map[string]any) {
	t.Helper()
	typ, id := res["resourceType"].(string), res["id"].(string)
	r := s.Do(t, http.MethodPut, "/"+typ+"/"+id, res)
	if r.Status != http.StatusOK && r.Status != http.StatusCreated {
		t.Fatalf("PUT %s/%s: %s", typ, id, outcomeText(r))
	}
}

// flush waits until the ledger has processed every write made so far.
func flush(t testing.TB, s *apitest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Ledger.Flush(ctx); err != nil {
		t.Fatalf("flush the ledger: %v", err)
	}
}

// sweep runs one breach sweep and returns how many obligations it breached.
func sweep(t testing.TB, s *apitest.Server) int {
	t.Helper()
	flush(t, s)
	n, err := s.Ledger.Sweep(context.Background())
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return n
}

// obligation reads the Task of rule's obligation on trigger ("Type/id"); nil when there is none.
func obligation(t testing.TB, s *apitest.Server, rule, trigger string) map[string]any {
	t.Helper()
	r := s.Do(t, http.MethodGet, "/Task/"+ledger.ObligationID(rule, trigger), nil)
	if r.Status == http.StatusNotFound {
		return nil
	}
	wantStatus(t, r, http.StatusOK, "read the obligation of "+rule+" on "+trigger)
	return decode(t, r.Body)
}

// ledgerEntries returns every ledger entry matching query (a query string for GET /ledger), following pages.
func ledgerEntries(t testing.TB, s *apitest.Server, query string) []map[string]any {
	t.Helper()
	var all []map[string]any
	path := "/ledger?" + query
	for page := 0; path != ""; page++ {
		if page == 100 {
			t.Fatal("more than 100 pages of ledger entries")
		}
		r := s.Do(t, http.MethodGet, path, nil)
		wantStatus(t, r, http.StatusOK, "GET "+path)
		body := decode(t, r.Body)
		all = append(all, asList(body["entries"])...)
		next, _ := body["next"].(string)
		path = strings.TrimPrefix(next, s.URL)
	}
	return all
}

// changesOf lists the changes recorded for obligation (a Task id), in ledger order, with ":late" after a
// fulfilment past due.
func changesOf(entries []map[string]any, obligationID string) []string {
	var out []string
	for _, e := range entries {
		if e["obligation"] != "Task/"+obligationID {
			continue
		}
		c, _ := e["change"].(string)
		if onTime, ok := e["onTime"].(bool); ok && !onTime {
			c += ":late"
		}
		out = append(out, c)
	}
	return out
}

// clone copies a resource.
func clone(t testing.TB, res map[string]any) map[string]any {
	t.Helper()
	return decode(t, mustJSON(t, res))
}
