package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

// nested is a valid Patient whose JSON nests depth levels of objects and arrays: extensions within extensions,
// the innermost with a value.
func nested(depth int) string {
	// The resource is one level; each extension adds two (its array and its object); a CodeableConcept value adds
	// one more, so that even depths can be made too.
	levels, value := (depth-1)/2, `"valueString":"x"`
	if depth%2 == 0 {
		levels, value = (depth-2)/2, `"valueCodeableConcept":{"text":"x"}`
	}
	var b strings.Builder
	b.WriteString(`{"resourceType":"Patient"`)
	for range levels {
		b.WriteString(`,"extension":[{"url":"https://accord.test/x"`)
	}
	b.WriteString("," + value)
	for range levels {
		b.WriteString(`}]`)
	}
	b.WriteString(`}`)
	return b.String()
}

// TestBadInput_4xxOperationOutcome sends malformed writes: each answers a 4xx OperationOutcome that names what is
// wrong, never a 500, and nothing is stored.
func TestBadInput_4xxOperationOutcome(t *testing.T) {
	s := apitest.Start(t)
	existing := create(t, s, patient(unique("bad")))
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		mention            []string
	}{
		{"invalid JSON", http.MethodPost, "/Patient", `{"resourceType":"Patient",`, nil, 400, []string{"invalid JSON"}},
		{"invalid JSON on update", http.MethodPut, "/Patient/" + existing, `{"resourceType":"Patient" "id":"x"}`, nil, 400, []string{"invalid JSON"}},
		{"trailing data", http.MethodPost, "/Patient", `{"resourceType":"Patient"} {}`, nil, 400, []string{"after"}},
		{"empty body", http.MethodPost, "/Patient", "", nil, 400, []string{"empty"}},
		{"invalid UTF-8", http.MethodPost, "/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\xffb\"}]}", nil, 400, []string{"UTF-8"}},
		{"invalid UTF-8 in a transaction", http.MethodPost, "/", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"gender\":\"\xc3\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}", nil, 400, []string{"UTF-8"}},
		{"duplicate key", http.MethodPost, "/Patient", `{"resourceType":"Patient","gender":"male","gender":"female"}`, nil, 400, []string{"gender", "twice"}},
		{"empty array", http.MethodPost, "/Patient", `{"resourceType":"Patient","name":[]}`, nil, 400, []string{"Patient.name", "empty"}},
		{"empty object", http.MethodPost, "/Patient", `{"resourceType":"Patient","maritalStatus":{}}`, nil, 400, []string{"Patient.maritalStatus", "empty"}},
		{"null property", http.MethodPost, "/Patient", `{"resourceType":"Patient","gender":null}`, nil, 400, []string{"Patient.gender", "null"}},
		{"array", http.MethodPost, "/Patient", `[{"resourceType":"Patient"}]`, nil, 400, []string{"JSON object", "array"}},
		{"string", http.MethodPost, "/Patient", `"Patient"`, nil, 400, []string{"JSON object", "string"}},
		{"number", http.MethodPost, "/Patient", `42`, nil, 400, []string{"JSON object", "number"}},
		{"null", http.MethodPost, "/Patient", `null`, nil, 400, []string{"JSON object", "null"}},
		{"nesting 65 levels", http.MethodPost, "/Patient", nested(65), nil, 400, []string{"nesting", "64"}},
		{"nesting 65 levels in a transaction", http.MethodPost, "/", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + nested(62) + `,"request":{"method":"POST","url":"Patient"}}]}`, nil, 400, []string{"nesting"}},
		{"resourceType missing", http.MethodPost, "/Patient", `{"gender":"male"}`, nil, 400, []string{"resourceType"}},
		{"resourceType not a string", http.MethodPost, "/Patient", `{"resourceType":["Patient"]}`, nil, 400, []string{"resourceType"}},
		{"resourceType not the URL's", http.MethodPost, "/Patient", `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`, nil, 400, []string{"resourceType", "Observation", "Patient"}},
		{"resourceType not the URL's on update", http.MethodPut, "/Patient/" + existing, fmt.Sprintf(`{"resourceType":"Group","id":%q}`, existing), nil, 400, []string{"resourceType"}},
		{"resourceType unknown", http.MethodPost, "/Patient", `{"resourceType":"Patiente"}`, nil, 400, []string{"resourceType"}},
		{"id differs from the URL's", http.MethodPut, "/Patient/" + existing, `{"resourceType":"Patient","id":"other"}`, nil, 400, []string{"Patient.id", "id"}},
		{"id missing on update", http.MethodPut, "/Patient/" + existing, `{"resourceType":"Patient"}`, nil, 400, []string{"Patient.id"}},
		{"id not a string", http.MethodPut, "/Patient/" + existing, `{"resourceType":"Patient","id":7}`, nil, 400, []string{"Patient.id"}},
		{"unknown type on create", http.MethodPost, "/Patiente", `{"resourceType":"Patiente"}`, nil, 404, []string{"Patiente"}},
		{"unknown type on update", http.MethodPut, "/Patiente/1", `{"resourceType":"Patiente","id":"1"}`, nil, 404, []string{"Patiente"}},
		{"unknown type on delete", http.MethodDelete, "/Patiente/1", nil, nil, 404, []string{"Patiente"}},
		{"unknown type on conditional update", http.MethodPut, "/Patiente?_id=1", `{"resourceType":"Patiente"}`, nil, 404, []string{"Patiente"}},
		{"unknown type on conditional delete", http.MethodDelete, "/Patiente?_id=1", nil, nil, 404, []string{"Patiente"}},
		{"lower-case type", http.MethodPost, "/patient", `{"resourceType":"patient"}`, nil, 404, []string{"patient"}},
		{"id with invalid characters", http.MethodPut, "/Patient/a_b", `{"resourceType":"Patient","id":"a_b"}`, nil, 400, []string{"a_b", "id"}},
		{"id with a space", http.MethodPut, "/Patient/a%20b", `{"resourceType":"Patient","id":"a b"}`, nil, 400, []string{"id"}},
		{"id of 65 characters", http.MethodPut, "/Patient/" + long, fmt.Sprintf(`{"resourceType":"Patient","id":%q}`, long), nil, 400, []string{"64"}},
		{"id with invalid characters on delete", http.MethodDelete, "/Patient/a_b", nil, nil, 400, []string{"a_b"}},
		{"malformed If-Match", http.MethodPut, "/Patient/" + existing, fmt.Sprintf(`{"resourceType":"Patient","id":%q}`, existing), []string{"If-Match", "3"}, 400, []string{"If-Match"}},
		{"malformed If-Match on delete", http.MethodDelete, "/Patient/" + existing, nil, []string{"If-Match", `W/"x"`}, 400, []string{"If-Match"}},
		{"invalid element value", http.MethodPost, "/Patient", `{"resourceType":"Patient","gender":42}`, nil, 400, []string{"Patient.gender"}},
		{"unknown element", http.MethodPost, "/Patient", `{"resourceType":"Patient","favouriteColour":"blue"}`, nil, 400, []string{"favouriteColour"}},
		{"invalid date", http.MethodPost, "/Patient", `{"resourceType":"Patient","birthDate":"31/01/1970"}`, nil, 400, []string{"birthDate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := historyLen(t, s, "/_history")
			r := s.Do(t, tc.method, tc.path, tc.body, tc.headers...)
			wantOutcome(t, r, tc.status, tc.mention...)
			if n := historyLen(t, s, "/_history"); n != before {
				t.Errorf("the rejected request wrote %d versions", n-before)
			}
		})
	}
	if v := versionID(read(t, s, "Patient", existing)); v != "1" {
		t.Errorf("the existing Patient is at version %s after the rejected updates", v)
	}
}

func TestBadInput_NestingAtTheLimit_Accepted(t *testing.T) {
	s := apitest.Start(t)
	for _, tc := range []struct {
		name, path, body string
	}{
		{"resource of 64 levels", "/Patient", nested(64)},
		{"resource of 63 levels", "/Patient", nested(63)},
		{"transaction of 64 levels", "/", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + nested(61) + `,"request":{"method":"POST","url":"Patient"}}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, http.MethodPost, tc.path, tc.body)
			if r.Status != http.StatusCreated && r.Status != http.StatusOK {
				t.Fatalf("within the depth limit: %s", outcomeText(r))
			}
		})
	}
}

func TestBadInput_BodyOverLimit_413(t *testing.T) {
	s := apitest.Start(t, apitest.Options{MaxBody: 4096})
	big := patient(unique("big"))
	big["text"] = map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml">` + strings.Repeat("x", 5000) + `</div>`}
	small := patient(unique("small"))
	id := create(t, s, small)
	bigWithID := map[string]any{"resourceType": "Patient", "id": id, "text": big["text"]}
	tx := bundle("transaction", entry("", big, "method", "POST", "url", "Patient"))
	for _, tc := range []struct {
		name, method, path string
		body               any
		headers            []string
	}{
		{"create", http.MethodPost, "/Patient", big, nil},
		{"update", http.MethodPut, "/Patient/" + id, bigWithID, nil},
		{"transaction", http.MethodPost, "/", tx, nil},
		{"patch", http.MethodPatch, "/Patient/" + id, `[{"op":"add","path":"/text","value":"` + strings.Repeat("x", 5000) + `"}]`, []string{"Content-Type", jsonPatch}},
		{"$validate", http.MethodPost, "/Patient/$validate", big, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := historyLen(t, s, "/_history")
			wantOutcome(t, s.Do(t, tc.method, tc.path, tc.body, tc.headers...), http.StatusRequestEntityTooLarge, "larger than the limit")
			if n := historyLen(t, s, "/_history"); n != before {
				t.Errorf("the rejected request wrote %d versions", n-before)
			}
		})
	}
	if v := versionID(read(t, s, "Patient", id)); v != "1" {
		t.Errorf("version %s after rejected updates", v)
	}
	// just under the limit is fine
	ok := patient(unique("ok"))
	ok["text"] = map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml">` + strings.Repeat("x", 3000) + `</div>`}
	create(t, s, ok)
}
