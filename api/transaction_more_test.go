package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/api/apitest"
)

// wantEntryOutcome checks that a response entry failed with status and an OperationOutcome whose issues mention
// every string in mention.
func wantEntryOutcome(t *testing.T, e map[string]any, status string, mention ...string) {
	t.Helper()
	if got, _ := get(e, "response", "status").(string); !strings.HasPrefix(got, status) {
		t.Errorf("response.status %q, want %s; entry %v", got, status, e)
	}
	b, _ := json.Marshal(get(e, "response", "outcome", "issue"))
	for _, m := range mention {
		if !strings.Contains(string(b), m) {
			t.Errorf("the entry's outcome does not mention %q: %s", m, b)
		}
	}
}

// searchRefs returns the Type/id of a searchset's matches and included resources, each sorted.
func searchRefs(t *testing.T, b map[string]any) (matches, included []string) {
	t.Helper()
	if b["resourceType"] != "Bundle" || b["type"] != "searchset" {
		t.Fatalf("not a searchset Bundle: %v", b)
	}
	for _, e := range asList(b["entry"]) {
		ref := get(e, "resource", "resourceType").(string) + "/" + get(e, "resource", "id").(string)
		if get(e, "search", "mode") == "include" {
			included = append(included, ref)
		} else {
			matches = append(matches, ref)
		}
	}
	slices.Sort(matches)
	slices.Sort(included)
	return matches, included
}

func TestTransaction_LinksToEntries_Rewritten(t *testing.T) {
	s := apitest.Start(t)
	const patientURL = "urn:uuid:11111111-1111-4111-8111-111111111111"
	obs := observation(patientURL)
	obs["text"] = map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml"><p>Weight of ` +
		`<a href="` + patientURL + `" title="` + patientURL + `">the patient</a> &amp; <a href='urn:uuid:22222222-2222-4222-8222-222222222222'>` +
		`another</a>.</p><img src="` + patientURL + `" alt="photo"/></div>`}
	obs["meta"] = map[string]any{"source": patientURL}
	obs["identifier"] = []any{map[string]any{"system": "urn:ietf:rfc:3986", "value": patientURL}}
	obs["extension"] = []any{map[string]any{"url": "https://accord.test/ext", "valueUri": patientURL}}
	obs["derivedFrom"] = []any{map[string]any{"reference": patientURL}}
	entries := responseEntries(t, s, bundle("transaction",
		entry("", obs, "method", "POST", "url", "Observation"),
		entry(patientURL, patient(unique("n")), "method", "POST", "url", "Patient"),
	))
	stored := located(t, s, entries[0])
	pat := "Patient/" + located(t, s, entries[1])["id"].(string)
	for _, tc := range []struct {
		name string
		path []any
		want string
	}{
		{"reference", []any{"subject", "reference"}, pat},
		{"reference in a list", []any{"derivedFrom", 0, "reference"}, pat},
		{"narrative: a href and img src, nothing else", []any{"text", "div"}, `<div xmlns="http://www.w3.org/1999/xhtml"><p>Weight of ` +
			`<a href="` + pat + `" title="` + patientURL + `">the patient</a> &amp; <a href='urn:uuid:22222222-2222-4222-8222-222222222222'>` +
			`another</a>.</p><img src="` + pat + `" alt="photo"/></div>`},
		{"element of type uri", []any{"meta", "source"}, pat},
		{"choice of type uri", []any{"extension", 0, "valueUri"}, pat},
		{"element of type string kept", []any{"identifier", 0, "value"}, patientURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(stored, tc.path...); got != tc.want {
				t.Errorf("%v = %v, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestBatch_ReferenceToAnotherEntry_FailsAlone(t *testing.T) {
	s := apitest.Start(t)
	existing := create(t, s, patient(unique("b")))
	const patientURL = "urn:uuid:33333333-3333-4333-8333-333333333333"
	tag := unique("batch-ref")
	obs := func(subject string) map[string]any {
		o := observation(subject)
		o["identifier"] = []any{map[string]any{"system": testSystem, "value": tag}}
		return o
	}
	inList := obs("Patient/" + existing)
	inList["id"] = "batch-ref-" + existing
	inList["derivedFrom"] = []any{map[string]any{"reference": "Observation/x"}, map[string]any{"reference": patientURL}}
	inList["basedOn"] = []any{map[string]any{"reference": "urn:oid:1.2.3"}}
	entries := responseEntries(t, s, bundle("batch",
		entry(patientURL, patient(unique("b")), "method", "POST", "url", "Patient"),
		entry("", obs(patientURL), "method", "POST", "url", "Observation"),
		entry("", obs("urn:uuid:44444444-4444-4444-8444-444444444444"), "method", "POST", "url", "Observation"),
		entry("", inList, "method", "PUT", "url", "Observation/batch-ref-"+existing),
		entry("", obs("Patient/"+existing), "method", "POST", "url", "Observation"),
	))
	for _, tc := range []struct {
		name    string
		index   int
		status  string
		mention []string
	}{
		{"the Patient", 0, "201", nil},
		{"the fullUrl of another entry", 1, "400", []string{"Observation.subject.reference", "Bundle.entry[0]"}},
		{"a urn:uuid of no entry", 2, "400", []string{"Observation.subject.reference", "matches no fullUrl"}},
		{"every one, in lists", 3, "400", []string{"Observation.derivedFrom[1].reference", "Observation.basedOn[0].reference", "urn:oid:1.2.3"}},
		{"a reference to a stored resource", 4, "201", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantEntryOutcome(t, entries[tc.index], tc.status, tc.mention...)
		})
	}
	r := s.Do(t, http.MethodGet, "/Observation?identifier="+url.QueryEscape(testSystem+"|"+tag), nil)
	if matches, _ := searchRefs(t, decode(t, r.Body)); len(matches) != 1 {
		t.Errorf("stored %v, want only the Observation of entry 4", matches)
	}
}

// A batch PATCH entry's patch may not leave a urn: reference in the resource either: that entry fails alone, and
// the resource keeps its version.
func TestBatch_PatchMakingAURNReference_FailsAlone(t *testing.T) {
	s := apitest.Start(t)
	subject := create(t, s, patient(unique("p")))
	obsID := create(t, s, observation("Patient/"+subject))
	const patientURL = "urn:uuid:55555555-5555-4555-8555-555555555555"
	patchEntry := func(ops string) map[string]any {
		return entry("", map[string]any{"resourceType": "Binary", "contentType": "application/json-patch+json",
			"data": base64.StdEncoding.EncodeToString([]byte(ops))}, "method", "PATCH", "url", "Observation/"+obsID)
	}
	entries := responseEntries(t, s, bundle("batch",
		entry(patientURL, patient(unique("p")), "method", "POST", "url", "Patient"),
		patchEntry(`[{"op":"replace","path":"/subject/reference","value":"`+patientURL+`"}]`),
		patchEntry(`[{"op":"add","path":"/derivedFrom","value":[{"reference":"urn:uuid:66666666-6666-4666-8666-666666666666"}]}]`),
		patchEntry(`[{"op":"add","path":"/status","value":"amended"}]`),
	))
	wantEntryStatus(t, entries, 0, "201")
	wantEntryOutcome(t, entries[1], "400", "Observation.subject.reference", "Bundle.entry[0]")
	wantEntryOutcome(t, entries[2], "400", "Observation.derivedFrom[0].reference", "matches no fullUrl")
	wantEntryStatus(t, entries, 3, "200")
	obs := decode(t, s.Do(t, http.MethodGet, "/Observation/"+obsID, nil).Body)
	if ref := obs["subject"].(map[string]any)["reference"]; ref != "Patient/"+subject || obs["derivedFrom"] != nil || obs["status"] != "amended" {
		t.Errorf("after the batch the Observation is %v: want its subject kept, no derivedFrom, status amended", obs)
	}
}

func TestBundle_AbsoluteRequestURL(t *testing.T) {
	s := apitest.Start(t)
	host := strings.TrimPrefix(s.URL, "http://")
	for _, tc := range []struct {
		name, url string
		ok        bool
	}{
		{"another server", "http://evil.example/Patient", false},
		{"another server, our host in its path", "http://evil.example/" + host + "/Patient", false},
		{"our host, another scheme", "https://" + host + "/Patient", false},
		{"our base", s.URL + "/Patient", true},
		{"our base, host in capitals", "HTTP://" + strings.ToUpper(host) + "/Patient", true},
		{"relative", "Patient", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			post := entry("", patient(unique("abs")), "method", "POST", "url", tc.url)
			r := s.Do(t, http.MethodPost, "/", bundle("transaction", post))
			if !tc.ok {
				wantOutcome(t, r, http.StatusBadRequest, "Bundle.entry[0].request.url")
				batch := responseEntries(t, s, bundle("batch", post, entry("", patient(unique("abs")), "method", "POST", "url", "Patient")))
				wantEntryOutcome(t, batch[0], "400", "Bundle.entry[0].request.url")
				wantEntryStatus(t, batch, 1, "201")
				return
			}
			wantStatus(t, r, http.StatusOK, "transaction")
			created := located(t, s, asList(decode(t, r.Body)["entry"])[0])
			read := responseEntries(t, s, bundle("batch", entry("", nil, "method", "GET", "url", strings.TrimSuffix(tc.url, "Patient")+"Patient/"+created["id"].(string))))
			wantEntryStatus(t, read, 0, "200")
		})
	}
}

func TestSearch_ReferencesToOwnBase(t *testing.T) {
	s := apitest.Start(t)
	pid := unique("own")
	pat := patient(unique("own"))
	pat["id"] = pid
	wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+pid, pat), http.StatusCreated, "create the patient")
	tag := unique("own-base")
	obs := func(subject string) string {
		o := observation(subject)
		o["identifier"] = []any{map[string]any{"system": testSystem, "value": tag}}
		return "Observation/" + create(t, s, o)
	}
	relative, absolute := obs("Patient/"+pid), obs(s.URL+"/Patient/"+pid)
	obs("http://other.example/Patient/" + pid)
	both := []string{relative, absolute}
	slices.Sort(both)
	idQuery := "identifier=" + url.QueryEscape(testSystem+"|"+tag)
	for _, tc := range []struct {
		name, query       string
		matches, included []string
	}{
		{"id", "Observation?" + idQuery + "&subject=" + pid, both, nil},
		{"Type/id", "Observation?" + idQuery + "&subject=Patient/" + pid, both, nil},
		{"absolute", "Observation?" + idQuery + "&subject=" + url.QueryEscape(s.URL+"/Patient/"+pid), both, nil},
		{":Patient id", "Observation?" + idQuery + "&subject:Patient=" + pid, both, nil},
		{":Patient absolute", "Observation?" + idQuery + "&subject:Patient=" + url.QueryEscape(s.URL+"/Patient/"+pid), both, nil},
		{"patient parameter", "Observation?" + idQuery + "&patient=" + pid, both, nil},
		{"chain", "Observation?" + idQuery + "&subject:Patient._id=" + pid, both, nil},
		{"_include", "Observation?" + idQuery + "&subject=" + pid + "&_include=Observation:subject", both, []string{"Patient/" + pid}},
		{"_revinclude", "Patient?_id=" + pid + "&_revinclude=Observation:subject", []string{"Patient/" + pid}, both},
		{"_has", "Patient?_id=" + pid + "&_has:Observation:subject:identifier=" + url.QueryEscape(testSystem+"|"+tag), []string{"Patient/" + pid}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(how string, b map[string]any) {
				t.Helper()
				matches, included := searchRefs(t, b)
				if diff := cmp.Diff(tc.matches, matches); diff != "" {
					t.Errorf("%s %s: matches (-want +got):\n%s", how, tc.query, diff)
				}
				if diff := cmp.Diff(tc.included, included); diff != "" {
					t.Errorf("%s %s: included (-want +got):\n%s", how, tc.query, diff)
				}
			}
			r := s.Do(t, http.MethodGet, "/"+tc.query, nil)
			wantStatus(t, r, http.StatusOK, tc.query)
			check("GET", decode(t, r.Body))
			entries := responseEntries(t, s, bundle("batch", entry("", nil, "method", "GET", "url", tc.query)))
			wantEntryStatus(t, entries, 0, "200")
			check("batch GET", entries[0]["resource"].(map[string]any))
		})
	}
}

func TestBatch_HistoryAndMetadata_AsTheirInteractions(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient(unique("h")))
	wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+id, map[string]any{"resourceType": "Patient", "id": id, "gender": "other"}), http.StatusOK, "update")
	paths := []string{"Patient/" + id + "/_history", "Patient/" + id + "/_history?_count=1", "Patient/_history?_count=2", "_history?_count=1", "metadata"}
	reqs := make([]map[string]any, len(paths))
	for i, p := range paths {
		reqs[i] = entry("", nil, "method", "GET", "url", p)
	}
	for _, kind := range []string{"batch", "transaction"} {
		entries := responseEntries(t, s, bundle(kind, reqs...))
		for i, p := range paths {
			t.Run(kind+" "+p, func(t *testing.T) {
				wantEntryStatus(t, entries, i, "200")
				r := s.Do(t, http.MethodGet, "/"+p, nil)
				wantStatus(t, r, http.StatusOK, "GET "+p)
				if diff := cmp.Diff(decode(t, r.Body), entries[i]["resource"]); diff != "" {
					t.Errorf("entry differs from GET %s (-GET +entry):\n%s", p, diff)
				}
			})
		}
	}
}

func TestBundle_HistoryEntries_Errors(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient(unique("h")))
	for _, tc := range []struct {
		name, method, url, mention string
	}{
		{"bad _count", "GET", "Patient/" + id + "/_history?_count=0", "_count"},
		{"unknown parameter", "GET", "Patient/_history?foo=bar", "foo"},
		{"_at", "GET", "_history?_at=2020", "_at"},
		{"a write to history", "DELETE", "Patient/" + id + "/_history", "request.url"},
		{"a write to metadata", "POST", "metadata", "request.url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := entry("", nil, "method", tc.method, "url", tc.url)
			entries := responseEntries(t, s, bundle("batch", e, entry("", nil, "method", "GET", "url", "metadata")))
			wantEntryOutcome(t, entries[0], "400", tc.mention)
			wantEntryStatus(t, entries, 1, "200")
			wantOutcome(t, s.Do(t, http.MethodPost, "/", bundle("transaction", e)), http.StatusBadRequest, tc.mention)
		})
	}
}

func TestTransaction_HistoryEntry_SeesTheWrites(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient(unique("h")))
	entries := responseEntries(t, s, bundle("transaction",
		entry("", nil, "method", "GET", "url", "Patient/"+id+"/_history"),
		entry("", map[string]any{"resourceType": "Patient", "id": id, "gender": "male"}, "method", "PUT", "url", "Patient/"+id),
	))
	wantEntryStatus(t, entries, 0, "200")
	if n := len(asList(get(entries[0], "resource", "entry"))); n != 2 {
		t.Errorf("the history has %d versions, want 2 (the transaction's update included)", n)
	}
}
