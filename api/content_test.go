package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

func TestContent_JSONMediaTypesAccepted(t *testing.T) {
	s := apitest.Start(t)
	for _, ct := range []string{"application/fhir+json", "application/json", "application/fhir+json; charset=utf-8", "application/json+fhir", "APPLICATION/FHIR+JSON", ""} {
		t.Run("Content-Type "+ct, func(t *testing.T) {
			r := s.Do(t, http.MethodPost, "/Patient", patient(unique("ct")), "Content-Type", ct)
			wantStatus(t, r, http.StatusCreated, "create as "+ct)
			if got := r.Header.Get("Content-Type"); got != "application/fhir+json; charset=utf-8" {
				t.Errorf("response Content-Type %q", got)
			}
		})
	}
	id := create(t, s, patient(unique("ct")))
	for _, tc := range []struct{ name, query, accept string }{
		{"_format=json", "?_format=json", ""},
		{"_format=application/fhir+json", "?_format=application/fhir%2Bjson", ""},
		{"_format=application/json", "?_format=application/json", ""},
		{"Accept fhir+json", "", "application/fhir+json"},
		{"Accept json", "", "application/json"},
		{"Accept anything", "", "*/*"},
		{"Accept xml or json", "", "application/fhir+xml, application/fhir+json;q=0.8"},
		{"Accept with charset", "", "application/fhir+json; charset=utf-8"},
		{"_format overrides Accept", "?_format=json", "application/fhir+xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, http.MethodGet, "/Patient/"+id+tc.query, nil, "Accept", tc.accept)
			wantStatus(t, r, http.StatusOK, "read")
			if decode(t, r.Body)["id"] != id {
				t.Errorf("read answered %s", r.Body)
			}
		})
	}
}

func TestContent_Pretty(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient(unique("pretty")))
	for _, path := range []string{"/Patient/" + id, "/Patient/" + id + "/_history", "/metadata", "/Patient/nope"} {
		t.Run(path, func(t *testing.T) {
			plain := s.Do(t, http.MethodGet, path, nil)
			pretty := s.Do(t, http.MethodGet, path+"?_pretty=true", nil)
			if bytes.Contains(plain.Body, []byte("\n")) {
				t.Errorf("without _pretty the body is indented")
			}
			if !bytes.Contains(pretty.Body, []byte("\n  \"")) {
				t.Errorf("_pretty=true is not indented: %s", truncated(pretty.Body))
			}
			if pretty.Status != plain.Status {
				t.Errorf("_pretty changed the status: %d and %d", pretty.Status, plain.Status)
			}
			a, b := decode(t, plain.Body), decode(t, pretty.Body)
			delete(a, "link") // a history Bundle's self link names _pretty
			delete(b, "link")
			delete(a, "date")
			delete(b, "date")
			if !equalJSON(a, b) {
				t.Errorf("_pretty changed the content")
			}
		})
	}
}

// TestContent_NotJSON_406_415: XML is not supported: asking for it is 406, sending it is 415; both answer a JSON
// OperationOutcome and write nothing.
func TestContent_NotJSON_406_415(t *testing.T) {
	s := apitest.Start(t)
	id := create(t, s, patient(unique("xml")))
	for _, tc := range []struct {
		name, method, path, accept, contentType string
		body                                    any
		status                                  int
		mention                                 string
	}{
		{"Accept fhir+xml", http.MethodGet, "/Patient/" + id, "application/fhir+xml", "", nil, http.StatusNotAcceptable, "json"},
		{"Accept xml", http.MethodGet, "/Patient/" + id, "application/xml", "", nil, http.StatusNotAcceptable, "json"},
		{"Accept html", http.MethodGet, "/metadata", "text/html", "", nil, http.StatusNotAcceptable, "json"},
		{"Accept json with q=0", http.MethodGet, "/metadata", "application/fhir+json;q=0", "", nil, http.StatusNotAcceptable, "json"},
		{"_format=xml", http.MethodGet, "/Patient/" + id + "?_format=xml", "", "", nil, http.StatusNotAcceptable, "_format"},
		{"_format=application/fhir+xml", http.MethodGet, "/metadata?_format=application/fhir%2Bxml", "", "", nil, http.StatusNotAcceptable, "_format"},
		{"_format=xml on create", http.MethodPost, "/Patient?_format=xml", "", "", patient("xml"), http.StatusNotAcceptable, "_format"},
		{"Accept xml on create", http.MethodPost, "/Patient", "application/fhir+xml", "", patient("xml"), http.StatusNotAcceptable, "json"},
		{"body fhir+xml", http.MethodPost, "/Patient", "", "application/fhir+xml", `<Patient xmlns="http://hl7.org/fhir"/>`, http.StatusUnsupportedMediaType, "application/fhir+xml"},
		{"body xml on update", http.MethodPut, "/Patient/" + id, "", "application/xml", `<Patient xmlns="http://hl7.org/fhir"/>`, http.StatusUnsupportedMediaType, "application/xml"},
		{"body text", http.MethodPost, "/Patient", "", "text/plain", `{"resourceType":"Patient"}`, http.StatusUnsupportedMediaType, "text/plain"},
		{"body form", http.MethodPost, "/", "", "application/x-www-form-urlencoded", `a=b`, http.StatusUnsupportedMediaType, "application/x-www-form-urlencoded"},
		{"malformed Content-Type", http.MethodPost, "/Patient", "", "application/", `{"resourceType":"Patient"}`, http.StatusUnsupportedMediaType, "content type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := historyLen(t, s, "/_history")
			var h []string
			if tc.accept != "" {
				h = append(h, "Accept", tc.accept)
			}
			if tc.contentType != "" {
				h = append(h, "Content-Type", tc.contentType)
			}
			wantOutcome(t, s.Do(t, tc.method, tc.path, tc.body, h...), tc.status, tc.mention)
			if n := historyLen(t, s, "/_history"); n != before {
				t.Errorf("wrote %d versions", n-before)
			}
		})
	}
}

// TestContent_ErrorsAreOperationOutcomes: routing and method errors are OperationOutcomes with the right status.
func TestContent_ErrorsAreOperationOutcomes(t *testing.T) {
	s := apitest.Start(t)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/Patient/1/_history/1/extra", http.StatusNotFound},
		{http.MethodGet, "/", http.StatusBadRequest}, // a system search needs _type
		{http.MethodPost, "/Patient/123", http.StatusMethodNotAllowed},
		{http.MethodPatch, "/Patient", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/Patient/1/_history/1", http.StatusMethodNotAllowed},
		{http.MethodGet, "/Patient/$everything", http.StatusMethodNotAllowed},
		{http.MethodPost, "/$export", http.StatusNotFound},
		{http.MethodPost, "/_history", http.StatusNotFound},
		{http.MethodGet, "/NotAType", http.StatusNotFound},
		{http.MethodGet, "/Patient?birthdate=x", http.StatusBadRequest},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			wantOutcome(t, s.Do(t, tc.method, tc.path, nil), tc.status)
		})
	}
}

func TestContent_Search_Bundle(t *testing.T) {
	s := apitest.Start(t)
	value := unique("search")
	id := create(t, s, patient(value))
	create(t, s, patient(unique("search")))
	for _, query := range []string{"identifier=" + testSystem + "|" + value, "identifier=" + value, "_id=" + id, "_id=" + id + "&identifier=" + value} {
		t.Run(query, func(t *testing.T) {
			r := s.Do(t, http.MethodGet, "/Patient?"+strings.ReplaceAll(query, "|", "%7C"), nil)
			wantStatus(t, r, http.StatusOK, "search")
			b := decode(t, r.Body)
			entries := asList(b["entry"])
			if b["type"] != "searchset" || len(entries) != 1 || get(entries[0], "resource", "id") != id || get(entries[0], "search", "mode") != "match" {
				t.Errorf("search %s: %s", query, truncated(r.Body))
			}
		})
	}
}
