package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/api/apitest"
)

var update = flag.Bool("update", false, "rewrite the golden files in api/testdata")

// examplesDir holds the official R4 examples, one to three per resource type.
const examplesDir = "../testdata/r4examples"

// decode parses a JSON object with numbers kept as json.Number, so that 1.50 and 1.5 differ.
func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, truncated(b))
	}
	return m
}

// readExample reads one file of examplesDir.
func readExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatalf("read example: %v", err)
	}
	return b
}

// exampleFiles lists the JSON examples in examplesDir, sorted.
func exampleFiles(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 140 {
		t.Fatalf("want at least 140 examples in %s, found %d", examplesDir, len(paths))
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	sort.Strings(names)
	return names
}

func truncated(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// wantStatus fails the test now unless r has status want.
func wantStatus(t testing.TB, r *apitest.Response, want int, what string) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d; body:\n%s", what, r.Status, want, truncated(r.Body))
	}
}

// wantOutcome checks that r is an OperationOutcome of status with an error issue whose text (details,
// diagnostics or expression) mentions every string in mention, case-insensitively. It returns the outcome.
func wantOutcome(t testing.TB, r *apitest.Response, status int, mention ...string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d; body:\n%s", r.Status, status, truncated(r.Body))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Errorf("Content-Type %q, want application/fhir+json", ct)
	}
	oo := decode(t, r.Body)
	if oo["resourceType"] != "OperationOutcome" {
		t.Fatalf("want an OperationOutcome, got %s", truncated(r.Body))
	}
	issues, _ := oo["issue"].([]any)
	text, hasError := "", false
	for _, raw := range issues {
		is, _ := raw.(map[string]any)
		if is["severity"] == "error" || is["severity"] == "fatal" {
			hasError = true
		}
		if is["code"] == nil {
			t.Errorf("issue without code: %v", is)
		}
		b, _ := json.Marshal(is)
		text += string(b)
	}
	if !hasError {
		t.Errorf("no issue of severity error: %s", r.Body)
	}
	for _, m := range mention {
		if !strings.Contains(strings.ToLower(text), strings.ToLower(m)) {
			t.Errorf("the OperationOutcome does not mention %q: %s", m, r.Body)
		}
	}
	return oo
}

// outcomeText is the OperationOutcome of a rejected write, for failure messages.
func outcomeText(r *apitest.Response) string {
	return fmt.Sprintf("HTTP %d %s", r.Status, truncated(r.Body))
}

// create posts res and returns the new resource's id; anything but 201 fails the test.
func create(t testing.TB, s *apitest.Server, res map[string]any) string {
	t.Helper()
	typ, _ := res["resourceType"].(string)
	r := s.Do(t, http.MethodPost, "/"+typ, res)
	wantStatus(t, r, http.StatusCreated, "create "+typ)
	id, _ := decode(t, r.Body)["id"].(string)
	if id == "" {
		t.Fatalf("created %s has no id: %s", typ, r.Body)
	}
	return id
}

// read returns the current version of typ/id; anything but 200 fails the test.
func read(t testing.TB, s *apitest.Server, typ, id string) map[string]any {
	t.Helper()
	r := s.Do(t, http.MethodGet, "/"+typ+"/"+id, nil)
	wantStatus(t, r, http.StatusOK, "read "+typ+"/"+id)
	return decode(t, r.Body)
}

// versionID is meta.versionId of a resource.
func versionID(res map[string]any) string {
	meta, _ := res["meta"].(map[string]any)
	v, _ := meta["versionId"].(string)
	return v
}

var uniqueN atomic.Int64

// unique returns a value no other call in this test binary returns, for identifiers.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), uniqueN.Add(1))
}

// testSystem is the identifier system of the tests' resources.
const testSystem = "https://accord.test/id"

// patient is a minimal Patient with an identifier of testSystem.
func patient(value string) map[string]any {
	return map[string]any{
		"resourceType": "Patient",
		"identifier":   []any{map[string]any{"system": testSystem, "value": value}},
	}
}

// bundleEntries follows a Bundle's next links from path to the end and returns every entry. It fails when
// more than maxPages pages come back, which catches a next link that loops.
func bundleEntries(t testing.TB, s *apitest.Server, path string, between func(page int)) []map[string]any {
	t.Helper()
	const maxPages = 200
	var all []map[string]any
	for page := 0; path != ""; page++ {
		if page == maxPages {
			t.Fatalf("more than %d pages: the next links do not end", maxPages)
		}
		r := s.Do(t, http.MethodGet, path, nil)
		wantStatus(t, r, http.StatusOK, "GET "+path)
		b := decode(t, r.Body)
		for _, e := range asList(b["entry"]) {
			all = append(all, e)
		}
		path = ""
		for _, l := range asList(b["link"]) {
			if l["relation"] == "next" {
				next, _ := l["url"].(string)
				if !strings.HasPrefix(next, s.URL+"/") {
					t.Fatalf("next link %q is not under the server base %s", next, s.URL)
				}
				path = strings.TrimPrefix(next, s.URL)
			}
		}
		if between != nil && path != "" {
			between(page)
		}
	}
	return all
}

// asList returns the objects of a JSON array.
func asList(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// get returns the value at a path of object keys and array indexes, e.g. get(b, "entry", 0, "response").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// historyLen is the number of entries in the full history at path (all pages).
func historyLen(t testing.TB, s *apitest.Server, path string) int {
	t.Helper()
	return len(bundleEntries(t, s, path+"?_count=1000", nil))
}

var (
	uuidPattern   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	cursorPattern = regexp.MustCompile(`_cursor=[^&]*`)
	volatileKeys  = map[string]bool{"lastUpdated": true, "lastModified": true, "date": true}
)

// mask replaces what changes from run to run: the test server's base URL, server-assigned UUIDs, paging
// cursors, and instants (lastUpdated, lastModified, date).
func mask(v any, base string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if _, isString := e.(string); isString && volatileKeys[k] {
				out[k] = "<" + k + ">"
				continue
			}
			out[k] = mask(e, base)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = mask(e, base)
		}
		return out
	case string:
		s := strings.ReplaceAll(t, base, "<base>")
		s = uuidPattern.ReplaceAllString(s, "<uuid>")
		return cursorPattern.ReplaceAllString(s, "_cursor=<cursor>")
	}
	return v
}

// checkGolden compares a response body, masked, with api/testdata/name.golden.json; -update rewrites it.
func checkGolden(t testing.TB, s *apitest.Server, name string, body []byte) {
	t.Helper()
	got := mask(decode(t, body), s.URL)
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(got); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(decode(t, want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got); if the change is intended, run go test ./api -update:\n%s", name, diff)
	}
}

func readExampleErr(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(examplesDir, name))
}

// send is Do for goroutines other than the test's: it returns errors instead of failing the test.
func send(s *apitest.Server, method, path string, body any, headers ...string) (*apitest.Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &apitest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// concurrently sends n requests at once (made by req(i)) and returns their responses in order.
func concurrently(t *testing.T, n int, req func(i int) (*apitest.Response, error)) []*apitest.Response {
	t.Helper()
	out := make([]*apitest.Response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = req(i)
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent requests: %v", err)
	}
	return out
}
