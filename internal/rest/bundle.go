package rest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/store"
)

// EntryError is the failure of one Bundle entry; Index is its position in the request Bundle.
type EntryError struct {
	Index int
	Err   error
}

func (e *EntryError) Error() string { return fmt.Sprintf("Bundle.entry[%d]: %v", e.Index, e.Err) }

// Unwrap returns the entry's error.
func (e *EntryError) Unwrap() error { return e.Err }

// Expression is the FHIRPath of the failed entry.
func (e *EntryError) Expression() string { return fmt.Sprintf("Bundle.entry[%d]", e.Index) }

// EntryResult is what one Bundle entry did: a write's Outcome, a read's Resource, or (in a batch) its Err.
type EntryResult struct {
	Method   string
	Outcome  Outcome
	Resource *fhir.Resource
	// Search is the result of a GET entry that searches (Type?criteria); SearchType is its resource type.
	Search     *SearchPage
	SearchType string
	// History is the page of a GET entry of history (Type/id/_history, Type/_history or _history), read with
	// HistoryQuery.
	History      *store.HistoryPage
	HistoryQuery store.HistoryQuery
	// Capabilities reports a GET metadata entry, answered with the server's CapabilityStatement.
	Capabilities bool
	Err          error
}

// BundleResult is the processing of a batch or transaction: Type is "batch" or "transaction".
type BundleResult struct {
	Type    string
	Entries []EntryResult
}

// entry is one request entry being processed.
type entry struct {
	index       int
	method      string
	typ, id     string
	vid         string
	query       url.Values
	fullURL     string
	obj         fhir.Object
	ifMatch     string
	ifNoneExist url.Values
	claim       url.Values // the criteria a create under conditions claims (ifNoneExist, or a conditional PUT's)
	patch       []byte
	existing    *fhir.Resource
	noop        bool
	issues      []fhir.Issue
	history     *store.HistoryQuery // a GET of history
	metadata    bool                // a GET of the CapabilityStatement
}

// Bundle processes a batch or transaction Bundle. A transaction is all or nothing: its error is an *EntryError
// (or an *fhir.Error about the Bundle itself) and nothing is written. A batch processes each entry on its own and
// reports each entry's error in its EntryResult.
func (s *Service) Bundle(ctx context.Context, body []byte) (BundleResult, error) {
	for attempt := 1; ; attempt++ {
		kind, entries, parseErrs, err := s.parseBundle(body, BaseURLFrom(ctx))
		if err != nil {
			return BundleResult{}, err
		}
		audit.SetInteraction(ctx, kind)
		if kind == "batch" {
			return BundleResult{Type: kind, Entries: s.batch(ctx, entries, parseErrs)}, nil
		}
		results, err := s.transaction(ctx, entries)
		var held *store.ClaimedError
		if !errors.As(err, &held) {
			return BundleResult{Type: kind, Entries: results}, err
		}
		// A concurrent conditional create holds a claim this transaction needs: settle it and start again from
		// the request, so that the conditional create finds that resource.
		if err := s.settleClaim(ctx, held, s.claimParams(entries, held.Key)); err != nil {
			return BundleResult{}, err
		}
		if attempt == maxBundleAttempts {
			return BundleResult{}, fmt.Errorf("transaction: %w", store.ErrConflict)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// claimParams returns the criteria of the entry that claims key, nil when none does.
func (s *Service) claimParams(entries []*entry, key string) url.Values {
	for _, e := range entries {
		if e != nil && e.claim != nil && s.search.ClaimKey(e.typ, e.claim) == key {
			return e.claim
		}
	}
	return nil
}

// maxBundleAttempts bounds the restarts of a transaction that meets held claims.
const maxBundleAttempts = 50

// parseBundle decodes a batch or transaction; a transaction fails on its first bad entry, a batch keeps each
// entry's error. base is the service's base URL, which absolute request urls must start with.
func (s *Service) parseBundle(body []byte, base string) (string, []*entry, []error, error) {
	obj, err := fhir.DecodeObject(body, s.opts.MaxDepth)
	if err != nil {
		return "", nil, nil, err
	}
	if err := checkIdentity("Bundle", "", obj, false); err != nil {
		return "", nil, nil, err
	}
	kind, _ := obj["type"].(string)
	if kind != "batch" && kind != "transaction" {
		return "", nil, nil, fhir.Errorf(fhir.IssueInvalid, "Bundle.type", "a Bundle posted to the base must be of type batch or transaction, not %q", truncate(kind, 40))
	}
	rawEntries, ok := obj["entry"].([]any)
	if !ok && obj["entry"] != nil {
		return "", nil, nil, fhir.Errorf(fhir.IssueStructure, "Bundle.entry", "Bundle.entry must be an array")
	}
	entries := make([]*entry, len(rawEntries))
	parseErrs := make([]error, len(rawEntries))
	fullURLs := map[string]int{}
	for i, raw := range rawEntries {
		e, err := parseEntry(i, raw, base)
		entries[i], parseErrs[i] = e, err
		if err != nil && kind == "transaction" {
			return "", nil, nil, err
		}
		if e != nil && e.fullURL != "" {
			if j, dup := fullURLs[e.fullURL]; dup {
				return "", nil, nil, fhir.Errorf(fhir.IssueInvalid, fmt.Sprintf("Bundle.entry[%d].fullUrl", i), "the fullUrl is the same as that of Bundle.entry[%d]", j)
			}
			fullURLs[e.fullURL] = i
		}
	}
	return kind, entries, parseErrs, nil
}

func entryErr(i int, code fhir.IssueType, path, format string, args ...any) error {
	expr := fmt.Sprintf("Bundle.entry[%d]", i)
	if path != "" {
		expr += "." + path
	}
	return &EntryError{Index: i, Err: fhir.Errorf(code, expr, format, args...)}
}

// parseEntry reads an entry's request and resource.
func parseEntry(i int, raw any, base string) (*entry, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, entryErr(i, fhir.IssueStructure, "", "a Bundle entry must be an object")
	}
	e := &entry{index: i}
	e.fullURL, _ = m["fullUrl"].(string)
	req, ok := m["request"].(map[string]any)
	if !ok {
		return e, entryErr(i, fhir.IssueRequired, "request", "a batch or transaction entry needs a request")
	}
	e.method, _ = req["method"].(string)
	rawURL, _ := req["url"].(string)
	if rawURL == "" {
		return e, entryErr(i, fhir.IssueRequired, "request.url", "the entry's request has no url")
	}
	e.ifMatch = etagVersion(str(req["ifMatch"]))
	if q := str(req["ifNoneExist"]); q != "" {
		v, err := parseQuery(q, "ifNoneExist")
		if err != nil {
			return e, &EntryError{Index: i, Err: err}
		}
		e.ifNoneExist = v
	}
	if err := e.parseURL(rawURL, base); err != nil {
		return e, err
	}
	if (e.history != nil || e.metadata) && slices.Contains([]string{"POST", "PUT", "PATCH", "DELETE"}, e.method) {
		return e, entryErr(i, fhir.IssueNotSupported, "request.url", "history and metadata can only be read (GET), not %s", e.method)
	}
	if res, ok := m["resource"].(map[string]any); ok {
		e.obj = res
	}
	switch e.method {
	case "POST", "PUT":
		if e.obj == nil {
			return e, entryErr(i, fhir.IssueRequired, "resource", "a %s entry needs a resource", e.method)
		}
		if err := checkIdentity(e.typ, "", e.obj, false); err != nil {
			return e, &EntryError{Index: i, Err: err}
		}
	case "PATCH":
		p, err := patchBody(e.obj)
		if err != nil {
			return e, entryErr(i, fhir.IssueNotSupported, "resource", "%v", err)
		}
		e.patch = p
	case "GET", "HEAD", "DELETE":
	default:
		return e, entryErr(i, fhir.IssueInvalid, "request.method", "%q is not a method of a Bundle entry", truncate(e.method, 20))
	}
	return e, nil
}

// parseURL reads the url of an entry's request, relative to the service's base: "Type", "Type/id",
// "Type/id/_history/vid", "Type?query", and to read history and the CapabilityStatement "Type/id/_history",
// "Type/_history", "_history" and "metadata". An absolute url must start with base (and is then read as relative);
// any other absolute url names another server, and is refused.
func (e *entry) parseURL(raw, base string) error {
	rel, ok := relativeToBase(raw, base)
	if !ok {
		return entryErr(e.index, fhir.IssueInvalid, "request.url", "the url %q is not on this server: an absolute url must start with the server's base (%s)", truncate(raw, 100), base)
	}
	path, query, _ := strings.Cut(rel, "?")
	if query != "" {
		v, err := url.ParseQuery(query)
		if err != nil {
			return entryErr(e.index, fhir.IssueInvalid, "request.url", "the url's query is malformed")
		}
		e.query = v
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(segs) == 1 && segs[0] == "metadata":
		e.metadata = true
		return nil
	case len(segs) == 1 && segs[0] == "_history":
		return e.parseHistory()
	case !fhir.IsResourceType(segs[0]):
		return entryErr(e.index, fhir.IssueNotFound, "request.url", "the url names no FHIR R4 resource type")
	}
	e.typ = segs[0]
	if len(segs) == 2 && segs[1] == "_history" {
		return e.parseHistory()
	}
	if len(segs) >= 2 {
		e.id = segs[1]
		if !fhir.ValidID(e.id) {
			return &EntryError{Index: e.index, Err: badID(e.id)}
		}
	}
	switch {
	case len(segs) == 3 && segs[2] == "_history":
		return e.parseHistory()
	case len(segs) == 4 && segs[2] == "_history":
		e.vid = segs[3]
	case len(segs) > 2:
		return entryErr(e.index, fhir.IssueNotSupported, "request.url", "the url is not of a supported form")
	}
	return nil
}

// parseHistory reads the parameters of a history entry.
func (e *entry) parseHistory() error {
	hq, err := ParseHistory(e.typ, e.id, e.query)
	if err != nil {
		return &EntryError{Index: e.index, Err: err}
	}
	e.history = &hq
	return nil
}

// patchBody returns the JSON Patch of a PATCH entry: a Binary of content type application/json-patch+json.
func patchBody(res fhir.Object) ([]byte, error) {
	if fhir.ResourceType(res) != "Binary" || !strings.HasPrefix(str(res["contentType"]), "application/json-patch+json") {
		return nil, errors.New("a PATCH entry must carry its JSON Patch as a Binary of contentType application/json-patch+json")
	}
	b, err := base64.StdEncoding.DecodeString(str(res["data"]))
	if err != nil {
		return nil, errors.New("the Binary data of a PATCH entry is not base64")
	}
	return b, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// etagVersion returns the version id in an ETag such as W/"3" (or the bare value).
func etagVersion(tag string) string {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
	return strings.Trim(tag, `"`)
}
