package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
)

// version identifies one history entry.
type version struct{ typ, id, vid string }

func (v version) String() string { return v.typ + "/" + v.id + "/_history/" + v.vid }

// entryVersion reads the version an entry is about: from its resource, or for a deletion from fullUrl and etag.
func entryVersion(t testing.TB, e map[string]any) version {
	t.Helper()
	full, _ := e["fullUrl"].(string)
	parts := strings.Split(full, "/")
	if len(parts) < 2 {
		t.Fatalf("entry without a fullUrl: %v", e)
	}
	etag, _ := get(e, "response", "etag").(string)
	v := version{typ: parts[len(parts)-2], id: parts[len(parts)-1], vid: strings.TrimSuffix(strings.TrimPrefix(etag, `W/"`), `"`)}
	if res, ok := e["resource"].(map[string]any); ok && (res["id"] != v.id || versionID(res) != v.vid) {
		t.Errorf("entry %v: its resource is %v version %s", v, res["id"], versionID(res))
	}
	return v
}

func entryVersions(t testing.TB, entries []map[string]any) []version {
	t.Helper()
	out := make([]version, len(entries))
	for i, e := range entries {
		out[i] = entryVersion(t, e)
	}
	return out
}

// writeHistory makes a known mix of versions: for each of n Patients a POST, then for every other one a PUT and
// for every third a DELETE; and one Observation. It returns the versions newest first.
func writeHistory(t *testing.T, s *apitest.Server, n int) []version {
	t.Helper()
	var made []version
	for i := range n {
		id := create(t, s, patient(unique("h")))
		made = append(made, version{"Patient", id, "1"})
		if i%2 == 0 {
			body := read(t, s, "Patient", id)
			body["gender"] = "unknown"
			wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+id, body), http.StatusOK, "update")
			made = append(made, version{"Patient", id, "2"})
		}
		if i%3 == 0 {
			r := s.Do(t, http.MethodDelete, "/Patient/"+id, nil)
			wantStatus(t, r, http.StatusNoContent, "delete")
			made = append(made, version{"Patient", id, strings.Trim(strings.TrimPrefix(r.Header.Get("ETag"), "W/"), `"`)})
		}
	}
	oid := create(t, s, map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "x"}})
	made = append(made, version{"Observation", oid, "1"})
	slices.Reverse(made)
	return made
}

func filterVersions(vs []version, keep func(version) bool) []version {
	var out []version
	for _, v := range vs {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

func TestHistory_Levels_NewestFirstAndComplete(t *testing.T) {
	s := apitest.Start(t)
	made := writeHistory(t, s, 7)
	inst := made[len(made)-1] // the first Patient: POST, PUT, DELETE
	for _, tc := range []struct {
		name, path string
		want       []version
	}{
		{"system", "/_history", made},
		{"type", "/Patient/_history", filterVersions(made, func(v version) bool { return v.typ == "Patient" })},
		{"type with no versions", "/Task/_history", nil},
		{"instance", "/Patient/" + inst.id + "/_history", filterVersions(made, func(v version) bool { return v.id == inst.id })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, http.MethodGet, tc.path, nil)
			wantStatus(t, r, http.StatusOK, tc.path)
			b := decode(t, r.Body)
			if b["resourceType"] != "Bundle" || b["type"] != "history" {
				t.Fatalf("not a history Bundle: %s", truncated(r.Body))
			}
			got := entryVersions(t, asList(b["entry"]))
			if !slices.Equal(got, tc.want) {
				t.Errorf("history (newest first):\n got %v\nwant %v", got, tc.want)
			}
			checkEntries(t, asList(b["entry"]))
			var self string
			for _, l := range asList(b["link"]) {
				if l["relation"] == "self" {
					self, _ = l["url"].(string)
				}
			}
			if !strings.HasPrefix(self, s.URL+tc.path) {
				t.Errorf("self link %q does not name %s", self, tc.path)
			}
		})
	}
}

// checkEntries checks each history entry's request and response against what made the version.
func checkEntries(t *testing.T, entries []map[string]any) {
	t.Helper()
	for i, e := range entries {
		v := entryVersion(t, e)
		method, _ := get(e, "request", "method").(string)
		url, status := get(e, "request", "url"), get(e, "response", "status")
		var wantURL, wantStatus string
		switch method {
		case "POST":
			wantURL, wantStatus = v.typ, "201 Created"
		case "PUT", "PATCH":
			wantURL, wantStatus = v.typ+"/"+v.id, "200 OK"
			if v.vid == "1" {
				wantStatus = "201 Created"
			}
		case "DELETE":
			wantURL, wantStatus = v.typ+"/"+v.id, "204 No Content"
		default:
			t.Errorf("entry %d (%v): request.method %q", i, v, method)
			continue
		}
		if url != wantURL || status != wantStatus {
			t.Errorf("entry %d (%v %s): request.url %v response.status %v, want %s and %s", i, v, method, url, status, wantURL, wantStatus)
		}
		if hasResource := e["resource"] != nil; hasResource == (method == "DELETE") {
			t.Errorf("entry %d (%v %s): has resource %v", i, v, method, hasResource)
		}
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(get(e, "response", "lastModified"))); err != nil {
			t.Errorf("entry %d: response.lastModified: %v", i, err)
		}
	}
}

// TestHistory_Paging_EveryVersionOnce pages with small _count values through next links to the end, at every
// level, and checks that the pages together are the whole history, in order, each version once.
func TestHistory_Paging_EveryVersionOnce(t *testing.T) {
	s := apitest.Start(t)
	made := writeHistory(t, s, 12)
	// the instance with the most versions: a Patient that was updated and deleted
	inst := made[len(made)-1]
	for range 6 {
		body := patient("many")
		body["id"] = inst.id
		wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+inst.id, body), http.StatusCreated, "re-create")
		wantStatus(t, s.Do(t, http.MethodDelete, "/Patient/"+inst.id, nil), http.StatusNoContent, "delete")
	}
	all := entryVersions(t, bundleEntries(t, s, "/_history?_count=1000", nil))
	if len(all) != len(made)+12 {
		t.Fatalf("system history has %d versions, want %d", len(all), len(made)+12)
	}
	levels := map[string][]version{
		"/_history":                            all,
		"/Patient/_history":                    filterVersions(all, func(v version) bool { return v.typ == "Patient" }),
		"/Patient/" + inst.id + "/_history":    filterVersions(all, func(v version) bool { return v.id == inst.id }),
		"/Observation/_history":                filterVersions(all, func(v version) bool { return v.typ == "Observation" }),
		"/Patient/" + made[0].id + "/_history": nil, // made[0] is the Observation: no such Patient
	}
	for path, want := range levels {
		for _, count := range []int{1, 2, 3, 7, 1000} {
			t.Run(fmt.Sprintf("%s?_count=%d", path, count), func(t *testing.T) {
				if want == nil {
					wantOutcome(t, s.Do(t, http.MethodGet, path, nil), http.StatusNotFound)
					return
				}
				pages := 0
				got := entryVersions(t, bundleEntries(t, s, fmt.Sprintf("%s?_count=%d", path, count), func(int) { pages++ }))
				if !slices.Equal(got, want) {
					t.Errorf("paged history:\n got %v\nwant %v", got, want)
				}
				if wantPages := (len(want) - 1) / count; pages != wantPages {
					t.Errorf("%d next links followed, want %d", pages, wantPages)
				}
			})
		}
	}
}

// TestHistory_Paging_WritesBetweenPages writes new versions while a client pages: every version that existed
// when paging began comes back exactly once, and nothing comes back twice.
func TestHistory_Paging_WritesBetweenPages(t *testing.T) {
	s := apitest.Start(t)
	made := writeHistory(t, s, 9)
	inst := made[len(made)-1]
	for _, path := range []string{"/_history", "/Patient/_history", "/Patient/" + inst.id + "/_history"} {
		t.Run(path, func(t *testing.T) {
			before := entryVersions(t, bundleEntries(t, s, path+"?_count=1000", nil))
			got := entryVersions(t, bundleEntries(t, s, path+"?_count=2", func(page int) {
				create(t, s, patient(unique("between")))
				body := patient("between")
				body["id"] = inst.id
				s.Do(t, http.MethodPut, "/Patient/"+inst.id, body)
			}))
			seen := map[version]bool{}
			for _, v := range got {
				if seen[v] {
					t.Errorf("%v came back twice", v)
				}
				seen[v] = true
			}
			for _, v := range before {
				if !seen[v] {
					t.Errorf("%v, which existed when paging began, did not come back", v)
				}
			}
		})
	}
}

func TestHistory_Since(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient(unique("since")))
	time.Sleep(5 * time.Millisecond)
	body := read(t, s, "Patient", id)
	body["gender"] = "female"
	r := s.Do(t, http.MethodPut, "/Patient/"+id, body)
	wantStatus(t, r, http.StatusOK, "update")
	since, _ := get(decode(t, r.Body), "meta", "lastUpdated").(string)
	time.Sleep(5 * time.Millisecond)
	other := create(t, s, patient(unique("since")))
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name, path, since string
		want              []version
	}{
		{"system", "/_history", since, []version{{"Patient", other, "1"}, {"Patient", id, "2"}}},
		{"type", "/Patient/_history", since, []version{{"Patient", other, "1"}, {"Patient", id, "2"}}},
		{"instance", "/Patient/" + id + "/_history", since, []version{{"Patient", id, "2"}}},
		{"future", "/_history", later, nil},
		{"date only", "/Patient/" + id + "/_history", "2000-01-01", []version{{"Patient", id, "2"}, {"Patient", id, "1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := entryVersions(t, bundleEntries(t, s, tc.path+"?_count=1&_since="+url.QueryEscape(tc.since), nil))
			if !slices.Equal(got, tc.want) {
				t.Errorf("_since=%s:\n got %v\nwant %v", tc.since, got, tc.want)
			}
		})
	}
}

func TestHistory_BadParameters_400(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient("p"))
	for _, path := range []string{"/_history", "/Patient/_history", "/Patient/" + id + "/_history"} {
		for _, tc := range []struct{ query, mention string }{
			{"_count=0", "_count"},
			{"_count=-1", "_count"},
			{"_count=ten", "_count"},
			{"_since=yesterday", "_since"},
			{"_cursor=%21%21", "_cursor"},
			{"_at=2020-01-01", "_at"},
			{"foo=bar", "foo"},
		} {
			t.Run(path+"?"+tc.query, func(t *testing.T) {
				wantOutcome(t, s.Do(t, http.MethodGet, path+"?"+tc.query, nil), http.StatusBadRequest, tc.mention)
			})
		}
	}
	wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/bad$id/_history", nil), http.StatusBadRequest, "id")
	wantOutcome(t, s.Do(t, http.MethodGet, "/NotAType/_history", nil), http.StatusNotFound, "NotAType")
}

func TestHistory_Golden(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, map[string]any{"resourceType": "Patient", "identifier": []any{map[string]any{"system": testSystem, "value": "golden"}}, "birthDate": "1970-01-01"})
	body := read(t, s, "Patient", id)
	body["gender"] = "other"
	wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+id, body), http.StatusOK, "update")
	wantStatus(t, s.Do(t, http.MethodPatch, "/Patient/"+id, `[{"op":"replace","path":"/birthDate","value":"1971-02-03"}]`,
		"Content-Type", "application/json-patch+json"), http.StatusOK, "patch")
	wantStatus(t, s.Do(t, http.MethodDelete, "/Patient/"+id, nil), http.StatusNoContent, "delete")
	r := s.Do(t, http.MethodGet, "/Patient/"+id+"/_history?_count=3", nil)
	wantStatus(t, r, http.StatusOK, "history")
	checkGolden(t, s, "history-instance", r.Body)
}
