package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

const concurrency = 20

func statusCounts(rs []*apitest.Response) map[int]int {
	counts := map[int]int{}
	for _, r := range rs {
		counts[r.Status]++
	}
	return counts
}

func TestConditionalCreate_Concurrent_OneResource(t *testing.T) {
	s := apitest.Start(t)
	value := unique("race")
	rs := concurrently(t, concurrency, func(int) (*apitest.Response, error) {
		return send(s, http.MethodPost, "/Patient", patient(value), "If-None-Exist", identifierQuery(value))
	})
	counts := statusCounts(rs)
	if counts[http.StatusCreated] != 1 || counts[http.StatusOK] != concurrency-1 {
		t.Errorf("statuses %v, want one 201 and %d 200", counts, concurrency-1)
	}
	loc := rs[0].Header.Get("Location")
	for i, r := range rs {
		if got := r.Header.Get("Location"); got != loc || got == "" {
			t.Errorf("caller %d: Location %q, want %q; %s", i, got, loc, outcomeText(r))
		}
	}
	if n := countMatches(t, s, value); n != 1 {
		t.Errorf("search by identifier: %d resources, want 1", n)
	}
	if n := historyLen(t, s, "/Patient/_history"); n != 1 {
		t.Errorf("type history: %d versions, want 1", n)
	}
}

func TestTransaction_Concurrent_IfNoneExist_OneResource(t *testing.T) {
	s := apitest.Start(t)
	value := unique("txrace")
	rs := concurrently(t, concurrency, func(i int) (*apitest.Response, error) {
		return send(s, http.MethodPost, "/", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			map[string]any{"fullUrl": "urn:uuid:8d2a1c3e-0000-4000-8000-000000000001", "resource": patient(value),
				"request": map[string]any{"method": "POST", "url": "Patient", "ifNoneExist": identifierQuery(value)}},
			map[string]any{"resource": map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": fmt.Sprint(i)},
				"subject": map[string]any{"reference": "urn:uuid:8d2a1c3e-0000-4000-8000-000000000001"}},
				"request": map[string]any{"method": "POST", "url": "Observation"}},
		}})
	})
	var subjects []string
	for i, r := range rs {
		if r.Status != http.StatusOK {
			t.Errorf("transaction %d: %s", i, outcomeText(r))
			continue
		}
		loc, _ := get(decode(t, r.Body), "entry", 0, "response", "location").(string)
		subjects = append(subjects, loc)
	}
	if n := countMatches(t, s, value); n != 1 {
		t.Errorf("search by identifier: %d Patients, want 1", n)
	}
	if n := historyLen(t, s, "/Patient/_history"); n != 1 {
		t.Errorf("Patient history: %d versions, want 1", n)
	}
	if n := historyLen(t, s, "/Observation/_history"); n != concurrency {
		t.Errorf("Observation history: %d versions, want %d", n, concurrency)
	}
	slices.Sort(subjects)
	if subjects = slices.Compact(subjects); len(subjects) != 1 {
		t.Errorf("the transactions answered %d different Patients: %v", len(subjects), subjects)
	}
}

// TestIfMatch_Concurrent_OneWins sends concurrent writes that all name version 1: exactly one succeeds, the
// others fail with 412, and the resource ends at version 2 with no duplicate version.
func TestIfMatch_Concurrent_OneWins(t *testing.T) {
	s := apitest.Start(t)
	for _, tc := range []struct {
		method string
		body   func(id string, i int) any
		ok     int
		ct     string
	}{
		{http.MethodPut, func(id string, i int) any {
			b := patient(fmt.Sprint(i))
			b["id"] = id
			return b
		}, http.StatusOK, "application/fhir+json"},
		{http.MethodPatch, func(_ string, i int) any {
			return fmt.Sprintf(`[{"op":"add","path":"/gender","value":"other"},{"op":"add","path":"/birthDate","value":"19%02d-01-01"}]`, i)
		}, http.StatusOK, "application/json-patch+json"},
		{http.MethodDelete, func(string, int) any { return nil }, http.StatusNoContent, ""},
	} {
		t.Run(tc.method, func(t *testing.T) {
			id := create(t, s, patient(unique("ifmatch")))
			rs := concurrently(t, concurrency, func(i int) (*apitest.Response, error) {
				h := []string{"If-Match", `W/"1"`}
				if tc.ct != "" {
					h = append(h, "Content-Type", tc.ct)
				}
				return send(s, tc.method, "/Patient/"+id, tc.body(id, i), h...)
			})
			counts := statusCounts(rs)
			if counts[tc.ok] != 1 || counts[http.StatusPreconditionFailed] != concurrency-1 {
				for _, r := range rs {
					if r.Status != tc.ok && r.Status != http.StatusPreconditionFailed {
						t.Log(outcomeText(r))
					}
				}
				t.Errorf("statuses %v, want one %d and %d 412", counts, tc.ok, concurrency-1)
			}
			versions := entryVersions(t, bundleEntries(t, s, "/Patient/"+id+"/_history", nil))
			want := []version{{"Patient", id, "2"}, {"Patient", id, "1"}}
			if !slices.Equal(versions, want) {
				t.Errorf("history %v, want %v", versions, want)
			}
		})
	}
}

// TestUpdate_Concurrent_EveryVersionOnce sends concurrent updates without If-Match: each succeeds and makes its
// own version, with no gap and no duplicate.
func TestUpdate_Concurrent_EveryVersionOnce(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient(unique("many")))
	rs := concurrently(t, concurrency, func(i int) (*apitest.Response, error) {
		b := patient(fmt.Sprint(i))
		b["id"] = id
		return send(s, http.MethodPut, "/Patient/"+id, b)
	})
	var etags []string
	for i, r := range rs {
		if r.Status != http.StatusOK {
			t.Errorf("update %d: %s", i, outcomeText(r))
		}
		etags = append(etags, r.Header.Get("ETag"))
	}
	slices.Sort(etags)
	if n := len(slices.Compact(etags)); n != concurrency {
		t.Errorf("%d distinct ETags for %d updates: %v", n, concurrency, etags)
	}
	if v := versionID(read(t, s, "Patient", id)); v != fmt.Sprint(concurrency+1) {
		t.Errorf("current version %s, want %d", v, concurrency+1)
	}
	if n := historyLen(t, s, "/Patient/"+id+"/_history"); n != concurrency+1 {
		t.Errorf("history has %d versions, want %d", n, concurrency+1)
	}
}

// TestConditionalUpdate_Concurrent_OneResource: concurrent conditional updates with criteria that match nothing
// create one resource, which the others then update.
func TestConditionalUpdate_Concurrent_OneResource(t *testing.T) {
	s := apitest.Start(t)
	t.Run("PUT", func(t *testing.T) {
		value := unique("curace")
		rs := concurrently(t, concurrency, func(int) (*apitest.Response, error) {
			return send(s, http.MethodPut, "/Patient?"+identifierQuery(value), patient(value))
		})
		if counts := statusCounts(rs); counts[http.StatusCreated] != 1 || counts[http.StatusOK] != concurrency-1 {
			t.Errorf("statuses %v, want one 201 and %d 200", counts, concurrency-1)
		}
		if n := countMatches(t, s, value); n != 1 {
			t.Fatalf("search by identifier: %d resources, want 1", n)
		}
		id, _ := decode(t, rs[0].Body)["id"].(string)
		if n := historyLen(t, s, "/Patient/"+id+"/_history"); n != concurrency {
			t.Errorf("the resource has %d versions, want %d (one create, then an update per caller)", n, concurrency)
		}
	})
	t.Run("transaction", func(t *testing.T) {
		value := unique("curace")
		rs := concurrently(t, concurrency, func(int) (*apitest.Response, error) {
			return send(s, http.MethodPost, "/", bundle("transaction", entry("", patient(value), "method", "PUT", "url", "Patient?"+identifierQuery(value))))
		})
		for i, r := range rs {
			if r.Status != http.StatusOK {
				t.Errorf("transaction %d: %s", i, outcomeText(r))
			}
		}
		if n := countMatches(t, s, value); n != 1 {
			t.Errorf("search by identifier: %d resources, want 1", n)
		}
	})
}
