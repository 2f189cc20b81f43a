package api_test

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

// allowHeader returns the methods of r's Allow header, failing the test when r has none.
func allowHeader(t testing.TB, r *apitest.Response) []string {
	t.Helper()
	vs, ok := r.Header["Allow"]
	if !ok {
		t.Fatalf("status %d without an Allow header", r.Status)
	}
	var out []string
	for _, m := range strings.Split(strings.Join(vs, ","), ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// requestMethods are the methods the tests try on every target.
var requestMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func TestMethods_NotAllowed_405WithAllow(t *testing.T) {
	s := apitest.Start(t)
	for _, tc := range []struct {
		method, path string
		allow        string
	}{
		{http.MethodDelete, "/metadata", "GET, HEAD"},
		{http.MethodPost, "/metadata", "GET, HEAD"},
		{http.MethodPut, "/healthz", "GET, HEAD"},
		{http.MethodPost, "/readyz", "GET, HEAD"},
		{http.MethodPost, "/Organization/X/$pending-actions", "GET, HEAD"},
		{http.MethodPut, "/ledger", "GET, HEAD"},
		{http.MethodPost, "/ledger", "GET, HEAD"},
		{http.MethodPost, "/ledger/$compliance", "GET, HEAD"},
		{http.MethodPost, "/ledger/$verify", "GET, HEAD"},
		{http.MethodDelete, "/ledger/$measure-report", "GET, HEAD"},
		{http.MethodPatch, "/ledger/$advice-and-guidance", "GET, HEAD"},
		{http.MethodOptions, "/ledger/$verify", "GET, HEAD"},
		{http.MethodPost, "/admin/clients", "GET, HEAD"},
		{http.MethodPatch, "/admin/clients/someone", "GET, HEAD, PUT, DELETE"},
		{http.MethodPost, "/public/waiting-times", "GET, HEAD"},
		{http.MethodPatch, "/Patient", "GET, HEAD, POST"},
		{http.MethodPatch, "/Patient?identifier=x", "GET, HEAD, POST, PUT, DELETE"},
		{http.MethodPut, "/Patient", "GET, HEAD, POST"},    // conditional update needs criteria
		{http.MethodDelete, "/Patient", "GET, HEAD, POST"}, // conditional delete too
		{http.MethodPost, "/Patient/123", "GET, HEAD, PUT, PATCH, DELETE"},
		{http.MethodOptions, "/Patient/123", "GET, HEAD, PUT, PATCH, DELETE"},
		{http.MethodPut, "/Patient/123/_history", "GET, HEAD"},
		{http.MethodDelete, "/Patient/123/_history/1", "GET, HEAD"},
		{http.MethodPut, "/_history", "GET, HEAD"},
		{http.MethodGet, "/Patient/$validate", "POST"},
		{http.MethodGet, "/$validate", "POST"},
		{http.MethodPost, "/StructureDefinition", "GET, HEAD"},
		{http.MethodDelete, "/CodeSystem/consensus-clause", "GET, HEAD"},
		{http.MethodPut, "/ValueSet/$expand", "GET, HEAD, POST"},
		{http.MethodDelete, "/", "GET, HEAD, POST"},
		// An unknown operation serves no method: the Allow header is there, and empty (RFC 9110 section 10.2.1).
		{http.MethodGet, "/Patient/$everything", ""},
		{http.MethodGet, "/ValueSet/formulary/_history", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := s.Do(t, tc.method, tc.path, nil)
			wantOutcome(t, r, http.StatusMethodNotAllowed)
			if got := strings.Join(allowHeader(t, r), ", "); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
}

func TestMethods_NoSuchEndpoint_404(t *testing.T) {
	s := apitest.Start(t)
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/ledger/$nothing"},
		{http.MethodPost, "/ledger/$nothing"},
		{http.MethodPut, "/Patient/1/$everything"},
		{http.MethodOptions, "/Unknown/1"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			wantOutcome(t, s.Do(t, tc.method, tc.path, nil), http.StatusNotFound)
		})
	}
}

// TestMethods_Allow_MatchesWhatIsServed tries every method on each target: a 405 never lists the method refused,
// and no method the Allow header lists is refused with a 405.
func TestMethods_Allow_MatchesWhatIsServed(t *testing.T) {
	s := apitest.Start(t)
	for _, path := range []string{
		"/", "/metadata", "/healthz", "/readyz", "/_history", "/$validate",
		"/Patient", "/Patient?identifier=nobody", "/Patient/p1", "/Patient/_history", "/Patient/_search",
		"/Patient/$validate", "/Patient/p1/_history", "/Patient/p1/_history/1",
		"/StructureDefinition", "/CodeSystem/consensus-clause", "/ValueSet/$expand", "/AuditEvent",
		"/Organization/X/$pending-actions", "/ledger", "/ledger/$verify", "/ledger/$compliance",
		"/ledger/$measure-report", "/ledger/$advice-and-guidance", "/admin/clients", "/admin/clients/x",
		"/public/waiting-times",
	} {
		t.Run(path, func(t *testing.T) {
			status := map[string]int{}
			var allow []string
			for _, m := range requestMethods {
				r := s.Do(t, m, path, nil)
				status[m] = r.Status
				if r.Status != http.StatusMethodNotAllowed {
					continue
				}
				got := allowHeader(t, r)
				if slices.Contains(got, m) {
					t.Errorf("%s: 405 with Allow %v, which lists %s", m, got, m)
				}
				if allow != nil && !slices.Equal(got, allow) {
					t.Errorf("%s: Allow %v, but %v for another method", m, got, allow)
				}
				allow = got
			}
			for _, m := range allow {
				if status[m] == http.StatusMethodNotAllowed {
					t.Errorf("Allow lists %s, which is refused with 405", m)
				}
			}
		})
	}
}

func TestMethods_Head_SameAsGetWithoutBody(t *testing.T) {
	s := apitest.Start(t)
	r := s.Do(t, http.MethodPost, "/Patient", patient("head"))
	wantStatus(t, r, http.StatusCreated, "create")
	id := decode(t, r.Body)["id"].(string)
	for _, path := range []string{
		"/Patient/" + id, "/Patient/" + id + "/_history/1", "/Patient/" + id + "/_history", "/Patient?identifier=head",
		"/Patient/missing", "/Patient/" + id + "/_history/9", "/metadata", "/StructureDefinition/accord-task",
		"/ledger/$verify", "/public/waiting-times", "/healthz", "/Patient?unknown:modifier=x",
	} {
		t.Run(path, func(t *testing.T) {
			get := s.Do(t, http.MethodGet, path, nil)
			head := s.Do(t, http.MethodHead, path, nil)
			if head.Status != get.Status {
				t.Errorf("HEAD status %d, GET %d", head.Status, get.Status)
			}
			if len(head.Body) != 0 {
				t.Errorf("HEAD has a body: %s", truncated(head.Body))
			}
			for _, h := range []string{"ETag", "Last-Modified", "Content-Type", "Cache-Control"} {
				if head.Header.Get(h) != get.Header.Get(h) {
					t.Errorf("HEAD %s %q, GET %q", h, head.Header.Get(h), get.Header.Get(h))
				}
			}
			if cl := head.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(get.Body)) {
				t.Errorf("HEAD Content-Length %s, GET body of %d bytes", cl, len(get.Body))
			}
		})
	}
	t.Run("resource has ETag and Content-Length", func(t *testing.T) {
		get := s.Do(t, http.MethodGet, "/Patient/"+id, nil)
		head := s.Do(t, http.MethodHead, "/Patient/"+id, nil)
		if head.Header.Get("ETag") != `W/"1"` || head.Header.Get("Content-Length") != strconv.Itoa(len(get.Body)) {
			t.Errorf("HEAD ETag %q Content-Length %q, want W/\"1\" and %d", head.Header.Get("ETag"), head.Header.Get("Content-Length"), len(get.Body))
		}
	})
	t.Run("missing resource is 404 without body", func(t *testing.T) {
		head := s.Do(t, http.MethodHead, "/Patient/missing", nil)
		if head.Status != http.StatusNotFound || len(head.Body) != 0 {
			t.Errorf("HEAD of a missing resource: %d with %d bytes, want 404 and none", head.Status, len(head.Body))
		}
	})
	t.Run("405 without body", func(t *testing.T) {
		head := s.Do(t, http.MethodHead, "/Patient/$validate", nil)
		if head.Status != http.StatusMethodNotAllowed || len(head.Body) != 0 || strings.Join(allowHeader(t, head), ", ") != "POST" {
			t.Errorf("HEAD /Patient/$validate: %d, Allow %v, %d bytes; want 405, POST, none", head.Status, head.Header["Allow"], len(head.Body))
		}
	})
	t.Run("never writes", func(t *testing.T) {
		s.Do(t, http.MethodHead, "/Patient/"+id, patient("changed"))
		if r := s.Do(t, http.MethodGet, "/Patient/"+id, nil); r.Header.Get("ETag") != `W/"1"` {
			t.Errorf("after a HEAD with a body, ETag %s, want W/\"1\"", r.Header.Get("ETag"))
		}
	})
}

func TestMethods_Head_Secured_AuthenticatedAuthorisedAudited(t *testing.T) {
	s := startSecured(t)
	f := newOrgFixture(t, s)
	if r := s.Do(t, http.MethodHead, "/Task/"+f.a, nil); r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" || len(r.Body) != 0 {
		t.Errorf("HEAD without a token: %d, WWW-Authenticate %q, %d bytes; want 401 with the header and no body",
			r.Status, r.Header.Get("WWW-Authenticate"), len(r.Body))
	}
	get := s.as(t, provRJ1, http.MethodGet, "/Task/"+f.a, nil)
	head := s.as(t, provRJ1, http.MethodHead, "/Task/"+f.a, nil)
	if head.Status != http.StatusOK || head.Header.Get("ETag") != get.Header.Get("ETag") || len(head.Body) != 0 {
		t.Errorf("HEAD of a visible Task: %d, ETag %q (GET %q), %d bytes", head.Status, head.Header.Get("ETag"), get.Header.Get("ETag"), len(head.Body))
	}
	if r := s.as(t, provRJ1, http.MethodHead, "/Task/"+f.b, nil); r.Status != http.StatusNotFound || r.Header.Get("ETag") != "" {
		t.Errorf("HEAD of a Task RJ1 does not see: %d, ETag %q; want 404 as GET, no ETag", r.Status, r.Header.Get("ETag"))
	}
	if r := s.as(t, analystICB, http.MethodHead, "/Task/"+f.a, nil); r.Status != http.StatusForbidden {
		t.Errorf("HEAD of a Task as an analyst: %d, want 403 as GET", r.Status)
	}
	s.FlushAudit(t)
	_, events := auditEvents(t, s.as(t, adminOps, http.MethodGet, "/AuditEvent?entity=Task/"+f.a+"&agent="+provRJ1+"&subtype=read", nil))
	if len(events) != 2 {
		t.Errorf("%d read events of Task/%s by %s, want the GET and the HEAD", len(events), f.a, provRJ1)
	}
}

func TestMethods_TokenEndpoint_OtherMethods_405(t *testing.T) {
	s := apitest.Start(t, apitest.Options{Auth: true})
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		t.Run(m, func(t *testing.T) {
			r := s.Do(t, m, "/auth/token", nil)
			if r.Status != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405: %s", r.Status, truncated(r.Body))
			}
			if got := strings.Join(allowHeader(t, r), ", "); got != "POST" {
				t.Errorf("Allow %q, want POST", got)
			}
			if code := oauthErr(t, r); code != "invalid_request" {
				t.Errorf("OAuth error %q, want invalid_request", code)
			}
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		r := s.Do(t, http.MethodHead, "/auth/token", nil)
		if r.Status != http.StatusMethodNotAllowed || len(r.Body) != 0 || strings.Join(allowHeader(t, r), ", ") != "POST" {
			t.Errorf("HEAD /auth/token: %d, Allow %v, %d bytes; want 405, POST, none", r.Status, r.Header["Allow"], len(r.Body))
		}
	})
}

func TestMethods_FHIRVersion_406And415(t *testing.T) {
	s := apitest.Start(t)
	for _, tc := range []struct {
		name, accept string
		want         int
	}{
		{"no version", "application/fhir+json", http.StatusOK},
		{"R4", "application/fhir+json; fhirVersion=4.0", http.StatusOK},
		{"R4 release", "application/fhir+json; fhirVersion=4.0.1", http.StatusOK},
		{"json R4", "application/json;fhirVersion=4.0", http.StatusOK},
		{"STU3", "application/fhir+json; fhirVersion=3.0", http.StatusNotAcceptable},
		{"R5", "application/fhir+json; fhirVersion=5.0", http.StatusNotAcceptable},
		{"STU3 or any JSON", "application/fhir+json; fhirVersion=3.0, application/json;q=0.5", http.StatusOK},
	} {
		t.Run("Accept "+tc.name, func(t *testing.T) {
			for _, path := range []string{"/metadata", "/Patient", "/ledger/$verify"} {
				r := s.Do(t, http.MethodGet, path, nil, "Accept", tc.accept)
				if tc.want == http.StatusOK {
					wantStatus(t, r, http.StatusOK, path)
				} else {
					wantOutcome(t, r, tc.want, "R4")
				}
			}
		})
	}
	for _, tc := range []struct {
		name, contentType string
		want              int
	}{
		{"no version", "application/fhir+json", http.StatusCreated},
		{"R4", "application/fhir+json; fhirVersion=4.0", http.StatusCreated},
		{"R4 release", "application/fhir+json; fhirVersion=4.0.1", http.StatusCreated},
		{"STU3", "application/fhir+json; fhirVersion=3.0", http.StatusUnsupportedMediaType},
	} {
		t.Run("Content-Type "+tc.name, func(t *testing.T) {
			r := s.Do(t, http.MethodPost, "/Patient", patient("v-"+tc.name), "Content-Type", tc.contentType)
			if tc.want == http.StatusCreated {
				wantStatus(t, r, tc.want, "create")
			} else {
				wantOutcome(t, r, tc.want, "R4")
			}
		})
	}
}

func TestMethods_EmptyBundles_NoEmptyArrays(t *testing.T) {
	s := apitest.Start(t)
	for _, path := range []string{
		"/Patient?identifier=nobody",
		"/Observation/_history",
		"/Observation/_history?_pretty=true",
		"/Organization/NOBODY/$pending-actions",
		"/StructureDefinition?name=nothing-of-that-name",
		"/ledger/$measure-report?period=2001",
	} {
		t.Run(path, func(t *testing.T) {
			r := s.Do(t, http.MethodGet, path, nil)
			wantStatus(t, r, http.StatusOK, path)
			b := decode(t, r.Body)
			if b["resourceType"] != "Bundle" {
				t.Fatalf("not a Bundle: %s", truncated(r.Body))
			}
			if _, ok := b["entry"]; ok || bytes.Contains(r.Body, []byte("[]")) {
				t.Errorf("an empty array in %s", truncated(r.Body))
			}
		})
	}
}
