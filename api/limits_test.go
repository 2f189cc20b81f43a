package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/internal/store/mongo"
)

// The store's limits (internal/store/mongo/limits.go), as the OperationOutcomes state them.
var (
	documentLimit = fmt.Sprint(mongo.DefaultMaxDocumentSize)
	valuesLimit   = fmt.Sprint(mongo.DefaultMaxIndexValues)
)

// longFamily is a Patient whose family names have n characters in all, at most 1,000,000 each (R4 caps a string
// at 1 MB): the current view repeats each indexed name several times (family and name, folded and exact, beside
// the resource itself), so that 3 MB of distinct names take more than the 15 MiB limit.
func longFamily(value string, n int) map[string]any {
	p := patient(value)
	var names []any
	for i := 0; n > 0; i, n = i+1, n-1_000_000 { // distinct names: the index keeps each value once
		names = append(names, map[string]any{"family": strings.Repeat(string(rune('d'+i)), min(n, 1_000_000))})
	}
	p["name"] = names
	return p
}

// manyNames is a Patient with n names: f0, f1 …
func manyNames(value string, n int) map[string]any {
	names := make([]any, n)
	for i := range names {
		names[i] = map[string]any{"family": fmt.Sprintf("f%d", i)}
	}
	p := patient(value)
	p["name"] = names
	return p
}

// warnings counts the log records of warning level and above.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnings) WithGroup(string) slog.Handler                { return w }

func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, r.Message)
	return nil
}

func (w *warnings) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

// startLogged starts a stack whose store logs to the returned warnings.
func startLogged(t *testing.T) (*apitest.Server, *warnings) {
	t.Helper()
	w := &warnings{}
	s := apitest.Start(t, apitest.Options{Store: func(o *mongo.Options) { o.Logger = slog.New(w) }})
	return s, w
}

// wantRecoverQuiet runs the store's recovery twice: it must find nothing unfinished, and log nothing.
func wantRecoverQuiet(t *testing.T, s *apitest.Server, w *warnings) {
	t.Helper()
	for range 2 {
		if err := s.Store.Recover(context.Background()); err != nil {
			t.Fatalf("Recover: %v", err)
		}
	}
	if msgs := w.list(); len(msgs) > 0 {
		t.Errorf("the store logged %q", msgs)
	}
}

func TestWrite_TooLarge_413_NothingStored(t *testing.T) {
	s, w := startLogged(t)
	existing := create(t, s, patient(unique("big")))
	big := longFamily(unique("big"), 3_000_000)
	for _, tc := range []struct {
		name, method, id string
		body             map[string]any
		mention          []string
	}{
		{"create", http.MethodPost, "", big, []string{"Patient/", "too large", documentLimit}},
		{"update creating", http.MethodPut, "big-new", big, []string{"Patient/big-new", "too large", documentLimit}},
		{"update", http.MethodPut, existing, big, []string{"Patient/" + existing, "too large", documentLimit}},
		{"create with 200,000 names", http.MethodPost, "", manyNames(unique("many"), 200_000), []string{"Patient/", "search index values", valuesLimit}},
		{"update with 20,000 names", http.MethodPut, existing, manyNames(unique("many"), 20_000), []string{"search index values", valuesLimit}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := historyLen(t, s, "/_history")
			path := "/Patient"
			if tc.id != "" {
				path += "/" + tc.id
				tc.body["id"] = tc.id
			}
			wantOutcome(t, s.Do(t, tc.method, path, tc.body), http.StatusRequestEntityTooLarge, tc.mention...)
			if n := historyLen(t, s, "/_history"); n != before {
				t.Errorf("the refused write left %d versions in the history", n-before)
			}
			switch tc.id {
			case "":
			case existing:
				if v := versionID(read(t, s, "Patient", existing)); v != "1" {
					t.Errorf("Patient/%s is at version %s, want 1", existing, v)
				}
			default:
				wantOutcome(t, s.Do(t, http.MethodGet, path, nil), http.StatusNotFound)
				wantOutcome(t, s.Do(t, http.MethodGet, path+"/_history", nil), http.StatusNotFound)
			}
		})
	}
	// Nothing is left half done: the resource takes the next version, If-Match on the current one included.
	small := patient(unique("small"))
	small["id"] = existing
	wantStatus(t, s.Do(t, http.MethodPut, "/Patient/"+existing, small, "If-Match", `W/"1"`), http.StatusOK, "update after the refusals")
	wantRecoverQuiet(t, s, w)
}

func TestTransaction_TooLargeEntry_NothingCommitted(t *testing.T) {
	s, w := startLogged(t)
	value := unique("tx")
	before := historyLen(t, s, "/_history")
	b := bundle("transaction",
		entry("", map[string]any{"resourceType": "Patient", "id": "tx-small"}, "method", "PUT", "url", "Patient/tx-small"),
		entry("", longFamily(value, 3_000_000), "method", "POST", "url", "Patient"),
	)
	wantOutcome(t, s.Do(t, http.MethodPost, "/", b), http.StatusRequestEntityTooLarge, "Bundle.entry[1]", "too large", documentLimit)
	if n := historyLen(t, s, "/_history"); n != before {
		t.Errorf("the refused transaction left %d versions in the history", n-before)
	}
	wantOutcome(t, s.Do(t, http.MethodGet, "/Patient/tx-small", nil), http.StatusNotFound)
	if n := countMatches(t, s, value); n != 0 {
		t.Errorf("the refused transaction created the large Patient")
	}
	wantRecoverQuiet(t, s, w)
}

func TestBatch_TooLargeEntry_FailsAlone(t *testing.T) {
	s, w := startLogged(t)
	first, big, last := unique("b"), unique("b"), unique("b")
	entries := responseEntries(t, s, bundle("batch",
		entry("", patient(first), "method", "POST", "url", "Patient"),
		entry("", longFamily(big, 3_000_000), "method", "POST", "url", "Patient"),
		entry("", manyNames(big, 20_000), "method", "POST", "url", "Patient"),
		entry("", patient(last), "method", "POST", "url", "Patient"),
	))
	for i, want := range []string{"201", "413", "413", "201"} {
		wantEntryStatus(t, entries, i, want)
	}
	for i, limit := range map[int]string{1: documentLimit, 2: valuesLimit} {
		if text := fmt.Sprint(get(entries[i], "response", "outcome")); !strings.Contains(text, limit) {
			t.Errorf("entry %d: the outcome does not state the limit %s: %s", i, limit, text)
		}
	}
	for value, want := range map[string]int{first: 1, big: 0, last: 1} {
		if n := countMatches(t, s, value); n != want {
			t.Errorf("%d Patients of %s stored, want %d", n, value, want)
		}
	}
	wantRecoverQuiet(t, s, w)
}

func TestWrite_LargeButWithinTheLimits_Stored(t *testing.T) {
	s := apitest.Start(t)
	narrative := patient(unique("large"))
	narrative["text"] = map[string]any{"status": "generated",
		"div": `<div xmlns="http://www.w3.org/1999/xhtml">` + strings.Repeat("Notes. ", 300_000) + `</div>`}
	letter := map[string]any{"resourceType": "DocumentReference", "status": "current",
		"content": []any{map[string]any{"attachment": map[string]any{"contentType": "application/pdf",
			"data": strings.Repeat("QUJD", 1_000_000)}}}} // 4 MB of base64
	for _, tc := range []struct {
		name   string
		body   map[string]any
		search string // a search that finds it, if any
	}{
		{"2 MB of narrative", narrative, ""},
		{"1 MB family name", longFamily(unique("large"), 1_000_000), "family=dddd"},
		{"4 MB attachment", letter, ""},
		{"1,000 names", manyNames(unique("large"), 1_000), "family=f999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ := tc.body["resourceType"].(string)
			id := create(t, s, tc.body)
			got := read(t, s, typ, id)
			for _, k := range []string{"text", "name", "content"} {
				if want, g := fmt.Sprint(tc.body[k]), fmt.Sprint(got[k]); want != g {
					t.Errorf("%s read back differs (%d characters, want %d)", k, len(g), len(want))
				}
			}
			if tc.search != "" {
				page := parseSearchSet(t, s.Do(t, http.MethodGet, "/"+typ+"?"+tc.search+"&_elements=id", nil))
				if len(page.matches) != 1 || page.matches[0] != typ+"/"+id {
					t.Errorf("%s found %v, want %s/%s", tc.search, page.matches, typ, id)
				}
			}
		})
	}
}
