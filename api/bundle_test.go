package api_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

// entry is a Bundle entry of a batch or transaction; request holds method, url and any ifMatch/ifNoneExist.
func entry(fullURL string, resource map[string]any, request ...string) map[string]any {
	req := map[string]any{}
	for i := 0; i+1 < len(request); i += 2 {
		req[request[i]] = request[i+1]
	}
	e := map[string]any{"request": req}
	if fullURL != "" {
		e["fullUrl"] = fullURL
	}
	if resource != nil {
		e["resource"] = resource
	}
	return e
}

func bundle(typ string, entries ...map[string]any) map[string]any {
	list := make([]any, len(entries))
	for i, e := range entries {
		list[i] = e
	}
	return map[string]any{"resourceType": "Bundle", "type": typ, "entry": list}
}

func observation(subject string) map[string]any {
	return map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "weight"},
		"subject": map[string]any{"reference": subject}}
}

// responseEntries posts a batch or transaction and returns its response entries; anything but 200 fails.
func responseEntries(t *testing.T, s *apitest.Server, b map[string]any, headers ...string) []map[string]any {
	t.Helper()
	r := s.Do(t, http.MethodPost, "/", b, headers...)
	wantStatus(t, r, http.StatusOK, b["type"].(string))
	resp := decode(t, r.Body)
	if want := b["type"].(string) + "-response"; resp["type"] != want || resp["resourceType"] != "Bundle" {
		t.Fatalf("answered a %v of type %v, want a Bundle of type %s", resp["resourceType"], resp["type"], want)
	}
	entries := asList(resp["entry"])
	if want := len(b["entry"].([]any)); len(entries) != want {
		t.Fatalf("response has %d entries, want %d (one per request entry)", len(entries), want)
	}
	return entries
}

// located reads the resource an entry's response.location names.
func located(t *testing.T, s *apitest.Server, e map[string]any) map[string]any {
	t.Helper()
	loc, _ := get(e, "response", "location").(string)
	parts := strings.Split(loc, "/")
	if len(parts) != 4 || parts[2] != "_history" {
		t.Fatalf("response.location %q is not Type/id/_history/vid", loc)
	}
	return read(t, s, parts[0], parts[1])
}

func wantEntryStatus(t *testing.T, entries []map[string]any, i int, status string) {
	t.Helper()
	if got, _ := get(entries[i], "response", "status").(string); !strings.HasPrefix(got, status) {
		t.Errorf("entry %d: response.status %q, want %s; outcome %v", i, got, status, get(entries[i], "response", "outcome"))
	}
}

func TestBatch_EntriesIndependent(t *testing.T) {
	s := apitest.Start(t)
	existing := create(t, s, patient(unique("b")))
	stale := create(t, s, patient(unique("b")))
	wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+stale, map[string]any{"resourceType": "Patient", "id": stale}), http.StatusOK, "update")
	value := unique("batch")
	b := bundle("batch",
		entry("", patient(value), "method", "POST", "url", "Patient"),
		entry("", map[string]any{"resourceType": "Patient", "unknownElement": true}, "method", "POST", "url", "Patient"),
		entry("", nil, "method", "GET", "url", "Patient/"+existing),
		entry("", nil, "method", "GET", "url", "Patient/missing"),
		entry("", map[string]any{"resourceType": "Patient", "id": stale}, "method", "PUT", "url", "Patient/"+stale, "ifMatch", `W/"1"`),
		entry("", map[string]any{"resourceType": "Observation"}, "method", "POST", "url", "Patient"),
		map[string]any{"resource": patient("no request")},
		entry("", nil, "method", "DELETE", "url", "Patient/"+existing),
		entry("", nil, "method", "GET", "url", "NotAType/1"),
	)
	entries := responseEntries(t, s, b)
	for i, want := range []string{"201", "400", "200", "404", "412", "400", "400", "204", "404"} {
		wantEntryStatus(t, entries, i, want)
		failed := want[0] == '4'
		if oo, _ := get(entries[i], "response", "outcome").(map[string]any); failed && (oo == nil || oo["resourceType"] != "OperationOutcome") {
			t.Errorf("entry %d failed without an OperationOutcome: %v", i, entries[i])
		}
	}
	if n := countMatches(t, s, value); n != 1 {
		t.Errorf("the first entry's Patient: %d stored, want 1", n)
	}
	if get(entries[2], "resource", "id") != existing {
		t.Errorf("GET entry answered %v", entries[2]["resource"])
	}
	if v := versionID(read(t, s, "Patient", stale)); v != "2" {
		t.Errorf("the stale PUT wrote version %s", v)
	}
	wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/"+existing, nil), http.StatusGone)
	if expr, _ := get(entries[1], "response", "outcome", "issue", 0, "expression", 0).(string); !strings.Contains(expr, "unknownElement") {
		t.Errorf("the invalid entry's outcome does not point at the unknown element: %v", get(entries[1], "response", "outcome"))
	}
}

func TestTransaction_ResolvesReferences(t *testing.T) {
	s := apitest.Start(t)
	known := unique("known")
	knownID := create(t, s, patient(known))
	newValue := unique("new")
	const patientURL, encounterURL = "urn:uuid:0c3a5b1e-1111-4a1a-9a1a-000000000001", "urn:uuid:0c3a5b1e-1111-4a1a-9a1a-000000000002"
	obs := observation(patientURL)
	obs["encounter"] = map[string]any{"reference": encounterURL}
	obs["performer"] = []any{map[string]any{"reference": "Patient?" + identifierQuery(known)}}
	obs["extension"] = []any{map[string]any{"url": "https://accord.test/ext", "valueReference": map[string]any{"reference": patientURL}}}
	b := bundle("transaction",
		entry("", obs, "method", "POST", "url", "Observation"),
		entry(encounterURL, map[string]any{"resourceType": "Encounter", "status": "finished", "class": map[string]any{"code": "AMB"},
			"subject": map[string]any{"reference": patientURL}}, "method", "POST", "url", "Encounter"),
		entry(patientURL, patient(newValue), "method", "POST", "url", "Patient"),
	)
	entries := responseEntries(t, s, b)
	for i := range entries {
		wantEntryStatus(t, entries, i, "201")
	}
	gotObs, gotEnc, gotPat := located(t, s, entries[0]), located(t, s, entries[1]), located(t, s, entries[2])
	if gotPat["resourceType"] != "Patient" || gotEnc["resourceType"] != "Encounter" || gotObs["resourceType"] != "Observation" {
		t.Fatalf("the response entries are not in the request's order: %v %v %v", gotObs["resourceType"], gotEnc["resourceType"], gotPat["resourceType"])
	}
	patRef, encRef := "Patient/"+gotPat["id"].(string), "Encounter/"+gotEnc["id"].(string)
	for _, c := range []struct {
		what string
		got  any
		want string
	}{
		{"Observation.subject", get(gotObs, "subject", "reference"), patRef},
		{"Observation.encounter", get(gotObs, "encounter", "reference"), encRef},
		{"Observation.performer (conditional reference)", get(gotObs, "performer", 0, "reference"), "Patient/" + knownID},
		{"Observation.extension.valueReference", get(gotObs, "extension", 0, "valueReference", "reference"), patRef},
		{"Encounter.subject", get(gotEnc, "subject", "reference"), patRef},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %s", c.what, c.got, c.want)
		}
	}
	for i, e := range entries {
		if !strings.HasPrefix(str(get(e, "response", "etag")), `W/"1"`) || get(e, "response", "lastModified") == nil {
			t.Errorf("entry %d: response %v lacks etag W/\"1\" or lastModified", i, e["response"])
		}
		if full, _ := e["fullUrl"].(string); !strings.HasPrefix(full, s.URL+"/") {
			t.Errorf("entry %d: fullUrl %q", i, full)
		}
	}
}

func TestTransaction_IfNoneExist_ExistingNotRecreated(t *testing.T) {
	s := apitest.Start(t)
	value := unique("ine")
	existing := create(t, s, patient(value))
	before := historyLen(t, s, "/Patient/_history")
	const ref = "urn:uuid:0c3a5b1e-2222-4a1a-9a1a-000000000001"
	entries := responseEntries(t, s, bundle("transaction",
		entry(ref, patient(value), "method", "POST", "url", "Patient", "ifNoneExist", identifierQuery(value)),
		entry("", observation(ref), "method", "POST", "url", "Observation"),
	))
	wantEntryStatus(t, entries, 0, "200")
	wantEntryStatus(t, entries, 1, "201")
	if loc := get(entries[0], "response", "location"); loc != "Patient/"+existing+"/_history/1" {
		t.Errorf("ifNoneExist entry location %v, want the existing Patient", loc)
	}
	if n := historyLen(t, s, "/Patient/_history"); n != before {
		t.Errorf("the Patient history grew by %d: the existing match was re-created", n-before)
	}
	if got := get(located(t, s, entries[1]), "subject", "reference"); got != "Patient/"+existing {
		t.Errorf("Observation.subject = %v, want Patient/%s", got, existing)
	}
	// Without a match the entry creates; with the same criteria again, it finds that one.
	fresh := unique("ine")
	for i, want := range []string{"201", "200"} {
		entries := responseEntries(t, s, bundle("transaction", entry("", patient(fresh), "method", "POST", "url", "Patient", "ifNoneExist", identifierQuery(fresh))))
		wantEntryStatus(t, entries, 0, want)
		if n := countMatches(t, s, fresh); n != 1 {
			t.Errorf("round %d: %d Patients with the identifier, want 1", i, n)
		}
	}
}

// TestTransaction_IfNoneExist_ClaimOfChangedMatch: a conditional create whose earlier match changed its
// identifier creates a new resource instead of waiting on the stale claim.
func TestTransaction_IfNoneExist_ClaimOfChangedMatch(t *testing.T) {
	s := apitest.Start(t)
	value := unique("claim")
	first := responseEntries(t, s, bundle("transaction", entry("", patient(value), "method", "POST", "url", "Patient", "ifNoneExist", identifierQuery(value))))
	wantEntryStatus(t, first, 0, "201")
	changed := located(t, s, first[0])
	changed["identifier"] = patient(value + "-changed")["identifier"]
	wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+changed["id"].(string), changed), http.StatusOK, "change the identifier")
	again := responseEntries(t, s, bundle("transaction", entry("", patient(value), "method", "POST", "url", "Patient", "ifNoneExist", identifierQuery(value))))
	wantEntryStatus(t, again, 0, "201")
	if n := countMatches(t, s, value); n != 1 {
		t.Errorf("%d Patients with the identifier, want 1", n)
	}
}

func TestTransaction_ResponseFollowsRequestOrder(t *testing.T) {
	s := apitest.Start(t)
	toDelete := create(t, s, patient(unique("o")))
	toUpdate := create(t, s, patient(unique("o")))
	toPatch := create(t, s, patient(unique("o")))
	toRead := create(t, s, patient(unique("o")))
	patch := base64.StdEncoding.EncodeToString([]byte(`[{"op":"add","path":"/gender","value":"female"}]`))
	entries := responseEntries(t, s, bundle("transaction",
		entry("", nil, "method", "GET", "url", "Patient/"+toRead),
		entry("", map[string]any{"resourceType": "Binary", "contentType": "application/json-patch+json", "data": patch}, "method", "PATCH", "url", "Patient/"+toPatch),
		entry("", map[string]any{"resourceType": "Patient", "id": toUpdate, "gender": "male"}, "method", "PUT", "url", "Patient/"+toUpdate, "ifMatch", `W/"1"`),
		entry("", patient(unique("o")), "method", "POST", "url", "Patient"),
		entry("", nil, "method", "DELETE", "url", "Patient/"+toDelete),
		entry("", map[string]any{"resourceType": "Patient", "id": "tx-client-id"}, "method", "PUT", "url", "Patient/tx-client-id"),
		entry("", nil, "method", "GET", "url", "Patient/tx-client-id"),
	))
	for i, want := range []struct{ status, location, etag string }{
		{"200", "", `W/"1"`},
		{"200", "Patient/" + toPatch + "/_history/2", `W/"2"`},
		{"200", "Patient/" + toUpdate + "/_history/2", `W/"2"`},
		{"201", "Patient/", `W/"1"`},
		{"204", "", `W/"2"`},
		{"201", "Patient/tx-client-id/_history/1", `W/"1"`},
		{"200", "", `W/"1"`}, // reads run after the writes
	} {
		wantEntryStatus(t, entries, i, want.status)
		if loc := str(get(entries[i], "response", "location")); !strings.HasPrefix(loc, want.location) || (want.location == "") != (loc == "") {
			t.Errorf("entry %d: location %q, want %q", i, loc, want.location)
		}
		if etag := get(entries[i], "response", "etag"); etag != want.etag {
			t.Errorf("entry %d: etag %v, want %s", i, etag, want.etag)
		}
	}
	if get(entries[0], "resource", "id") != toRead {
		t.Errorf("GET entry answered %v", entries[0]["resource"])
	}
	if g := read(t, s, "Patient", toPatch)["gender"]; g != "female" {
		t.Errorf("patched gender %v", g)
	}
	wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/"+toDelete, nil), http.StatusGone)
}

// TestTransaction_Failure_LeavesNoTrace sends transactions whose last entry fails: nothing of the others is
// stored, no version and no history entry.
func TestTransaction_Failure_LeavesNoTrace(t *testing.T) {
	s := apitest.Start(t)
	target := create(t, s, patient(unique("t")))
	wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+target, map[string]any{"resourceType": "Patient", "id": target}), http.StatusOK, "update")
	victim := create(t, s, patient(unique("t")))
	const ref = "urn:uuid:0c3a5b1e-3333-4a1a-9a1a-000000000001"
	for _, tc := range []struct {
		name    string
		last    map[string]any
		status  int
		mention []string
	}{
		{"stale If-Match", entry("", map[string]any{"resourceType": "Patient", "id": target}, "method", "PUT", "url", "Patient/"+target, "ifMatch", `W/"1"`),
			http.StatusPreconditionFailed, []string{"Bundle.entry[4]"}},
		{"invalid resource", entry("", map[string]any{"resourceType": "Patient", "gender": 42}, "method", "POST", "url", "Patient"),
			http.StatusBadRequest, []string{"Bundle.entry[4].resource.gender"}},
		{"resourceType not the url's", entry("", map[string]any{"resourceType": "Observation"}, "method", "POST", "url", "Patient"),
			http.StatusBadRequest, []string{"resourceType"}},
		{"read of a missing resource", entry("", nil, "method", "GET", "url", "Patient/missing"),
			http.StatusNotFound, []string{"Bundle.entry[4]"}},
		{"conditional update with two matches", entry("", patient("dup"), "method", "PUT", "url", "Patient?"+identifierQuery("dup")),
			http.StatusPreconditionFailed, []string{"Bundle.entry[4]"}},
		{"delete with a stale If-Match", entry("", nil, "method", "DELETE", "url", "Patient/"+target, "ifMatch", `W/"1"`),
			http.StatusPreconditionFailed, []string{"Bundle.entry[4]"}},
		{"read of what the transaction deletes", entry("", nil, "method", "GET", "url", "Patient/"+victim),
			http.StatusGone, []string{"Bundle.entry[4]"}},
		{"search entry with a malformed value", entry("", nil, "method", "GET", "url", "Patient?birthdate=xx2020"),
			http.StatusBadRequest, []string{"birthdate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "conditional update with two matches" {
				create(t, s, patient("dup"))
				create(t, s, patient("dup"))
			}
			value := unique("t")
			before := historyLen(t, s, "/_history")
			b := bundle("transaction",
				entry(ref, patient(value), "method", "POST", "url", "Patient", "ifNoneExist", identifierQuery(value)),
				entry("", observation(ref), "method", "POST", "url", "Observation"),
				entry("", map[string]any{"resourceType": "Patient", "id": "tx-never"}, "method", "PUT", "url", "Patient/tx-never"),
				entry("", nil, "method", "DELETE", "url", "Patient/"+victim),
				tc.last,
			)
			wantOutcome(t, s.Do(t, http.MethodPost, "/", b), tc.status, tc.mention...)
			if n := historyLen(t, s, "/_history"); n != before {
				t.Errorf("the failed transaction left %d versions in the history", n-before)
			}
			if n := countMatches(t, s, value); n != 0 {
				t.Errorf("the failed transaction created the Patient")
			}
			wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/tx-never", nil), http.StatusNotFound)
			wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/tx-never/_history", nil), http.StatusNotFound)
			read(t, s, "Patient", victim)
			if v := versionID(read(t, s, "Patient", target)); v != "2" {
				t.Errorf("target at version %s, want 2", v)
			}
			// the claim of the failed conditional create is not left behind
			r := s.Do(t, http.MethodPost, "/Patient", patient(value), "If-None-Exist", identifierQuery(value))
			wantStatus(t, r, http.StatusCreated, "conditional create after the failed transaction")
		})
	}
}

func TestTransaction_BadBundles_400(t *testing.T) {
	s := apitest.Start(t)
	const a = "urn:uuid:0c3a5b1e-4444-4a1a-9a1a-000000000001"
	for _, tc := range []struct {
		name    string
		body    any
		status  int
		mention []string
	}{
		{"duplicate fullUrls", bundle("transaction",
			entry(a, patient("d1"), "method", "POST", "url", "Patient"),
			entry(a, patient("d2"), "method", "POST", "url", "Patient")),
			http.StatusBadRequest, []string{"Bundle.entry[1].fullUrl"}},
		{"duplicate fullUrls in a batch", bundle("batch",
			entry(a, patient("d1"), "method", "POST", "url", "Patient"),
			entry(a, patient("d2"), "method", "POST", "url", "Patient")),
			http.StatusBadRequest, []string{"Bundle.entry[1].fullUrl"}},
		{"unresolvable urn:uuid", bundle("transaction",
			entry(a, patient("u1"), "method", "POST", "url", "Patient"),
			entry("", observation("urn:uuid:0c3a5b1e-4444-4a1a-9a1a-00000000dead"), "method", "POST", "url", "Observation")),
			http.StatusBadRequest, []string{"Bundle.entry[1].resource.subject.reference", "urn:uuid:0c3a5b1e-4444-4a1a-9a1a-00000000dead"}},
		{"conditional reference without match", bundle("transaction",
			entry("", observation("Patient?"+identifierQuery("nobody")), "method", "POST", "url", "Observation")),
			http.StatusBadRequest, []string{"Bundle.entry[0].resource.subject.reference"}},
		{"entry without request", bundle("transaction", map[string]any{"resource": patient("x")}),
			http.StatusBadRequest, []string{"Bundle.entry[0].request"}},
		{"unknown method", bundle("transaction", entry("", patient("x"), "method", "POST2", "url", "Patient")),
			http.StatusBadRequest, []string{"Bundle.entry[0].request.method"}},
		{"two writes of one resource", bundle("transaction",
			entry("", map[string]any{"resourceType": "Patient", "id": "twice"}, "method", "PUT", "url", "Patient/twice"),
			entry("", map[string]any{"resourceType": "Patient", "id": "twice"}, "method", "PUT", "url", "Patient/twice")),
			http.StatusBadRequest, []string{"Patient/twice"}},
		{"not a batch or transaction", map[string]any{"resourceType": "Bundle", "type": "collection"}, http.StatusBadRequest, []string{"Bundle.type"}},
		{"not a Bundle", patient("x"), http.StatusBadRequest, []string{"resourceType"}},
		{"entry not an array", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": map[string]any{}}, http.StatusBadRequest, []string{"Bundle.entry"}},
		{"invalid JSON", `{"resourceType":"Bundle",`, http.StatusBadRequest, []string{"JSON"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := historyLen(t, s, "/_history")
			wantOutcome(t, s.Do(t, http.MethodPost, "/", tc.body), tc.status, tc.mention...)
			if n := historyLen(t, s, "/_history"); n != before {
				t.Errorf("the rejected Bundle wrote %d versions", n-before)
			}
		})
	}
}

func TestTransaction_Golden(t *testing.T) {
	s := apitest.Start(t)
	existing := create(t, s, patient("golden-existing"))
	const p = "urn:uuid:0c3a5b1e-5555-4a1a-9a1a-000000000001"
	b := bundle("transaction",
		entry(p, patient("golden-new"), "method", "POST", "url", "Patient"),
		entry("", observation(p), "method", "POST", "url", "Observation"),
		entry("", patient("golden-existing"), "method", "POST", "url", "Patient", "ifNoneExist", identifierQuery("golden-existing")),
		entry("", map[string]any{"resourceType": "Patient", "id": existing, "gender": "male"}, "method", "PUT", "url", "Patient/"+existing),
	)
	r := s.Do(t, http.MethodPost, "/", b, "Prefer", "return=minimal")
	wantStatus(t, r, http.StatusOK, "transaction")
	checkGolden(t, s, "transaction-response", r.Body)

	r = s.Do(t, http.MethodPost, "/", bundle("transaction",
		entry(p, patient("golden-new"), "method", "POST", "url", "Patient"),
		entry("", observation("urn:uuid:0c3a5b1e-5555-4a1a-9a1a-0000000000ff"), "method", "POST", "url", "Observation")))
	wantOutcome(t, r, http.StatusBadRequest)
	checkGolden(t, s, "operationoutcome-unresolved-reference", r.Body)
}
