package api_test

import (
	"net/http"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

const jsonPatch = "application/json-patch+json"

// TestIfMatch checks optimistic locking on PUT, PATCH, DELETE and conditional update: the current version
// succeeds, a stale one fails with 412, and a malformed header fails with 400 naming If-Match; a failed
// request writes nothing.
func TestIfMatch(t *testing.T) {
	s := apitest.Start(t)
	type write struct {
		method  string
		path    func(id string) string
		body    func(id string) any
		headers []string
		ok      int
	}
	writes := []write{
		{http.MethodPut, func(id string) string { return "/Patient/" + id }, func(id string) any {
			return map[string]any{"resourceType": "Patient", "id": id, "gender": "female"}
		}, nil, http.StatusOK},
		{http.MethodPatch, func(id string) string { return "/Patient/" + id }, func(string) any {
			return `[{"op":"add","path":"/gender","value":"male"}]`
		}, []string{"Content-Type", jsonPatch}, http.StatusOK},
		{http.MethodDelete, func(id string) string { return "/Patient/" + id }, func(string) any { return nil }, nil, http.StatusNoContent},
		{"conditional PUT", func(id string) string { return "/Patient?_id=" + id }, func(string) any {
			return map[string]any{"resourceType": "Patient", "gender": "other"}
		}, nil, http.StatusOK},
	}
	for _, w := range writes {
		method := w.method
		if method == "conditional PUT" {
			method = http.MethodPut
		}
		send := func(t *testing.T, id, ifMatch string) *apitest.Response {
			t.Helper()
			return s.Do(t, method, w.path(id), w.body(id), append([]string{"If-Match", ifMatch}, w.headers...)...)
		}
		// setup makes a Patient at version 2.
		setup := func(t *testing.T) string {
			t.Helper()
			id := create(t, s, patient(unique("im")))
			wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+id, map[string]any{"resourceType": "Patient", "id": id}), http.StatusOK, "update")
			return id
		}
		t.Run(w.method+"/current", func(t *testing.T) {
			for _, tag := range []string{`W/"2"`, `"2"`, ` W/"2" `} {
				id := setup(t)
				r := send(t, id, tag)
				wantStatus(t, r, w.ok, "If-Match: "+tag)
				if r.Header.Get("ETag") != `W/"3"` {
					t.Errorf("If-Match: %s: ETag %q, want W/\"3\"", tag, r.Header.Get("ETag"))
				}
			}
		})
		t.Run(w.method+"/stale", func(t *testing.T) {
			id := setup(t)
			for _, tag := range []string{`W/"1"`, `W/"3"`, `W/"99"`} {
				wantOutcome(t, send(t, id, tag), http.StatusPreconditionFailed, "precondition")
			}
			if v := versionID(read(t, s, "Patient", id)); v != "2" {
				t.Errorf("version %s after stale writes, want 2", v)
			}
		})
		t.Run(w.method+"/malformed", func(t *testing.T) {
			id := setup(t)
			for _, tag := range []string{`3`, `W/"x"`, `W/""`, `W/3`, `"2`, `W/"2"x`, `*`, `W/"-1"`} {
				wantOutcome(t, send(t, id, tag), http.StatusBadRequest, "If-Match")
			}
			if v := versionID(read(t, s, "Patient", id)); v != "2" {
				t.Errorf("version %s after malformed writes, want 2", v)
			}
		})
	}
	t.Run("PUT/unknown resource", func(t *testing.T) {
		r := s.Do(t, http.MethodPut, "/Patient/im-unknown", map[string]any{"resourceType": "Patient", "id": "im-unknown"}, "If-Match", `W/"1"`)
		wantOutcome(t, r, http.StatusPreconditionFailed)
		wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/im-unknown", nil), http.StatusNotFound)
	})
}
