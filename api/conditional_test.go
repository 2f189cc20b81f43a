package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

// identifierQuery is the conditional criteria of patient(value).
func identifierQuery(value string) string {
	return "identifier=" + url.QueryEscape(testSystem+"|"+value)
}

// countMatches is the number of current Patients with identifier value.
func countMatches(t testing.TB, s *apitest.Server, value string) int {
	t.Helper()
	r := s.Do(t, http.MethodGet, "/Patient?"+identifierQuery(value), nil)
	wantStatus(t, r, http.StatusOK, "search")
	return len(asList(decode(t, r.Body)["entry"]))
}

func TestConditionalCreate(t *testing.T) {
	s := apitest.Start(t)
	t.Run("first creates, second finds the same resource", func(t *testing.T) {
		value := unique("cc")
		before := historyLen(t, s, "/Patient/_history")
		first := s.Do(t, http.MethodPost, "/Patient", patient(value), "If-None-Exist", identifierQuery(value))
		wantStatus(t, first, http.StatusCreated, "first")
		loc := first.Header.Get("Location")
		for _, q := range []string{identifierQuery(value), "Patient?" + identifierQuery(value), "identifier=" + value} {
			again := s.Do(t, http.MethodPost, "/Patient", patient(value), "If-None-Exist", q)
			wantStatus(t, again, http.StatusOK, "If-None-Exist: "+q)
			if got := again.Header.Get("Location"); got != loc || loc == "" {
				t.Errorf("If-None-Exist: %s: Location %q, want %q", q, got, loc)
			}
			if got, want := decode(t, again.Body)["id"], decode(t, first.Body)["id"]; got != want {
				t.Errorf("answered %v, want the existing %v", got, want)
			}
		}
		if n := countMatches(t, s, value); n != 1 {
			t.Errorf("%d resources with the identifier, want 1", n)
		}
		if n := historyLen(t, s, "/Patient/_history"); n != before+1 {
			t.Errorf("type history grew by %d versions, want 1", n-before)
		}
	})
	t.Run("two matches 412", func(t *testing.T) {
		value := unique("cc2")
		create(t, s, patient(value))
		create(t, s, patient(value))
		before := historyLen(t, s, "/Patient/_history")
		wantOutcome(t, s.Do(t, http.MethodPost, "/Patient", patient(value), "If-None-Exist", identifierQuery(value)), http.StatusPreconditionFailed, "match")
		if n := historyLen(t, s, "/Patient/_history"); n != before {
			t.Errorf("a failed conditional create wrote %d versions", n-before)
		}
	})
	t.Run("a deleted match does not count", func(t *testing.T) {
		value := unique("cc3")
		r := s.Do(t, http.MethodPost, "/Patient", patient(value), "If-None-Exist", identifierQuery(value))
		wantStatus(t, r, http.StatusCreated, "first")
		old := decode(t, r.Body)["id"].(string)
		wantStatus(t, s.Do(t, http.MethodDelete, "/Patient/"+old, nil), http.StatusNoContent, "delete")
		r = s.Do(t, http.MethodPost, "/Patient", patient(value), "If-None-Exist", identifierQuery(value))
		wantStatus(t, r, http.StatusCreated, "after the match was deleted")
		if id := decode(t, r.Body)["id"]; id == old {
			t.Errorf("re-used the deleted resource's id")
		}
	})
	t.Run("a match that changed its identifier does not count", func(t *testing.T) {
		value := unique("cc4")
		r := s.Do(t, http.MethodPost, "/Patient", patient(value), "If-None-Exist", identifierQuery(value))
		wantStatus(t, r, http.StatusCreated, "first")
		changed := decode(t, r.Body)
		changed["identifier"] = patient(value + "-changed")["identifier"]
		wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+changed["id"].(string), changed), http.StatusOK, "change the identifier")
		r = s.Do(t, http.MethodPost, "/Patient", patient(value), "If-None-Exist", identifierQuery(value))
		wantStatus(t, r, http.StatusCreated, "after the match changed its identifier")
		if n := countMatches(t, s, value); n != 1 {
			t.Errorf("%d resources with the identifier, want 1", n)
		}
	})
	t.Run("bad criteria 400", func(t *testing.T) {
		before := historyLen(t, s, "/Patient/_history")
		for _, tc := range []struct{ header, mention string }{
			{"nonsense=smith", "nonsense"},
			{"birthdate=notadate", "birthdate"},
			{"%zz", "If-None-Exist"},
			{"?", "If-None-Exist"},
		} {
			wantOutcome(t, s.Do(t, http.MethodPost, "/Patient", patient("x"), "If-None-Exist", tc.header), http.StatusBadRequest, tc.mention)
		}
		if n := historyLen(t, s, "/Patient/_history"); n != before {
			t.Errorf("rejected conditional creates wrote %d versions", n-before)
		}
	})
}

func TestConditionalUpdate(t *testing.T) {
	s := apitest.Start(t)
	t.Run("no match creates", func(t *testing.T) {
		value := unique("cu")
		r := s.Do(t, http.MethodPut, "/Patient?"+identifierQuery(value), patient(value))
		wantStatus(t, r, http.StatusCreated, "conditional update without a match")
		if r.Header.Get("ETag") != `W/"1"` || r.Header.Get("Location") == "" {
			t.Errorf("ETag %q Location %q", r.Header.Get("ETag"), r.Header.Get("Location"))
		}
		if n := countMatches(t, s, value); n != 1 {
			t.Errorf("%d matches after, want 1", n)
		}
	})
	t.Run("no match creates with the body's id", func(t *testing.T) {
		value := unique("cu")
		body := patient(value)
		body["id"] = "cu-own-" + value[len(value)-4:]
		r := s.Do(t, http.MethodPut, "/Patient?"+identifierQuery(value), body)
		wantStatus(t, r, http.StatusCreated, "conditional update without a match")
		if id := decode(t, r.Body)["id"]; id != body["id"] {
			t.Errorf("created %v, want the body's id %v", id, body["id"])
		}
	})
	t.Run("one match updates it", func(t *testing.T) {
		value := unique("cu")
		id := create(t, s, patient(value))
		for _, withID := range []bool{false, true} {
			body := patient(value)
			body["gender"] = "male"
			if withID {
				body["id"] = id
			}
			r := s.Do(t, http.MethodPut, "/Patient?"+identifierQuery(value), body)
			wantStatus(t, r, http.StatusOK, "conditional update with one match")
			got := decode(t, r.Body)
			if got["id"] != id || got["gender"] != "male" {
				t.Errorf("updated %v gender %v, want %s male", got["id"], got["gender"], id)
			}
		}
		if v := versionID(read(t, s, "Patient", id)); v != "3" {
			t.Errorf("version %s, want 3", v)
		}
		if n := countMatches(t, s, value); n != 1 {
			t.Errorf("%d matches after, want 1", n)
		}
	})
	t.Run("body id differs from the match 400", func(t *testing.T) {
		value := unique("cu")
		id := create(t, s, patient(value))
		body := patient(value)
		body["id"] = "someone-else"
		wantOutcome(t, s.Do(t, http.MethodPut, "/Patient?"+identifierQuery(value), body), http.StatusBadRequest, "id")
		if v := versionID(read(t, s, "Patient", id)); v != "1" {
			t.Errorf("the match was updated to version %s", v)
		}
		wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/someone-else", nil), http.StatusNotFound)
	})
	t.Run("two matches 412", func(t *testing.T) {
		value := unique("cu")
		a, b := create(t, s, patient(value)), create(t, s, patient(value))
		wantOutcome(t, s.Do(t, http.MethodPut, "/Patient?"+identifierQuery(value), patient(value)), http.StatusPreconditionFailed, "match")
		for _, id := range []string{a, b} {
			if v := versionID(read(t, s, "Patient", id)); v != "1" {
				t.Errorf("%s was updated to version %s", id, v)
			}
		}
	})
	t.Run("by _id", func(t *testing.T) {
		id := create(t, s, patient(unique("cu")))
		body := patient("by-id")
		r := s.Do(t, http.MethodPut, "/Patient?_id="+id, body)
		wantStatus(t, r, http.StatusOK, "conditional update by _id")
		if got := decode(t, r.Body)["id"]; got != id {
			t.Errorf("updated %v, want %s", got, id)
		}
	})
	t.Run("no criteria 405", func(t *testing.T) {
		wantOutcome(t, s.Do(t, http.MethodPut, "/Patient", patient("x")), http.StatusMethodNotAllowed, "criteria")
	})
	t.Run("unsupported criteria 400", func(t *testing.T) {
		wantOutcome(t, s.Do(t, http.MethodPut, "/Patient?nonsense=smith", patient("x")), http.StatusBadRequest, "nonsense")
	})
}

func TestConditionalDelete(t *testing.T) {
	s := apitest.Start(t)
	t.Run("one match deleted", func(t *testing.T) {
		value := unique("cd")
		id := create(t, s, patient(value))
		r := s.Do(t, http.MethodDelete, "/Patient?"+identifierQuery(value), nil)
		wantStatus(t, r, http.StatusNoContent, "conditional delete")
		if r.Header.Get("ETag") != `W/"2"` {
			t.Errorf("ETag %q, want W/\"2\"", r.Header.Get("ETag"))
		}
		wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/"+id, nil), http.StatusGone)
		if n := countMatches(t, s, value); n != 0 {
			t.Errorf("%d matches after delete", n)
		}
	})
	t.Run("no match is a no-op", func(t *testing.T) {
		before := historyLen(t, s, "/_history")
		wantStatus(t, s.Do(t, http.MethodDelete, "/Patient?"+identifierQuery(unique("none")), nil), http.StatusNoContent, "conditional delete without match")
		if n := historyLen(t, s, "/_history"); n != before {
			t.Errorf("wrote %d versions", n-before)
		}
	})
	t.Run("two matches 412", func(t *testing.T) {
		value := unique("cd")
		a, b := create(t, s, patient(value)), create(t, s, patient(value))
		wantOutcome(t, s.Do(t, http.MethodDelete, "/Patient?"+identifierQuery(value), nil), http.StatusPreconditionFailed, "match")
		read(t, s, "Patient", a)
		read(t, s, "Patient", b)
	})
	t.Run("no criteria 405", func(t *testing.T) {
		wantOutcome(t, s.Do(t, http.MethodDelete, "/Patient", nil), http.StatusMethodNotAllowed, "criteria")
	})
}
