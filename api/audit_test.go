package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
)

// auditEvents decodes the AuditEvents of a searchset.
func auditEvents(t testing.TB, r *apitest.Response) (total int, events []map[string]any) {
	t.Helper()
	wantStatus(t, r, http.StatusOK, "audit search")
	b := decode(t, r.Body)
	n, _ := b["total"].(json.Number).Int64()
	entries, _ := b["entry"].([]any)
	for _, e := range entries {
		events = append(events, e.(map[string]any)["resource"].(map[string]any))
	}
	return int(n), events
}

// eventText is an AuditEvent as JSON text, for looking into.
func eventText(t testing.TB, ev map[string]any) string { return string(mustJSON(t, ev)) }

func TestAudit_EveryRequestRecorded_AdminsSearchIt(t *testing.T) {
	s := startSecured(t)
	f := newOrgFixture(t, s)
	wantStatus(t, s.as(t, provRJ1, "GET", "/Task/"+f.a, nil), http.StatusOK, "read")
	wantStatus(t, s.as(t, provRJ1, "GET", "/Task/"+f.b, nil), http.StatusNotFound, "invisible read")
	wantStatus(t, s.Do(t, "GET", "/Task?identifier=https://rj2.test/task|b", nil), http.StatusUnauthorized, "no token")
	tx := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"resource": orgTask(odsRef("RJ1"), odsRef("RJ1"), "p1"), "request": map[string]any{"method": "POST", "url": "Task"}}}}
	wantStatus(t, s.as(t, provRJ1, "POST", "/", tx), http.StatusOK, "transaction")
	s.FlushAudit(t)

	total, events := auditEvents(t, s.as(t, adminOps, "GET", "/AuditEvent?agent="+provRJ1+"&_count=100", nil))
	if total < 4 || len(events) != total {
		t.Fatalf("%d events of %s (%d on the page), want the token, create, read, invisible read and transaction", total, provRJ1, len(events))
	}
	var read, invisible, transaction, token map[string]any
	for _, ev := range events {
		text := eventText(t, ev)
		sub := ev["subtype"].([]any)[0].(map[string]any)["code"]
		switch {
		case sub == "read" && strings.Contains(text, "Task/"+f.a+"/_history/1"):
			read = ev
		case sub == "read" && ev["outcome"] == "4":
			invisible = ev
		case sub == "transaction":
			transaction = ev
		case sub == "token":
			token = ev
		}
	}
	if read == nil || invisible == nil || transaction == nil || token == nil {
		t.Fatalf("missing events: read %v, invisible read %v, transaction %v, token %v", read != nil, invisible != nil, transaction != nil, token != nil)
	}
	text := eventText(t, read)
	for _, want := range []string{`"action":"R"`, `"outcome":"0"`, `"outcomeDesc":"HTTP 200"`, `"value":"rj1-epr"`, `"value":"RJ1"`,
		`"address":"127.0.0.1"`, `"code":"rest"`, `"recorded":"` + time.Now().UTC().Format("2006-01-02")} {
		if !strings.Contains(text, want) {
			t.Errorf("the read event lacks %s: %s", want, text)
		}
	}
	if text := eventText(t, invisible); strings.Contains(text, `"reference":"Task/`+f.b+`/_history`) ||
		!strings.Contains(text, `"description":"the target of an interaction refused to the client: nothing of it was disclosed","what":{"reference":"Task/`+f.b+`"}`) {
		t.Errorf("the invisible read lists the resource as touched, or not as the target refused: %s", text)
	}
	// A batch entry refused on its own names its target too.
	batch := map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
		map[string]any{"request": map[string]any{"method": "GET", "url": "Task/" + f.a}},
		map[string]any{"request": map[string]any{"method": "GET", "url": "Task/" + f.b}}}}
	wantStatus(t, s.as(t, provRJ1, "POST", "/", batch), http.StatusOK, "batch")
	s.FlushAudit(t)
	// Who tried to reach Task b is found by entity: the refused read and the refused batch entry.
	_, tried := auditEvents(t, s.as(t, adminOps, "GET", "/AuditEvent?entity=Task/"+f.b+"&agent="+provRJ1, nil))
	if len(tried) != 2 {
		t.Errorf("the audit trail by entity Task/%s holds %d events of %s, want the refused read and the batch", f.b, len(tried), provRJ1)
	}
	if !strings.Contains(eventText(t, transaction), `"action":"E"`) || !strings.Contains(eventText(t, transaction), `"reference":"Task/`) {
		t.Errorf("the transaction event does not list the Task it wrote: %s", eventText(t, transaction))
	}

	// Every criterion narrows the search.
	for _, tc := range []struct {
		query string
		check func(ev map[string]any) bool
	}{
		{"entity=Task/" + f.a, func(ev map[string]any) bool { return strings.Contains(eventText(t, ev), "Task/"+f.a) }},
		{"outcome=4", func(ev map[string]any) bool { return ev["outcome"] == "4" }},
		{"subtype=transaction", func(ev map[string]any) bool { return strings.Contains(eventText(t, ev), `"code":"transaction"`) }},
		{"agent=RJ2", func(ev map[string]any) bool { return strings.Contains(eventText(t, ev), `"value":"RJ2"`) }},
		{"date=ge" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), func(ev map[string]any) bool { return true }},
	} {
		total, events := auditEvents(t, s.as(t, adminOps, "GET", "/AuditEvent?_count=1000&"+tc.query, nil))
		if total == 0 {
			t.Errorf("%s: nothing found", tc.query)
		}
		for _, ev := range events {
			if !tc.check(ev) {
				t.Errorf("%s: found %s", tc.query, eventText(t, ev))
			}
		}
	}
	if total, _ := auditEvents(t, s.as(t, adminOps, "GET", "/AuditEvent?date=lt2000-01-01", nil)); total != 0 {
		t.Errorf("date=lt2000-01-01 found %d", total)
	}
	// The unauthenticated request is there, with its query.
	_, events = auditEvents(t, s.as(t, adminOps, "GET", "/AuditEvent?outcome=4&subtype=search-type&_count=1000", nil))
	query := base64.StdEncoding.EncodeToString([]byte("identifier=https://rj2.test/task|b"))
	found := false
	for _, ev := range events {
		found = found || (strings.Contains(eventText(t, ev), "unauthenticated") && strings.Contains(eventText(t, ev), query))
	}
	if !found {
		t.Errorf("the unauthenticated search is not in the audit trail")
	}
	// One event read by id is a valid R4 AuditEvent.
	r := s.as(t, adminOps, "GET", "/AuditEvent/"+read["id"].(string), nil)
	wantStatus(t, r, http.StatusOK, "read an AuditEvent")
	v := s.as(t, adminOps, "POST", "/AuditEvent/$validate", r.Body)
	wantStatus(t, v, http.StatusOK, "$validate")
	if strings.Contains(string(v.Body), `"severity":"error"`) {
		t.Errorf("the AuditEvent is not valid R4: %s", v.Body)
	}
}

func TestAudit_SearchRefusals_AndPaging(t *testing.T) {
	s := startSecured(t)
	for i := 0; i < 3; i++ {
		wantStatus(t, s.as(t, provRJ1, "GET", "/Task", nil), http.StatusOK, "search")
	}
	s.FlushAudit(t)
	wantIssue(t, s.as(t, provRJ1, "GET", "/AuditEvent", nil), http.StatusForbidden, "forbidden", "a provider searches the audit trail")
	wantIssue(t, s.as(t, provRJ1, "GET", "/AuditEvent/x", nil), http.StatusForbidden, "forbidden", "a provider reads an AuditEvent")
	wantIssue(t, s.as(t, adminOps, "GET", "/AuditEvent?patient=x", nil), http.StatusBadRequest, "invalid", "unknown parameter")
	wantIssue(t, s.as(t, adminOps, "GET", "/AuditEvent?date=yesterday", nil), http.StatusBadRequest, "invalid", "bad date")
	wantIssue(t, s.as(t, adminOps, "GET", "/AuditEvent/no-such-event", nil), http.StatusNotFound, "not-found", "unknown id")
	for _, m := range []string{"PUT", "DELETE"} {
		wantIssue(t, s.as(t, adminOps, m, "/AuditEvent/x", map[string]any{"resourceType": "AuditEvent", "id": "x"}), http.StatusForbidden, "forbidden", m+" an AuditEvent")
	}
	s.FlushAudit(t)
	r := s.as(t, adminOps, "GET", "/AuditEvent?agent="+provRJ1+"&subtype=search-type&outcome=0&_count=1", nil)
	total, events := auditEvents(t, r)
	if total != 3 || len(events) != 1 {
		t.Fatalf("total %d, %d on the page; want 3 and 1", total, len(events))
	}
	b := decode(t, r.Body)
	next := ""
	for _, l := range b["link"].([]any) {
		if l.(map[string]any)["relation"] == "next" {
			next = l.(map[string]any)["url"].(string)
		}
	}
	if !strings.Contains(next, "_offset=1") {
		t.Fatalf("no next link: %s", r.Body)
	}
	_, page2 := auditEvents(t, s.as(t, adminOps, "GET", strings.TrimPrefix(next, s.URL), nil))
	if len(page2) != 1 || page2[0]["id"] == events[0]["id"] {
		t.Errorf("page 2 %v", page2)
	}
}
