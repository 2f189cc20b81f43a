package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/auth"
)

func TestAuth_NoOrBadToken_401(t *testing.T) {
	s := startSecured(t)
	c := s.clients[provRJ1]
	forger, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	real := s.Token(t, c, "system/Task.rs")
	header, _, _ := jwt.NewParser().ParseUnverified(real, jwt.MapClaims{})
	now := time.Now()
	accessClaims := jwt.MapClaims{"iss": s.URL, "aud": s.URL, "sub": c.ID, "client_id": c.ID, "role": "provider-system",
		"organizations": []string{"RJ1"}, "scope": "system/*.cruds", "jti": uuid.NewString(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	forge := func(method jwt.SigningMethod, key any) string {
		tok := jwt.NewWithClaims(method, accessClaims)
		tok.Header["kid"], tok.Header["typ"] = header.Header["kid"], "at+jwt"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name, authorization string
		noToken             bool
	}{
		{"none", "", true},
		{"basic", "Basic dXNlcjpwYXNz", false},
		{"not a JWT", "Bearer garbage", false},
		{"signed by another key", "Bearer " + forge(jwt.SigningMethodES384, forger), false},
		{"alg none", "Bearer " + forge(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType), false},
		{"HS256", "Bearer " + forge(jwt.SigningMethodHS256, []byte("secret")), false},
		{"client assertion", "Bearer " + s.Assertion(t, c), false},
		{"huge", "Bearer " + strings.Repeat("a", 20<<10), false},
		{"tampered", "Bearer " + real[:len(real)-4] + "AAAA", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, req := range []struct{ method, path string }{{"GET", "/Task"}, {"POST", "/Task"}, {"GET", "/Task/x/_history"}, {"GET", "/no/such/endpoint/here"}, {"GET", "/admin/clients"}, {"GET", "/AuditEvent"}} {
				var headers []string
				if tc.authorization != "" {
					headers = []string{"Authorization", tc.authorization}
				}
				var body any
				if req.method == "POST" {
					body = orgTask(odsRef("RJ1"), odsRef("RJ1"), "")
				}
				r := s.Do(t, req.method, req.path, body, headers...)
				wantIssue(t, r, http.StatusUnauthorized, "login", req.method+" "+req.path)
				www := r.Header.Get("WWW-Authenticate")
				if !strings.HasPrefix(www, "Bearer ") || strings.Contains(www, "invalid_token") == tc.noToken {
					t.Errorf("%s %s: WWW-Authenticate %q", req.method, req.path, www)
				}
			}
		})
	}
	// A header beyond the server's limit is refused by the HTTP server itself, not with a 500.
	r := s.Do(t, http.MethodGet, "/Task", nil, "Authorization", "Bearer "+strings.Repeat("a", 100<<10))
	if r.Status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("100 KiB header: status %d, want 431", r.Status)
	}
	wantStatus(t, s.DoAs(t, real, http.MethodGet, "/Task", nil), http.StatusOK, "the real token")
}

func TestAuth_SecurityHeaders(t *testing.T) {
	s := startSecured(t)
	for _, path := range []string{"/Task", "/metadata", "/Task/missing"} {
		r := s.as(t, provRJ1, http.MethodGet, path, nil)
		for name, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
			"X-Frame-Options":         "DENY",
		} {
			if got := r.Header.Get(name); got != want {
				t.Errorf("GET %s: %s %q, want %q", path, name, got, want)
			}
		}
		if cc := r.Header.Get("Cache-Control"); (cc == "no-store") == (path == "/metadata") {
			t.Errorf("GET %s: Cache-Control %q", path, cc)
		}
	}
}

func TestScope_MissingScope_403(t *testing.T) {
	s := startSecured(t)
	for _, tc := range []struct {
		name, client, method, path string
		body                       any
		status                     int
		mention                    string
	}{
		{"search allowed", readerRJ1, "GET", "/Task", nil, 200, ""},
		{"create without c", readerRJ1, "POST", "/Task", orgTask(odsRef("RJ1"), odsRef("RJ1"), ""), 403, "system/Task.c"},
		{"read of another type", readerRJ1, "GET", "/Patient/p1", nil, 403, "system/Patient.r"},
		{"search of another type", readerRJ1, "GET", "/Patient", nil, 403, "system/Patient.s"},
		{"type history without s", tasksRJ1, "GET", "/Patient/_history", nil, 403, "Patient"},
		{"delete without d", readerRJ1, "DELETE", "/Task/t1", nil, 403, "system/Task.d"},
		{"v1 read has no write", gpG85001, "POST", "/Encounter", map[string]any{"resourceType": "Encounter", "status": "finished",
			"class": map[string]any{"code": "AMB"}, "serviceProvider": odsRef("G85001")}, 403, "system/Encounter.c"},
		{"analyst reads no clinical resource", analystICB, "GET", "/Task", nil, 403, "analysts"},
		{"AuditEvent is not written by clients", adminOps, "POST", "/AuditEvent", map[string]any{"resourceType": "AuditEvent"}, 403, "server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.as(t, tc.client, tc.method, tc.path, tc.body)
			if tc.status != 403 {
				wantStatus(t, r, tc.status, tc.name)
				return
			}
			oo := wantIssue(t, r, http.StatusForbidden, "forbidden", tc.name)
			if !strings.Contains(string(mustJSON(t, oo)), tc.mention) {
				t.Errorf("the OperationOutcome does not mention %q: %s", tc.mention, r.Body)
			}
		})
	}
	// A token asked for fewer scopes than the client has carries only those.
	tok := s.Token(t, s.clients[provRJ1], "system/Task.rs")
	wantIssue(t, s.DoAs(t, tok, "POST", "/Task", orgTask(odsRef("RJ1"), odsRef("RJ1"), "")), 403, "forbidden", "narrow token")
}

func TestScope_InsideTransactionAndBatch(t *testing.T) {
	s := startSecured(t)
	encounter := map[string]any{"resourceType": "Encounter", "status": "finished", "class": map[string]any{"code": "AMB"},
		"serviceProvider": odsRef("RJ1")}
	tx := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"resource": orgTask(odsRef("RJ1"), odsRef("RJ1"), ""), "request": map[string]any{"method": "POST", "url": "Task"}},
		map[string]any{"resource": encounter, "request": map[string]any{"method": "POST", "url": "Encounter"}},
	}}
	r := s.as(t, tasksRJ1, "POST", "/", tx)
	oo := wantIssue(t, r, http.StatusForbidden, "forbidden", "transaction with an Encounter entry")
	if !strings.Contains(string(mustJSON(t, oo)), "Bundle.entry[1]") {
		t.Errorf("the outcome does not name the entry: %s", r.Body)
	}
	if total, _ := bundleIDs(t, s.as(t, tasksRJ1, "GET", "/Task", nil)); total != 0 {
		t.Errorf("the refused transaction wrote %d Tasks", total)
	}
	tx["type"] = "batch"
	r = s.as(t, tasksRJ1, "POST", "/", tx)
	wantStatus(t, r, http.StatusOK, "batch")
	entries := decode(t, r.Body)["entry"].([]any)
	statuses := []string{}
	for _, e := range entries {
		statuses = append(statuses, e.(map[string]any)["response"].(map[string]any)["status"].(string))
	}
	if len(statuses) != 2 || !strings.HasPrefix(statuses[0], "201") || !strings.HasPrefix(statuses[1], "403") {
		t.Errorf("batch entry statuses %v, want 201 and 403", statuses)
	}
}

// orgFixture is the data of the organisation-scoping tests: the directory, two patients and three Tasks.
//
//	A: requested by RJ1 (by reference to its Organization), owned by RJ1, for p1 (registered with G85001)
//	B: requested and owned by RJ2, for p2 (registered with G12345)
//	C: requested by RJ2, owned by practice G85001 (by reference), for p2
type orgFixture struct {
	a, b, c string
}

func newOrgFixture(t *testing.T, s *securedStack) orgFixture {
	t.Helper()
	for _, o := range [][2]string{{"org-rj1", "RJ1"}, {"org-rj2", "RJ2"}, {"org-g85001", "G85001"}, {"org-g12345", "G12345"}} {
		s.put(t, adminOps, odsOrganization(o[0], o[1]))
	}
	s.put(t, adminOps, map[string]any{"resourceType": "Patient", "id": "p1", "generalPractitioner": []any{litRef("Organization/org-g85001")}})
	s.put(t, adminOps, map[string]any{"resourceType": "Patient", "id": "p2", "generalPractitioner": []any{odsRef("G12345")}})
	b := orgTask(odsRef("RJ2"), odsRef("RJ2"), "p2")
	b["identifier"] = []any{map[string]any{"system": "https://rj2.test/task", "value": "b"}}
	return orgFixture{
		a: s.create(t, provRJ1, orgTask(litRef("Organization/org-rj1"), odsRef("RJ1"), "p1")),
		b: s.create(t, provRJ2, b),
		c: s.create(t, provRJ2, orgTask(odsRef("RJ2"), litRef("Organization/org-g85001"), "p2")),
	}
}

func TestOrg_ReadAndSearch_OnlyWhatTheOrganisationsSee(t *testing.T) {
	s := startSecured(t)
	f := newOrgFixture(t, s)
	for _, tc := range []struct {
		client  string
		visible []string
	}{
		{provRJ1, []string{f.a}},
		{provRJ2, []string{f.b, f.c}},
		{gpG85001, []string{f.a, f.c}},
		{adminOps, []string{f.a, f.b, f.c}},
	} {
		t.Run(tc.client, func(t *testing.T) {
			total, ids := bundleIDs(t, s.as(t, tc.client, "GET", "/Task", nil))
			if total != len(tc.visible) || !sameSet(ids, tc.visible) {
				t.Errorf("search: total %d, ids %v; want %v", total, ids, tc.visible)
			}
			total, ids = bundleIDs(t, s.as(t, tc.client, "GET", "/Task?_count=1&_total=accurate", nil))
			if total != len(tc.visible) || len(ids) != 1 {
				t.Errorf("search _count=1&_total=accurate: total %d, %d entries; want total %d and 1 entry", total, len(ids), len(tc.visible))
			}
			for _, id := range []string{f.a, f.b, f.c} {
				want := http.StatusNotFound
				if hasString(tc.visible, id) {
					want = http.StatusOK
				}
				for _, path := range []string{"/Task/" + id, "/Task/" + id + "/_history/1", "/Task/" + id + "/_history"} {
					r := s.as(t, tc.client, "GET", path, nil)
					if want == http.StatusNotFound {
						wantIssue(t, r, want, "not-found", path)
					} else {
						wantStatus(t, r, want, path)
					}
				}
				total, _ := bundleIDs(t, s.as(t, tc.client, "GET", "/Task?_id="+id, nil))
				if (total == 1) != hasString(tc.visible, id) {
					t.Errorf("search _id=%s: total %d", id, total)
				}
			}
			_, ids = bundleIDs(t, s.as(t, tc.client, "GET", "/Task/_history", nil))
			if !sameSet(distinct(ids), tc.visible) {
				t.Errorf("type history holds %v, want the versions of %v", distinct(ids), tc.visible)
			}
			_, ids = bundleIDs(t, s.as(t, tc.client, "GET", "/_history?_count=100", nil))
			for _, id := range []string{f.a, f.b, f.c} {
				if hasString(ids, id) != hasString(tc.visible, id) {
					t.Errorf("system history holds %v: Task %s visible %v", ids, id, hasString(tc.visible, id))
				}
			}
		})
	}
	// Patients: visible to their GP practice; the directory to everyone.
	wantStatus(t, s.as(t, gpG85001, "GET", "/Patient/p1", nil), http.StatusOK, "the GP reads its patient")
	wantIssue(t, s.as(t, gpG85001, "GET", "/Patient/p2", nil), http.StatusNotFound, "not-found", "the GP reads another practice's patient")
	wantIssue(t, s.as(t, provRJ1, "GET", "/Patient/p1", nil), http.StatusNotFound, "not-found", "a provider reads a patient it does not manage")
	if total, ids := bundleIDs(t, s.as(t, gpG85001, "GET", "/Patient", nil)); total != 1 || ids[0] != "p1" {
		t.Errorf("the GP's patient search: total %d %v", total, ids)
	}
	wantStatus(t, s.as(t, provRJ1, "GET", "/Organization/org-rj2", nil), http.StatusOK, "the directory is shared")
}

func TestOrg_Write_AsItsOrganisationsOnly(t *testing.T) {
	s := startSecured(t)
	f := newOrgFixture(t, s)
	taskA := decode(t, s.as(t, provRJ1, "GET", "/Task/"+f.a, nil).Body)
	withOwner := func(owner map[string]any, requester map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range taskA {
			m[k] = v
		}
		m["owner"], m["requester"] = owner, requester
		return m
	}
	for _, tc := range []struct {
		name, client, method, path string
		body                       any
		status                     int
		code                       string
	}{
		{"create as another organisation", provRJ1, "POST", "/Task", orgTask(odsRef("RJ2"), odsRef("RJ2"), ""), 403, "forbidden"},
		{"create naming no organisation", provRJ1, "POST", "/Task", orgTask(litRef("Practitioner/dr-a"), litRef("Practitioner/dr-a"), ""), 403, "forbidden"},
		{"create by reference to another's Organization", provRJ1, "POST", "/Task", orgTask(litRef("Organization/org-rj2"), odsRef("RJ2"), ""), 403, "forbidden"},
		{"update of an invisible resource", provRJ1, "PUT", "/Task/" + f.b, withResourceID(orgTask(odsRef("RJ1"), odsRef("RJ1"), ""), f.b), 404, "not-found"},
		{"delete of an invisible resource", provRJ1, "DELETE", "/Task/" + f.b, nil, 404, "not-found"},
		{"patch of an invisible resource", provRJ1, "PATCH", "/Task/" + f.b, `[{"op":"replace","path":"/status","value":"cancelled"}]`, 404, "not-found"},
		{"update handing it to another organisation", provRJ1, "PUT", "/Task/" + f.a, withOwner(odsRef("RJ2"), odsRef("RJ2")), 403, "forbidden"},
		{"GP updates a Task it only sees through its patient", gpG85001, "PUT", "/Task/" + f.a, withOwner(odsRef("RJ1"), litRef("Organization/org-rj1")), 403, "forbidden"},
		{"conditional create matching an invisible Task", provRJ1, "POST", "/Task", orgTask(odsRef("RJ1"), odsRef("RJ1"), ""), 409, "conflict"},
		{"conditional update matching an invisible Task", provRJ1, "PUT", "/Task?identifier=https://rj2.test/task|b", orgTask(odsRef("RJ1"), odsRef("RJ1"), ""), 409, "conflict"},
		{"conditional delete matching an invisible Task (deletes nothing)", provRJ1, "DELETE", "/Task?identifier=https://rj2.test/task|b", nil, 204, ""},
		{"provider changes another's Organization", provRJ1, "PUT", "/Organization/org-rj2", odsOrganization("org-rj2", "RJ1"), 403, "forbidden"},
		{"provider writes a Practitioner (no organisation element)", provRJ1, "POST", "/Practitioner", map[string]any{"resourceType": "Practitioner"}, 403, "forbidden"},
		{"update handing it to the GP", provRJ1, "PUT", "/Task/" + f.a, withOwner(odsRef("G85001"), litRef("Organization/org-rj1")), 200, ""},
		{"GP completes the Task it owns", gpG85001, "PATCH", "/Task/" + f.c, `[{"op":"replace","path":"/status","value":"completed"}]`, 200, ""},
		{"provider registers its own Organization", provRJ1, "POST", "/Organization", odsOrganization("x", "RJ1"), 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			switch {
			case tc.method == "PATCH":
				headers = []string{"Content-Type", "application/json-patch+json"}
			case strings.HasPrefix(tc.name, "conditional create"):
				headers = []string{"If-None-Exist", "identifier=https://rj2.test/task|b"}
			}
			r := s.as(t, tc.client, tc.method, tc.path, tc.body, headers...)
			if tc.code != "" {
				wantIssue(t, r, tc.status, tc.code, tc.name)
			} else {
				wantStatus(t, r, tc.status, tc.name)
			}
			if strings.HasPrefix(tc.name, "conditional") && strings.Contains(string(r.Body), f.b) {
				t.Errorf("the answer names the invisible Task %s: %s", f.b, r.Body)
			}
		})
	}
	// Nothing of RJ2's changed.
	b := decode(t, s.as(t, provRJ2, "GET", "/Task/"+f.b, nil).Body)
	if b["meta"].(map[string]any)["versionId"] != "1" || b["status"] != "requested" {
		t.Errorf("RJ2's Task changed: %v", b)
	}
}

func TestOrg_Transaction_OneEntryAsAnotherOrganisation_AllRefused(t *testing.T) {
	s := startSecured(t)
	f := newOrgFixture(t, s)
	before, _ := bundleIDs(t, s.as(t, adminOps, "GET", "/Task", nil))
	tx := func(second map[string]any) map[string]any {
		return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			map[string]any{"fullUrl": "urn:uuid:6f1b5e0a-0c35-4a5e-9a4e-1c2f0c1d9e01", "resource": odsOrganization("", "RJ1"),
				"request": map[string]any{"method": "POST", "url": "Organization"}},
			map[string]any{"resource": orgTask(litRef("urn:uuid:6f1b5e0a-0c35-4a5e-9a4e-1c2f0c1d9e01"), odsRef("RJ1"), "p1"),
				"request": map[string]any{"method": "POST", "url": "Task"}},
			map[string]any{"resource": second, "request": map[string]any{"method": "POST", "url": "Task"}},
		}}
	}
	for _, o := range tx(nil)["entry"].([]any) {
		delete(o.(map[string]any)["resource"].(map[string]any), "id")
	}
	r := s.as(t, provRJ1, "POST", "/", tx(orgTask(odsRef("RJ2"), odsRef("RJ2"), "")))
	oo := wantIssue(t, r, http.StatusForbidden, "forbidden", "transaction with an entry written as RJ2")
	if !strings.Contains(string(mustJSON(t, oo)), "Bundle.entry[2]") {
		t.Errorf("the outcome does not name entry 2: %s", r.Body)
	}
	if after, _ := bundleIDs(t, s.as(t, adminOps, "GET", "/Task", nil)); after != before {
		t.Errorf("the refused transaction wrote: %d Tasks before, %d after", before, after)
	}
	r = s.as(t, provRJ1, "POST", "/", tx(withResourceID(orgTask(odsRef("RJ1"), odsRef("RJ1"), ""), "")))
	wantStatus(t, r, http.StatusOK, "the same transaction as RJ1 only (an Organization of the transaction names it)")
	// A transaction may read only what the client sees.
	read := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"request": map[string]any{"method": "GET", "url": "Task/" + f.b}}}}
	wantIssue(t, s.as(t, provRJ1, "POST", "/", read), http.StatusNotFound, "not-found", "transaction reading an invisible Task")
}

// includedIDs returns the ids of the resources a searchset includes (search.mode include), as Type/id.
func includedIDs(t testing.TB, r *apitest.Response) (matches, included []string) {
	t.Helper()
	wantStatus(t, r, http.StatusOK, "search")
	for _, e := range asEntries(t, r) {
		res := e["resource"].(map[string]any)
		ref := res["resourceType"].(string) + "/" + res["id"].(string)
		if mode, _ := e["search"].(map[string]any)["mode"].(string); mode == "include" {
			included = append(included, ref)
		} else if mode == "match" {
			matches = append(matches, ref)
		}
	}
	return matches, included
}

// asEntries returns the entries of a Bundle.
func asEntries(t testing.TB, r *apitest.Response) []map[string]any {
	t.Helper()
	var out []map[string]any
	list, _ := decode(t, r.Body)["entry"].([]any)
	for _, e := range list {
		out = append(out, e.(map[string]any))
	}
	return out
}

func TestOrg_IncludeAndRevinclude_OnlyWhatTheClientMayRead(t *testing.T) {
	s := startSecured(t)
	f := newOrgFixture(t, s)
	for _, tc := range []struct {
		name, client, query string
		matches, included   []string
	}{
		{"the patient of its Task is not its to see", provRJ1, "/Task?_include=Task:patient&_include=Task:requester",
			[]string{"Task/" + f.a}, []string{"Organization/org-rj1"}},
		{"the GP sees its patient", gpG85001, "/Task?_id=" + f.a + "&_include=Task:patient",
			[]string{"Task/" + f.a}, []string{"Patient/p1"}},
		{"no scope to read the included type", readerRJ1, "/Task?_include=Task:requester",
			[]string{"Task/" + f.a}, nil},
		{"revinclude of another organisation's Tasks", provRJ2, "/Organization?_id=org-rj1&_revinclude=Task:requester",
			[]string{"Organization/org-rj1"}, nil},
		{"revinclude of its own Tasks", provRJ1, "/Organization?_id=org-rj1&_revinclude=Task:requester",
			[]string{"Organization/org-rj1"}, []string{"Task/" + f.a}},
		{"revinclude from a patient", gpG85001, "/Patient?_id=p2&_revinclude=Task:patient", nil, nil},
		{"administrator", adminOps, "/Patient?_id=p2&_revinclude=Task:patient",
			[]string{"Patient/p2"}, []string{"Task/" + f.b, "Task/" + f.c}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			matches, included := includedIDs(t, s.as(t, tc.client, "GET", tc.query, nil))
			if !sameSet(matches, tc.matches) || !sameSet(included, tc.included) {
				t.Errorf("matches %v, included %v; want %v and %v", matches, included, tc.matches, tc.included)
			}
		})
	}
}

func TestAuth_RateLimit_429WithRetryAfter(t *testing.T) {
	s := startSecured(t, func(o *apitest.Options) { o.RateLimit = 1 })
	rj1 := s.Token(t, s.clients[provRJ1], "system/Task.rs")
	rj2 := s.Token(t, s.clients[provRJ2], "system/Task.rs")
	for i, want := range []int{200, 200, 429} {
		r := s.DoAs(t, rj1, "GET", "/Task", nil)
		if r.Status != want {
			t.Fatalf("request %d: status %d, want %d", i+1, r.Status, want)
		}
		if want == 429 {
			wantIssue(t, r, 429, "throttled", "over the limit")
			if ra := r.Header.Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After %q, want 1", ra)
			}
		}
	}
	wantStatus(t, s.DoAs(t, rj2, "GET", "/Task", nil), http.StatusOK, "another client has its own limit")
	r := s.PostToken(t, auth.ClientCredentialsForm(s.Assertion(t, s.clients[provRJ1]), "system/Task.rs"))
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("third token request from one address: %d %s", r.Status, r.Body)
	}
	time.Sleep(1100 * time.Millisecond)
	wantStatus(t, s.DoAs(t, rj1, "GET", "/Task", nil), http.StatusOK, "after Retry-After")
}

// TestAuth_Analyst_LedgerViewsNotClinicalResources: analysts read the ledger views (which name obligations and
// events, never patients) and no clinical resource, with or without identifiable access. Pseudonymisation of patient
// identifiers (auth.Pseudonymiser, wired as api.Security.Pseudonymiser) applies to views that carry them.
func TestAuth_Analyst_LedgerViewsNotClinicalResources(t *testing.T) {
	identifiable := apitest.NewClient(t, "icb-identifiable", auth.RoleAnalyst, nil, "system/*.rs")
	identifiable.IdentifiableAccess = true
	s := startSecured(t, func(o *apitest.Options) { o.Clients = append(o.Clients, identifiable) })
	f := newOrgFixture(t, s)
	for _, id := range []string{analystICB, identifiable.ID} {
		for _, path := range []string{"/Task", "/Task/" + f.a, "/Patient/p1", "/_history"} {
			wantIssue(t, s.as(t, id, "GET", path, nil), http.StatusForbidden, "forbidden", id+" GET "+path)
		}
		r := s.as(t, id, "GET", "/ledger", nil)
		wantStatus(t, r, http.StatusOK, id+" GET /ledger")
		if strings.Contains(string(r.Body), "Patient/") || strings.Contains(string(r.Body), "nhs-number") {
			t.Errorf("the ledger shows an analyst patient identifiers: %s", truncated(r.Body))
		}
	}
}

// TestOrg_ChainAndReverseChain_DecideOnlyOnWhatTheClientSees checks that a chained or reverse-chained search does
// not let a client learn about resources it may not see: their content must not decide whether a visible
// resource matches. The administrator, who sees everything, shows that the same searches do match.
func TestOrg_ChainAndReverseChain_DecideOnlyOnWhatTheClientSees(t *testing.T) {
	s := startSecured(t)
	f := newOrgFixture(t, s)
	for _, tc := range []struct {
		name, path string
		admin      []string // what the administrator finds
		rj1        []string // what RJ1's provider system finds
	}{
		// Task a (visible to RJ1) is for Patient p1, whom RJ1 may not see: p1's practice must not decide.
		{"chain into an invisible patient", "/Task?patient:Patient.general-practitioner=Organization/org-g85001", []string{f.a}, nil},
		// Task c (invisible to RJ1) is owned by org-g85001: its status must not make the Organization match.
		{"reverse chain over invisible tasks", "/Organization?_has:Task:owner:status=requested", []string{"org-g85001"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ids := bundleIDs(t, s.as(t, adminOps, "GET", tc.path, nil)); !sameSet(ids, tc.admin) {
				t.Fatalf("administrator: %v, want %v (the search must match something for the test to mean anything)", ids, tc.admin)
			}
			if total, ids := bundleIDs(t, s.as(t, provRJ1, "GET", tc.path, nil)); total != len(tc.rj1) || !sameSet(ids, tc.rj1) {
				t.Errorf("RJ1: total %d, %v; want %v", total, ids, tc.rj1)
			}
		})
	}
}

// TestOrg_HiddenResources_TakeNoPart: what a client may not see neither decides nor appears in its conditional
// interactions (matches counted, conditional references of a transaction) nor in the pending actions of an
// organisation it acts for; and a client writes neither an Organization carrying another's ODS code nor a
// Reference naming itself in one part and another organisation in the other (which the ledger would hold to
// account).
func TestOrg_HiddenResources_TakeNoPart(t *testing.T) {
	s := startSecured(t)
	f := newOrgFixture(t, s)
	nhs := map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000017"}
	s.put(t, adminOps, map[string]any{"resourceType": "Patient", "id": "p3", "identifier": []any{nhs},
		"generalPractitioner": []any{odsRef("G12345")}})
	dual := odsOrganization("org-dual", "RJ1")
	dual["identifier"] = append(dual["identifier"].([]any), map[string]any{"system": auth.ODSSystem, "value": "RJ2"})
	s.put(t, adminOps, dual)
	owedByRJ2 := s.create(t, provRJ1, orgTask(odsRef("RJ1"), odsRef("RJ2"), "p1")) // RJ1 sees it as requester

	t.Run("conditional reference to an invisible Patient", func(t *testing.T) {
		task := orgTask(odsRef("RJ1"), odsRef("RJ1"), "")
		task["for"] = litRef("Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000017")
		tx := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			map[string]any{"resource": task, "request": map[string]any{"method": "POST", "url": "Task"}}}}
		r := s.as(t, provRJ1, "POST", "/", tx)
		if r.Status < 400 || r.Status >= 500 || strings.Contains(string(r.Body), "p3") {
			t.Errorf("transaction = %d %s, want a 4xx that does not name Patient/p3", r.Status, r.Body)
		}
		if total, _ := bundleIDs(t, s.as(t, adminOps, "GET", "/Task?patient=p3", nil)); total != 0 {
			t.Errorf("%d Tasks for the invisible Patient were written", total)
		}
	})
	t.Run("conditional delete counts only what the client sees", func(t *testing.T) {
		// Two Tasks carry the identifier: RJ2's (invisible to RJ1) and RJ1's: RJ1 deletes its own, not a 412.
		mine := orgTask(odsRef("RJ1"), odsRef("RJ1"), "p1")
		mine["identifier"] = []any{map[string]any{"system": "https://rj2.test/task", "value": "b"}}
		id := s.create(t, provRJ1, mine)
		wantStatus(t, s.as(t, provRJ1, "DELETE", "/Task?identifier=https://rj2.test/task|b", nil), http.StatusNoContent, "conditional delete")
		wantStatus(t, s.as(t, provRJ1, "GET", "/Task/"+id, nil), http.StatusGone, "RJ1's Task after the delete")
		wantStatus(t, s.as(t, provRJ2, "GET", "/Task/"+f.b, nil), http.StatusOK, "RJ2's Task after the delete")
	})
	t.Run("pending actions of an organisation with another's code", func(t *testing.T) {
		for _, tc := range []struct {
			client     string
			want, not  []string
			wantStatus int
		}{
			{provRJ1, []string{f.a}, []string{f.b, owedByRJ2}, http.StatusOK},
			{provRJ2, []string{f.b, owedByRJ2}, []string{f.a}, http.StatusOK},
		} {
			r := s.as(t, tc.client, "GET", "/Organization/org-dual/$pending-actions", nil)
			wantStatus(t, r, tc.wantStatus, tc.client)
			b := decode(t, r.Body)
			var matches []string
			for _, e := range b["entry"].([]any) {
				e := e.(map[string]any)
				if e["search"].(map[string]any)["mode"] == "match" {
					matches = append(matches, e["resource"].(map[string]any)["id"].(string))
				}
			}
			if !sameSet(matches, tc.want) || toString(b["total"]) != strconv.Itoa(len(tc.want)) {
				t.Errorf("%s: pending actions %v (total %v), want %v", tc.client, matches, b["total"], tc.want)
			}
			for _, id := range tc.not {
				if strings.Contains(string(r.Body), id) {
					t.Errorf("%s: the pending actions name Task %s", tc.client, id)
				}
			}
		}
		s.FlushAudit(t)
		_, events := auditEvents(t, s.as(t, adminOps, "GET", "/AuditEvent?agent="+provRJ1+"&entity=Task/"+f.a+"&subtype=operation", nil))
		if len(events) == 0 {
			t.Errorf("the audit trail does not record the Task %s that $pending-actions disclosed", f.a)
		}
	})
	t.Run("writes naming another organisation in disguise", func(t *testing.T) {
		delete(dual, "id")
		wantIssue(t, s.as(t, provRJ1, "POST", "/Organization", dual), http.StatusForbidden, "forbidden", "an Organization with RJ2's code too")
		mixed := litRef("Organization/org-rj2")
		mixed["identifier"] = odsRef("RJ1")["identifier"]
		o := wantIssue(t, s.as(t, provRJ1, "POST", "/Task", orgTask(mixed, odsRef("RJ1"), "p1")), http.StatusForbidden, "forbidden",
			"a requester naming RJ1 by code and RJ2 by reference")
		if !strings.Contains(string(mustJSON(t, o)), "Task.requester") {
			t.Errorf("the refusal does not name Task.requester: %v", o)
		}
		consistent := litRef("Organization/org-rj1")
		consistent["identifier"] = odsRef("RJ1")["identifier"]
		s.create(t, provRJ1, orgTask(consistent, odsRef("RJ1"), "p1"))
	})
}
