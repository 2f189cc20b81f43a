package api_test

import (
	"net/http"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

func TestPatch_Applies_NewVersion(t *testing.T) {
	s := apitest.Start(t)
	body := patient(unique("patch"))
	body["name"] = []any{map[string]any{"family": "Smith", "given": []any{"Ann"}}}
	id := create(t, s, body)
	r := s.Do(t, http.MethodPatch, "/Patient/"+id, `[
		{"op":"test","path":"/name/0/family","value":"Smith"},
		{"op":"replace","path":"/name/0/family","value":"Jones"},
		{"op":"add","path":"/name/0/given/-","value":"Beth"},
		{"op":"add","path":"/birthDate","value":"1980-02-29"},
		{"op":"remove","path":"/identifier"}
	]`, "Content-Type", jsonPatch)
	wantStatus(t, r, http.StatusOK, "patch")
	got := decode(t, r.Body)
	if r.Header.Get("ETag") != `W/"2"` || versionID(got) != "2" {
		t.Errorf("ETag %q version %q, want 2", r.Header.Get("ETag"), versionID(got))
	}
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"name", 0, "family"}, "Jones"},
		{[]any{"name", 0, "given", 1}, "Beth"},
		{[]any{"birthDate"}, "1980-02-29"},
		{[]any{"identifier"}, nil},
	} {
		if v := get(got, c.path...); v != c.want {
			t.Errorf("%v = %v, want %v", c.path, v, c.want)
		}
	}
	if stored := read(t, s, "Patient", id); !equalJSON(stored, got) {
		t.Errorf("read after patch differs from what patch answered")
	}
	entries := bundleEntries(t, s, "/Patient/"+id+"/_history", nil)
	if len(entries) != 2 || get(entries[0], "request", "method") != "PATCH" {
		t.Errorf("history: want PATCH then POST, got %d entries, first %v", len(entries), get(entries, 0, "request"))
	}
}

// TestPatch_Rejected_NoNewVersion: every rejected patch answers an OperationOutcome and leaves version 1.
func TestPatch_Rejected_NoNewVersion(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient(unique("patch")))
	for _, tc := range []struct {
		name, body, contentType string
		status                  int
		mention                 string
	}{
		{"failing test op", `[{"op":"test","path":"/gender","value":"male"}]`, jsonPatch, http.StatusBadRequest, "test"},
		{"failing test op before a change", `[{"op":"add","path":"/active","value":true},{"op":"test","path":"/active","value":false}]`, jsonPatch, http.StatusBadRequest, "test"},
		{"changes the id", `[{"op":"replace","path":"/id","value":"other"}]`, jsonPatch, http.StatusBadRequest, "id"},
		{"removes the id", `[{"op":"remove","path":"/id"}]`, jsonPatch, http.StatusBadRequest, "id"},
		{"changes the resourceType", `[{"op":"replace","path":"/resourceType","value":"Group"}]`, jsonPatch, http.StatusBadRequest, "resourceType"},
		{"result is invalid", `[{"op":"add","path":"/gender","value":42}]`, jsonPatch, http.StatusBadRequest, "gender"},
		{"path does not exist", `[{"op":"replace","path":"/name/3/family","value":"x"}]`, jsonPatch, http.StatusBadRequest, "operation 0"},
		{"unknown op", `[{"op":"frobnicate","path":"/a"}]`, jsonPatch, http.StatusBadRequest, "frobnicate"},
		{"not an array", `{"op":"add","path":"/active","value":true}`, jsonPatch, http.StatusBadRequest, "array"},
		{"invalid JSON", `[{"op":`, jsonPatch, http.StatusBadRequest, ""},
		{"FHIR JSON content type", `[{"op":"add","path":"/active","value":true}]`, "application/fhir+json", http.StatusUnsupportedMediaType, "application/json-patch+json"},
		{"merge patch", `{"active":true}`, "application/merge-patch+json", http.StatusUnsupportedMediaType, "application/json-patch+json"},
		{"FHIRPath patch", `{"resourceType":"Parameters"}`, "application/fhir+json", http.StatusUnsupportedMediaType, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, http.MethodPatch, "/Patient/"+id, tc.body, "Content-Type", tc.contentType)
			if tc.mention == "" {
				wantOutcome(t, r, tc.status)
			} else {
				wantOutcome(t, r, tc.status, tc.mention)
			}
			if v := versionID(read(t, s, "Patient", id)); v != "1" {
				t.Fatalf("the rejected patch made version %s", v)
			}
		})
	}
	t.Run("unknown resource", func(t *testing.T) {
		wantOutcome(t, s.Do(t, http.MethodPatch, "/Patient/nope", `[]`, "Content-Type", jsonPatch), http.StatusNotFound)
	})
	t.Run("deleted resource", func(t *testing.T) {
		gone := create(t, s, patient(unique("patch")))
		wantStatus(t, s.Do(t, http.MethodDelete, "/Patient/"+gone, nil), http.StatusNoContent, "delete")
		wantOutcome(t, s.Do(t, http.MethodPatch, "/Patient/"+gone, `[]`, "Content-Type", jsonPatch), http.StatusGone)
	})
}
