package api_test

import (
	"net/http"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

// TestPrefer_Return checks the three return preferences on create, update, conditional create and patch:
// minimal has no body, representation the resource, OperationOutcome an outcome; the headers are always there.
func TestPrefer_Return(t *testing.T) {
	s := apitest.Start(t)
	type write struct {
		name   string
		status int
		do     func(t *testing.T, prefer string) *apitest.Response
	}
	existing := create(t, s, patient("prefer-existing"))
	writes := []write{
		{"create", http.StatusCreated, func(t *testing.T, prefer string) *apitest.Response {
			return s.Do(t, http.MethodPost, "/Patient", patient(unique("prefer")), "Prefer", prefer)
		}},
		{"update", http.StatusOK, func(t *testing.T, prefer string) *apitest.Response {
			body := patient("prefer-existing")
			body["id"] = existing
			return s.Do(t, http.MethodPut, "/Patient/"+existing, body, "Prefer", prefer)
		}},
		{"conditional create of an existing match", http.StatusOK, func(t *testing.T, prefer string) *apitest.Response {
			return s.Do(t, http.MethodPost, "/Patient", patient("prefer-existing"), "Prefer", prefer, "If-None-Exist", identifierQuery("prefer-existing"))
		}},
		{"patch", http.StatusOK, func(t *testing.T, prefer string) *apitest.Response {
			return s.Do(t, http.MethodPatch, "/Patient/"+existing, `[{"op":"add","path":"/active","value":true}]`, "Prefer", prefer, "Content-Type", jsonPatch)
		}},
	}
	for _, w := range writes {
		for _, prefer := range []string{"return=minimal", "return=representation", "return=OperationOutcome", "", "respond-async, return=minimal"} {
			t.Run(w.name+"/"+prefer, func(t *testing.T) {
				r := w.do(t, prefer)
				wantStatus(t, r, w.status, w.name)
				for _, h := range []string{"ETag", "Last-Modified", "Location"} {
					if r.Header.Get(h) == "" {
						t.Errorf("no %s header", h)
					}
				}
				switch prefer {
				case "return=minimal", "respond-async, return=minimal":
					if len(r.Body) != 0 {
						t.Errorf("return=minimal answered a body: %s", r.Body)
					}
				case "return=OperationOutcome":
					if rt := decode(t, r.Body)["resourceType"]; rt != "OperationOutcome" {
						t.Errorf("return=OperationOutcome answered a %v", rt)
					}
				default:
					if rt := decode(t, r.Body)["resourceType"]; rt != "Patient" {
						t.Errorf("return=representation answered a %v", rt)
					}
				}
			})
		}
	}
	t.Run("transaction/minimal", func(t *testing.T) {
		entries := responseEntries(t, s, bundle("transaction", entry("", patient(unique("p")), "method", "POST", "url", "Patient")), "Prefer", "return=minimal")
		if entries[0]["resource"] != nil || get(entries[0], "response", "location") == nil {
			t.Errorf("return=minimal entry: %v", entries[0])
		}
	})
	t.Run("transaction/representation", func(t *testing.T) {
		entries := responseEntries(t, s, bundle("transaction", entry("", patient(unique("p")), "method", "POST", "url", "Patient")))
		if get(entries[0], "resource", "resourceType") != "Patient" {
			t.Errorf("return=representation entry: %v", entries[0])
		}
	})
	t.Run("transaction/OperationOutcome", func(t *testing.T) {
		entries := responseEntries(t, s, bundle("transaction", entry("", patient(unique("p")), "method", "POST", "url", "Patient")), "Prefer", "return=OperationOutcome")
		if entries[0]["resource"] != nil || get(entries[0], "response", "outcome", "resourceType") != "OperationOutcome" {
			t.Errorf("return=OperationOutcome entry: %v", entries[0])
		}
	})
}
