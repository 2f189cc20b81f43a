package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/auth"
)

// The test clients of a secured stack.
const (
	provRJ1    = "rj1-epr"    // provider system of RJ1, every scope (v2)
	provRJ2    = "rj2-epr"    // provider system of RJ2, every scope (v1 syntax)
	gpG85001   = "g85001-gp"  // GP system of practice G85001: reads everything (v1), writes Tasks
	readerRJ1  = "rj1-reader" // provider system of RJ1 that may only read and search Tasks
	analystICB = "icb-analyst"
	adminOps   = "ops-admin"
	rsaRJ1     = "rj1-rsa"   // provider system of RJ1 signing with RS384
	tasksRJ1   = "rj1-tasks" // provider system of RJ1 that may write Tasks only
)

// securedStack is a stack started with authentication on and the test clients registered.
type securedStack struct {
	*apitest.Server
	clients map[string]*apitest.Client
	tokens  map[string]string
}

// startSecured starts the stack with authentication on; extra adjusts the options.
func startSecured(t *testing.T, extra ...func(*apitest.Options)) *securedStack {
	t.Helper()
	clients := []*apitest.Client{
		apitest.NewClient(t, provRJ1, auth.RoleProvider, []string{"RJ1"}, "system/*.cruds"),
		apitest.NewClient(t, provRJ2, auth.RoleProvider, []string{"RJ2"}, "system/*.*"),
		apitest.NewClient(t, gpG85001, auth.RoleGP, []string{"G85001"}, "system/*.read", "system/Task.write", "system/Patient.write"),
		apitest.NewClient(t, readerRJ1, auth.RoleProvider, []string{"RJ1"}, "system/Task.rs"),
		apitest.NewClient(t, analystICB, auth.RoleAnalyst, nil, "system/*.rs"),
		apitest.NewClient(t, adminOps, auth.RoleAdmin, nil, "system/*.cruds"),
		apitest.NewClient(t, tasksRJ1, auth.RoleProvider, []string{"RJ1"}, "system/Task.cruds"),
		apitest.WithKey(t, auth.Client{ID: rsaRJ1, Role: auth.RoleProvider, Organizations: []string{"RJ1"},
			Scopes: []string{"system/Task.rs"}}, mustRSAKey(t)),
	}
	o := apitest.Options{Auth: true, Clients: clients}
	for _, f := range extra {
		f(&o)
	}
	s := &securedStack{Server: apitest.Start(t, o), clients: map[string]*apitest.Client{}, tokens: map[string]string{}}
	for _, c := range o.Clients {
		s.clients[c.ID] = c
	}
	return s
}

// as sends a request with an access token of client id for all its registered scopes.
func (s *securedStack) as(t testing.TB, id, method, path string, body any, headers ...string) *apitest.Response {
	t.Helper()
	tok, ok := s.tokens[id]
	if !ok {
		c := s.clients[id]
		tok = s.Token(t, c, strings.Join(c.Scopes, " "))
		s.tokens[id] = tok
	}
	return s.DoAs(t, tok, method, path, body, headers...)
}

// create posts a resource as client id and returns its id; it fails the test unless the status is 201.
func (s *securedStack) create(t testing.TB, id string, res map[string]any) string {
	t.Helper()
	r := s.as(t, id, http.MethodPost, "/"+res["resourceType"].(string), res)
	wantStatus(t, r, http.StatusCreated, fmt.Sprintf("%s creates a %s", id, res["resourceType"]))
	return decode(t, r.Body)["id"].(string)
}

// put stores a resource with its id as client id; it fails the test unless the status is 200 or 201.
func (s *securedStack) put(t testing.TB, id string, res map[string]any) {
	t.Helper()
	r := s.as(t, id, http.MethodPut, "/"+res["resourceType"].(string)+"/"+res["id"].(string), res)
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("%s puts %s/%s: status %d: %s", id, res["resourceType"], res["id"], r.Status, truncated(r.Body))
	}
}

// odsRef is a logical reference to an organisation by ODS code.
func odsRef(code string) map[string]any {
	return map[string]any{"identifier": map[string]any{"system": auth.ODSSystem, "value": code}}
}

// litRef is a literal reference.
func litRef(r string) map[string]any { return map[string]any{"reference": r} }

// odsOrganization is an Organization with an ODS code.
func odsOrganization(id, code string) map[string]any {
	return map[string]any{"resourceType": "Organization", "id": id, "name": "Organisation " + code,
		"identifier": []any{map[string]any{"system": auth.ODSSystem, "value": code}},
		"telecom":    []any{map[string]any{"system": "phone", "value": "020 7946 0000"}}}
}

// orgTask is a Task requested by requester and owned by owner, for a patient.
func orgTask(requester, owner map[string]any, patient string) map[string]any {
	t := map[string]any{"resourceType": "Task", "status": "requested", "intent": "order"}
	if requester != nil {
		t["requester"] = requester
	}
	if owner != nil {
		t["owner"] = owner
	}
	if patient != "" {
		t["for"] = litRef("Patient/" + patient)
	}
	return t
}

// wantIssue fails the test unless r has status and is an OperationOutcome with an issue of code.
func wantIssue(t testing.TB, r *apitest.Response, status int, code, what string) map[string]any {
	t.Helper()
	wantStatus(t, r, status, what)
	oo := decode(t, r.Body)
	if oo["resourceType"] != "OperationOutcome" {
		t.Fatalf("%s: not an OperationOutcome: %s", what, truncated(r.Body))
	}
	issues, _ := oo["issue"].([]any)
	for _, is := range issues {
		if is.(map[string]any)["code"] == code {
			return oo
		}
	}
	t.Fatalf("%s: no issue of code %s: %s", what, code, truncated(r.Body))
	return nil
}

// bundleIDs returns the total and the ids of the resources of a searchset or history Bundle.
func bundleIDs(t testing.TB, r *apitest.Response) (total int, ids []string) {
	t.Helper()
	var b struct {
		Total *int `json:"total"`
		Entry []struct {
			Resource struct {
				ID string `json:"id"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("not a Bundle: %v: %s", err, truncated(r.Body))
	}
	total = -1
	if b.Total != nil {
		total = *b.Total
	}
	for _, e := range b.Entry {
		ids = append(ids, e.Resource.ID)
	}
	return total, ids
}

// mustRSAKey returns a new 2048-bit RSA key.
func mustRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mustJSON encodes v.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hasString reports whether list holds s.
func hasString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// distinct returns list without repetitions, in order.
func distinct(list []string) []string {
	var out []string
	for _, s := range list {
		if !hasString(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// sameSet reports whether a and b hold the same strings, ignoring order and repetitions.
func sameSet(a, b []string) bool {
	a, b = distinct(a), distinct(b)
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !hasString(b, s) {
			return false
		}
	}
	return true
}

// withResourceID returns res with id set (removed when empty).
func withResourceID(res map[string]any, id string) map[string]any {
	if id == "" {
		delete(res, "id")
	} else {
		res["id"] = id
	}
	return res
}
