package api_test

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/fhir"
)

// lifecycleExample returns the body to use for typ: its first official example not in skipExamples (else its
// first example), or a minimal resource for the types with no example.
func lifecycleExample(t *testing.T, files []string, typ string) (string, map[string]any) {
	t.Helper()
	var listed []string
	for _, f := range files {
		if strings.TrimSuffix(strings.SplitN(f, "-", 2)[0], ".json") != typ {
			continue
		}
		if _, skipped := skipExamples[f]; skipped {
			listed = append(listed, f)
			continue
		}
		return f, decode(t, readExample(t, f))
	}
	if len(listed) > 0 {
		return listed[0], decode(t, readExample(t, listed[0]))
	}
	return "minimal", map[string]any{"resourceType": typ}
}

// writeRefused are the types whose client writes the access policy refuses (403), with the reason. When the
// server refuses them, the CapabilityStatement must not list write interactions for them.
var writeRefused = map[string]string{
	"AuditEvent": "AuditEvents are written by the server only: every request is audited (design.md, Security)",
}

// readOnlyTypes are the types served read-only from the implementation guide, with the reason: every write
// answers 405, and the CapabilityStatement declares read and search-type only.
var readOnlyTypes = map[string]string{
	"CodeSystem": readOnlyReason, "ImplementationGuide": readOnlyReason, "StructureDefinition": readOnlyReason,
	"ValueSet": readOnlyReason, "OperationDefinition": readOnlyReason,
}

const readOnlyReason = "the conformance resources are the implementation guide's, served read-only " +
	"(issue 4; profiles/ig/README.md): every write answers 405"

// TestResource_Lifecycle_EveryType runs create, read, vread, update, update as create, delete, read and vread of
// the deletion, and the instance history, for every R4 resource type; for the read-only types (readOnlyTypes),
// it checks that writes are refused and that the guide's resources can be read and searched.
func TestResource_Lifecycle_EveryType(t *testing.T) {
	s := apitest.Start(t)
	files := exampleFiles(t)
	interactions := map[string][]string{}
	for _, res := range asList(get(metadata(t, s), "rest", 0, "resource")) {
		for _, in := range asList(res["interaction"]) {
			interactions[res["type"].(string)] = append(interactions[res["type"].(string)], in["code"].(string))
		}
	}
	for _, typ := range fhir.ResourceTypes() {
		t.Run(typ, func(t *testing.T) {
			name, body := lifecycleExample(t, files, typ)
			t.Logf("example: %s", name)
			if reason, readOnly := readOnlyTypes[typ]; readOnly {
				readOnlyLifecycle(t, s, typ, body, interactions[typ])
				t.Skipf("lifecycle exempt (%s); writes answer 405, the guide's resources are read and searched", reason)
			}
			lifecycle(t, s, typ, body, interactions[typ])
		})
	}
}

func lifecycle(t *testing.T, s *apitest.Server, typ string, body map[string]any, interactions []string) {
	t.Helper()
	// create
	r := s.Do(t, http.MethodPost, "/"+typ, body)
	if reason, refused := writeRefused[typ]; refused && r.Status == http.StatusForbidden {
		writesRefused(t, s, typ, body, interactions)
		t.Skipf("client writes refused as expected (%s): %s", reason, outcomeText(r))
	}
	if r.Status != http.StatusCreated {
		t.Fatalf("create: want 201, got %s", outcomeText(r))
	}
	created := decode(t, r.Body)
	id, _ := created["id"].(string)
	if id == "" || id == body["id"] {
		t.Fatalf("create: want a server-assigned id, got %q (the body's was %v)", id, body["id"])
	}
	checkHeaders(t, r, s.URL+"/"+typ+"/"+id+"/_history/1", `W/"1"`, created)

	// read and vread
	r = s.Do(t, http.MethodGet, "/"+typ+"/"+id, nil)
	wantStatus(t, r, http.StatusOK, "read")
	checkHeaders(t, r, "", `W/"1"`, created)
	if got := decode(t, r.Body); !equalJSON(got, created) {
		t.Errorf("read differs from what create returned:\n%s", r.Body)
	}
	r = s.Do(t, http.MethodGet, "/"+typ+"/"+id+"/_history/1", nil)
	wantStatus(t, r, http.StatusOK, "vread 1")
	checkHeaders(t, r, "", `W/"1"`, created)

	// update
	changed := decode(t, r.Body)
	changed["language"] = "en-GB"
	r = s.Do(t, http.MethodPut, "/"+typ+"/"+id, changed)
	wantStatus(t, r, http.StatusOK, "update")
	updated := decode(t, r.Body)
	checkHeaders(t, r, "", `W/"2"`, updated)
	if versionID(updated) != "2" || updated["language"] != "en-GB" {
		t.Errorf("update returned version %q language %v, want 2 and en-GB", versionID(updated), updated["language"])
	}
	if got := read(t, s, typ, id); !equalJSON(got, updated) {
		t.Errorf("read after update differs from what update returned")
	}

	// update as create, with a client-assigned id
	clientID := "client-" + strings.ToLower(typ[:min(len(typ), 20)]) + "-" + id[:8]
	own := decode(t, r.Body)
	own["id"] = clientID
	delete(own, "meta")
	r = s.Do(t, http.MethodPut, "/"+typ+"/"+clientID, own)
	wantStatus(t, r, http.StatusCreated, "update as create")
	checkHeaders(t, r, s.URL+"/"+typ+"/"+clientID+"/_history/1", `W/"1"`, decode(t, r.Body))
	read(t, s, typ, clientID)

	// delete, then read and vread of the deletion
	r = s.Do(t, http.MethodDelete, "/"+typ+"/"+id, nil)
	wantStatus(t, r, http.StatusNoContent, "delete")
	if len(r.Body) != 0 {
		t.Errorf("delete answered a body: %s", r.Body)
	}
	wantOutcome(t, s.Do(t, http.MethodGet, "/"+typ+"/"+id, nil), http.StatusGone, "deleted")
	wantOutcome(t, s.Do(t, http.MethodGet, "/"+typ+"/"+id+"/_history/3", nil), http.StatusGone)
	wantStatus(t, s.Do(t, http.MethodGet, "/"+typ+"/"+id+"/_history/2", nil), http.StatusOK, "vread 2 after delete")
	wantOutcome(t, s.Do(t, http.MethodGet, "/"+typ+"/"+id+"/_history/4", nil), http.StatusNotFound)

	// the instance history: DELETE, PUT, POST, newest first
	r = s.Do(t, http.MethodGet, "/"+typ+"/"+id+"/_history", nil)
	wantStatus(t, r, http.StatusOK, "history")
	h := decode(t, r.Body)
	if h["resourceType"] != "Bundle" || h["type"] != "history" {
		t.Fatalf("history is not a history Bundle: %s", truncated(r.Body))
	}
	entries := asList(h["entry"])
	want := []struct{ method, url, status, vid string }{
		{"DELETE", typ + "/" + id, "204", "3"},
		{"PUT", typ + "/" + id, "200", "2"},
		{"POST", typ, "201", "1"},
	}
	if len(entries) != len(want) {
		t.Fatalf("history has %d entries, want %d: %s", len(entries), len(want), truncated(r.Body))
	}
	for i, w := range want {
		e := entries[i]
		if got := get(e, "request", "method"); got != w.method {
			t.Errorf("entry %d request.method = %v, want %s", i, got, w.method)
		}
		if got := get(e, "request", "url"); got != w.url {
			t.Errorf("entry %d request.url = %v, want %s", i, got, w.url)
		}
		if got, _ := get(e, "response", "status").(string); !strings.HasPrefix(got, w.status) {
			t.Errorf("entry %d response.status = %q, want %s", i, got, w.status)
		}
		if got := get(e, "response", "etag"); got != `W/"`+w.vid+`"` {
			t.Errorf("entry %d response.etag = %v, want version %s", i, got, w.vid)
		}
		if got := e["fullUrl"]; got != s.URL+"/"+typ+"/"+id {
			t.Errorf("entry %d fullUrl = %v", i, got)
		}
		res, hasResource := e["resource"].(map[string]any)
		switch {
		case w.method == "DELETE" && e["resource"] != nil:
			t.Errorf("the deletion has a resource: %v", e["resource"])
		case w.method != "DELETE" && (!hasResource || versionID(res) != w.vid):
			t.Errorf("entry %d resource has version %q, want %s", i, versionID(res), w.vid)
		}
	}
}

// writesRefused checks that every write of typ is refused with 403 and that the CapabilityStatement does not
// claim them.
func writesRefused(t *testing.T, s *apitest.Server, typ string, body map[string]any, interactions []string) {
	t.Helper()
	withID := maps.Clone(body)
	withID["id"] = "refused"
	for _, w := range []struct {
		method, path string
		body         any
		headers      []string
	}{
		{http.MethodPost, "/" + typ, body, nil},
		{http.MethodPut, "/" + typ + "/refused", withID, nil},
		{http.MethodPatch, "/" + typ + "/refused", `[]`, []string{"Content-Type", jsonPatch}},
		{http.MethodDelete, "/" + typ + "/refused", nil, nil},
	} {
		wantOutcome(t, s.Do(t, w.method, w.path, w.body, w.headers...), http.StatusForbidden)
	}
	for _, code := range []string{"create", "update", "patch", "delete"} {
		if slices.Contains(interactions, code) {
			t.Errorf("the CapabilityStatement lists %s for %s, which the server refuses", code, typ)
		}
	}
}

// readOnlyLifecycle checks a read-only type: every write answers 405 with an OperationOutcome, the
// CapabilityStatement lists read and search-type only, and each of the guide's resources of the type that a
// search returns reads back the same.
func readOnlyLifecycle(t *testing.T, s *apitest.Server, typ string, body map[string]any, interactions []string) {
	t.Helper()
	r := s.Do(t, http.MethodGet, "/"+typ, nil)
	wantStatus(t, r, http.StatusOK, "search")
	entries := asList(decode(t, r.Body)["entry"])
	if len(entries) == 0 {
		t.Fatalf("the guide has no %s", typ)
	}
	for _, e := range entries {
		res, _ := e["resource"].(map[string]any)
		id := str(res["id"])
		r := s.Do(t, http.MethodGet, "/"+typ+"/"+id, nil)
		wantStatus(t, r, http.StatusOK, "read "+id)
		if got := decode(t, r.Body); !equalJSON(got, res) {
			t.Errorf("read %s/%s differs from the search entry", typ, id)
		}
	}
	id := str(get(entries[0], "resource", "id"))
	withID := maps.Clone(body)
	withID["id"] = id
	for _, w := range []struct {
		method, path string
		body         any
		headers      []string
	}{
		{http.MethodPost, "/" + typ, body, nil},
		{http.MethodPut, "/" + typ + "/" + id, withID, nil},
		{http.MethodPut, "/" + typ + "/new-" + id, withID, nil},
		{http.MethodPatch, "/" + typ + "/" + id, `[]`, []string{"Content-Type", jsonPatch}},
		{http.MethodDelete, "/" + typ + "/" + id, nil, nil},
	} {
		r := s.Do(t, w.method, w.path, w.body, w.headers...)
		wantOutcome(t, r, http.StatusMethodNotAllowed)
	}
	wantStatus(t, s.Do(t, http.MethodGet, "/"+typ+"/"+id, nil), http.StatusOK, "read after the refused writes")
	if got := slices.Sorted(slices.Values(interactions)); !slices.Equal(got, []string{"read", "search-type"}) {
		t.Errorf("the CapabilityStatement lists %v for %s, want read and search-type", got, typ)
	}
}

// checkHeaders checks ETag, Last-Modified (the resource's meta.lastUpdated) and, when location is not empty,
// Location.
func checkHeaders(t *testing.T, r *apitest.Response, location, etag string, res map[string]any) {
	t.Helper()
	if got := r.Header.Get("ETag"); got != etag {
		t.Errorf("ETag = %q, want %q", got, etag)
	}
	if location != "" {
		if got := r.Header.Get("Location"); got != location {
			t.Errorf("Location = %q, want %q", got, location)
		}
	}
	lm, err := http.ParseTime(r.Header.Get("Last-Modified"))
	if err != nil {
		t.Errorf("Last-Modified %q: %v", r.Header.Get("Last-Modified"), err)
		return
	}
	meta, _ := res["meta"].(map[string]any)
	lu, err := time.Parse(time.RFC3339Nano, str(meta["lastUpdated"]))
	if err != nil {
		t.Errorf("meta.lastUpdated %v: %v", meta["lastUpdated"], err)
		return
	}
	if !lm.Equal(lu.Truncate(time.Second)) {
		t.Errorf("Last-Modified %v is not meta.lastUpdated %v", lm, lu)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func TestDelete_Twice_NoNewVersion(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient(unique("del")))
	for i := range 2 {
		r := s.Do(t, http.MethodDelete, "/Patient/"+id, nil)
		wantStatus(t, r, http.StatusNoContent, "delete")
		if i == 0 && r.Header.Get("ETag") != `W/"2"` {
			t.Errorf("delete ETag = %q, want W/\"2\"", r.Header.Get("ETag"))
		}
	}
	if n := historyLen(t, s, "/Patient/"+id+"/_history"); n != 2 {
		t.Errorf("history after two deletes has %d entries, want 2 (POST, DELETE)", n)
	}
	wantStatus(t, s.Do(t, http.MethodDelete, "/Patient/never-existed", nil), http.StatusNoContent, "delete of an unknown id")
	wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/never-existed/_history", nil), http.StatusNotFound)
	if n := historyLen(t, s, "/Patient/_history"); n != 2 {
		t.Errorf("type history has %d entries, want 2", n)
	}
}

func TestUpdate_DeletedResource_RecreatedWithNextVersion(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient(unique("re")))
	wantStatus(t, s.Do(t, http.MethodDelete, "/Patient/"+id, nil), http.StatusNoContent, "delete")
	body := patient(unique("re"))
	body["id"] = id
	r := s.Do(t, http.MethodPut, "/Patient/"+id, body)
	wantStatus(t, r, http.StatusCreated, "update of a deleted resource")
	if got := r.Header.Get("ETag"); got != `W/"3"` {
		t.Errorf("ETag = %q, want W/\"3\": versions go on after a deletion", got)
	}
	read(t, s, "Patient", id)
}

func TestRead_Unknown_404(t *testing.T) {
	s := apitest.Start(t)
	for _, path := range []string{"/Patient/nope", "/Patient/nope/_history/1", "/Patient/nope/_history"} {
		t.Run(path, func(t *testing.T) {
			wantOutcome(t, s.Do(t, http.MethodGet, path, nil), http.StatusNotFound)
		})
	}
	id := create(t, s, patient("x"))
	for _, vid := range []string{"2", "0", "x"} {
		t.Run("vread "+vid, func(t *testing.T) {
			wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/"+id+"/_history/"+vid, nil), http.StatusNotFound)
		})
	}
}

func TestCreate_BodyID_Ignored(t *testing.T) {
	s := apitest.Start(t)
	body := patient("x")
	body["id"] = "mine"
	body["meta"] = map[string]any{"versionId": "7", "lastUpdated": "2001-01-01T00:00:00Z", "tag": []any{map[string]any{"code": "kept"}}}
	r := s.Do(t, http.MethodPost, "/Patient", body)
	wantStatus(t, r, http.StatusCreated, "create")
	got := decode(t, r.Body)
	if got["id"] == "mine" || versionID(got) != "1" {
		t.Errorf("create kept the client's id or version: %s", r.Body)
	}
	if get(got, "meta", "lastUpdated") == "2001-01-01T00:00:00Z" || get(got, "meta", "tag", 0, "code") != "kept" {
		t.Errorf("meta: want lastUpdated set by the server and the tag kept: %v", got["meta"])
	}
	wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/mine", nil), http.StatusNotFound)
}

// TestRead_SummaryAndElements: _summary and _elements cut a read and a vread as they cut search results (R4
// search.html#summary), marked SUBSETTED; a malformed value is a 400 naming the parameter.
func TestRead_SummaryAndElements(t *testing.T) {
	s := apitest.Start(t)
	put(t, s, map[string]any{"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-01-01",
		"name": []any{map[string]any{"family": "Smith"}}, "text": map[string]any{"status": "generated",
			"div": `<div xmlns="http://www.w3.org/1999/xhtml">Ann Smith</div>`}})
	subsetted := func(res map[string]any) bool {
		return strings.Contains(string(mustJSON(t, res["meta"])), `"SUBSETTED"`)
	}
	for _, tc := range []struct {
		path       string
		want, gone []string
	}{
		{"/Patient/p1?_elements=name", []string{"name"}, []string{"gender", "birthDate", "text"}},
		{"/Patient/p1/_history/1?_elements=gender,birthDate", []string{"gender", "birthDate"}, []string{"name", "text"}},
		{"/Patient/p1?_summary=true", []string{"name", "gender", "birthDate"}, []string{"text"}},
		{"/Patient/p1?_summary=text", []string{"text"}, []string{"name", "gender"}},
	} {
		r := s.Do(t, http.MethodGet, tc.path, nil)
		wantStatus(t, r, http.StatusOK, tc.path)
		res := decode(t, r.Body)
		for _, k := range tc.want {
			if res[k] == nil {
				t.Errorf("%s: %s missing", tc.path, k)
			}
		}
		for _, k := range tc.gone {
			if res[k] != nil {
				t.Errorf("%s: %s kept", tc.path, k)
			}
		}
		if res["id"] != "p1" || !subsetted(res) {
			t.Errorf("%s: id %v, SUBSETTED %v", tc.path, res["id"], subsetted(res))
		}
	}
	if res := decode(t, s.Do(t, http.MethodGet, "/Patient/p1?_summary=false", nil).Body); res["text"] == nil || subsetted(res) {
		t.Errorf("_summary=false cut the resource: %v", res)
	}
	for _, bad := range []struct{ path, param string }{
		{"/Patient/p1?_summary=count", "_summary"}, {"/Patient/p1?_summary=maybe", "_summary"},
		{"/Patient/p1?_elements=name.family", "_elements"}, {"/Patient/p1?_elements=", "_elements"},
	} {
		oo := wantOutcome(t, s.Do(t, http.MethodGet, bad.path, nil), http.StatusBadRequest)
		if got := get(oo, "issue", 0, "expression", 0); got != bad.param {
			t.Errorf("%s: expression %v, want %s", bad.path, got, bad.param)
		}
	}
}
