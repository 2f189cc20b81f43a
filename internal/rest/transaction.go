package rest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/store"
)

// batch processes each entry independently.
func (s *Service) batch(ctx context.Context, entries []*entry, parseErrs []error) []EntryResult {
	results := make([]EntryResult, len(entries))
	fullURLs := map[string]int{}
	for _, e := range entries {
		if e != nil && e.fullURL != "" {
			fullURLs[e.fullURL] = e.index
		}
	}
	for i, e := range entries {
		if parseErrs[i] != nil {
			results[i] = EntryResult{Err: parseErrs[i]}
			if e != nil {
				results[i].Method = e.method
			}
			continue
		}
		results[i] = s.batchEntry(ctx, e, fullURLs)
		if results[i].Err != nil && e.typ != "" && e.id != "" {
			audit.Refuse(ctx, e.typ+"/"+e.id) // refused on its own: who tried is found by its target
		}
	}
	return results
}

// batchEntry runs one entry of a batch; fullURLs are the fullUrls of the batch's entries.
func (s *Service) batchEntry(ctx context.Context, e *entry, fullURLs map[string]int) EntryResult {
	r := EntryResult{Method: e.method}
	if e.method == "GET" || e.method == "HEAD" {
		return s.getEntry(ctx, e)
	}
	if e.method == "POST" || e.method == "PUT" {
		if err := batchRefs(e.obj, e.typ, fullURLs); err != nil {
			return EntryResult{Method: e.method, Err: &EntryError{Index: e.index, Err: err}}
		}
	}
	var err error
	switch e.method {
	case "POST":
		body, merr := fhir.Marshal(e.obj)
		if merr != nil {
			err = merr
			break
		}
		ifNone := ""
		if e.ifNoneExist != nil {
			ifNone = e.ifNoneExist.Encode()
		}
		r.Outcome, err = s.Create(ctx, e.typ, body, ifNone)
	case "PUT":
		body, merr := fhir.Marshal(e.obj)
		if merr != nil {
			err = merr
			break
		}
		if e.id != "" {
			r.Outcome, err = s.Update(ctx, e.typ, e.id, body, e.ifMatch)
		} else {
			r.Outcome, err = s.ConditionalUpdate(ctx, e.typ, e.query, body, e.ifMatch)
		}
	case "PATCH": // what the patch makes is held to the same rule as a POST or PUT entry's resource
		w, issues, perr := s.patchWrite(ctx, e.typ, e.id, e.patch, e.ifMatch)
		if perr == nil {
			perr = batchRefs(w.Object, e.typ, fullURLs)
		}
		if perr != nil {
			err = perr
			break
		}
		r.Outcome, err = s.commitOne(ctx, w, issues)
	case "DELETE":
		if e.id != "" {
			r.Outcome, err = s.Delete(ctx, e.typ, e.id, e.ifMatch)
		} else {
			r.Outcome, err = s.ConditionalDelete(ctx, e.typ, e.query)
		}
	}
	if err != nil {
		r.Err = &EntryError{Index: e.index, Err: err}
	}
	return r
}

// batchRefs refuses a batch entry's resource (or what its patch makes) that refers to anything by urn:uuid or
// urn:oid, to another entry of the batch (by its fullUrl) or to nothing: the entries of a batch are independent
// ("there SHALL be no interdependencies between the different entries", R4 http.html#brules), so such a reference
// would be left dangling. The error has an issue for each such reference, naming its element
// (Observation.subject.reference).
func batchRefs(obj fhir.Object, typ string, fullURLs map[string]int) error {
	var issues []fhir.Issue
	walkRefs(obj, typ, func(ref, path string) {
		if !strings.HasPrefix(ref, "urn:uuid:") && !strings.HasPrefix(ref, "urn:oid:") {
			return
		}
		msg := fmt.Sprintf("the reference %q matches no fullUrl in the Bundle", truncate(ref, 100))
		if i, ok := fullURLs[ref]; ok {
			msg = fmt.Sprintf("the reference %q is the fullUrl of Bundle.entry[%d]: the entries of a batch are independent, "+
				"and references between them are not resolved (use a transaction)", truncate(ref, 100), i)
		}
		issues = append(issues, fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueInvalid, Details: msg, Expression: []string{path}})
	})
	if len(issues) == 0 {
		return nil
	}
	slices.SortFunc(issues, func(a, b fhir.Issue) int { return strings.Compare(a.Expression[0], b.Expression[0]) })
	return &fhir.Error{Code: fhir.IssueInvalid, Issues: issues}
}

// walkRefs calls fn with each Reference.reference in node and its path.
func walkRefs(node any, path string, fn func(ref, path string)) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if ref, ok := v.(string); ok && k == "reference" {
				fn(ref, path+"."+k)
				continue
			}
			walkRefs(v, path+"."+k, fn)
		}
	case []any:
		for i, v := range n {
			walkRefs(v, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

// getEntry runs a GET or HEAD entry: a read, vread, search, history, or the CapabilityStatement (which the
// caller renders).
func (s *Service) getEntry(ctx context.Context, e *entry) EntryResult {
	r := EntryResult{Method: e.method}
	var err error
	switch {
	case e.metadata:
		r.Capabilities = true
	case e.history != nil:
		var page store.HistoryPage
		page, err = s.History(ctx, *e.history)
		r.History, r.HistoryQuery = &page, *e.history
	case e.id == "":
		r.Search, r.SearchType, err = s.searchEntry(ctx, e)
	default:
		r.Resource, err = s.readEntry(ctx, e)
	}
	if err != nil {
		return EntryResult{Method: e.method, Err: asEntryError(e.index, err)}
	}
	return r
}

// searchEntry runs the search of a GET entry without an id (Type?criteria).
func (s *Service) searchEntry(ctx context.Context, e *entry) (*SearchPage, string, error) {
	page, err := s.Search(ctx, e.typ, e.query)
	if err != nil {
		return nil, e.typ, err
	}
	return &page, e.typ, nil
}

func (s *Service) readEntry(ctx context.Context, e *entry) (*fhir.Resource, error) {
	var r fhir.Resource
	var err error
	if e.vid != "" {
		r, err = s.VRead(ctx, e.typ, e.id, e.vid)
	} else {
		r, err = s.Read(ctx, e.typ, e.id)
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// transactionOrder is the order R4 processes a transaction's entries in.
var transactionOrder = []string{"DELETE", "POST", "PUT", "PATCH", "GET", "HEAD"}

// transaction resolves every entry, rewrites references between them, validates, and commits all writes at once.
func (s *Service) transaction(ctx context.Context, entries []*entry) ([]EntryResult, error) {
	ordered := slices.Clone(entries)
	slices.SortStableFunc(ordered, func(a, b *entry) int {
		return slices.Index(transactionOrder, a.method) - slices.Index(transactionOrder, b.method)
	})
	refs := map[string]string{}
	for _, e := range ordered {
		if err := s.resolveEntry(ctx, e, refs); err != nil {
			return nil, err
		}
	}
	var writes []store.Write
	var owners []*entry
	var ty typer
	for _, e := range entries {
		w, err := s.prepareWrite(ctx, e, refs, &ty)
		if err != nil {
			return nil, err
		}
		if w != nil {
			writes = append(writes, *w)
			owners = append(owners, e)
		}
	}
	if err := s.checkReads(ctx, entries, writes); err != nil {
		return nil, err
	}
	if err := s.authorizeWrites(ctx, writes, owners); err != nil {
		return nil, err
	}
	done, err := s.store.Commit(ctx, writes)
	if err != nil {
		return nil, entryOfWrite(err, writes, owners)
	}
	touchWritten(ctx, done)
	results := make([]EntryResult, len(entries))
	for i, res := range done {
		e := owners[i]
		results[e.index] = EntryResult{Method: e.method, Outcome: Outcome{Resource: res.Resource, Created: res.Created, Noop: res.Noop, Issues: e.issues}}
	}
	for _, e := range entries {
		switch {
		case e.existing != nil:
			results[e.index] = EntryResult{Method: e.method, Outcome: Outcome{Resource: *e.existing, Existing: true}}
		case e.noop:
			results[e.index] = EntryResult{Method: e.method, Outcome: Outcome{Noop: true}}
		case e.method == "GET" || e.method == "HEAD":
			// Reads, searches and history run after the writes, so that they see them. checkReads found them
			// possible; a concurrent delete since then fails this entry only, since the writes are committed.
			results[e.index] = s.getEntry(ctx, e)
		}
	}
	return results, nil
}

// checkReads fails the transaction, before anything is written, on a GET or HEAD entry that cannot succeed:
// a read of a resource the transaction does not write that cannot be read now, or of one it deletes.
func (s *Service) checkReads(ctx context.Context, entries []*entry, writes []store.Write) error {
	written := make(map[string]store.Write, len(writes))
	for _, w := range writes {
		written[w.Type+"/"+w.ID] = w
	}
	for _, e := range entries {
		if e.method != "GET" && e.method != "HEAD" || e.metadata {
			continue
		}
		if e.history != nil {
			if _, ok := written[e.typ+"/"+e.id]; ok && e.id != "" {
				continue // the history of a resource this transaction writes
			}
			if _, err := s.History(ctx, *e.history); err != nil {
				return asEntryError(e.index, err)
			}
			continue
		}
		if e.id == "" { // a search: fail now on a bad request; its results come after the writes
			if _, _, err := s.searchEntry(ctx, e); err != nil {
				return asEntryError(e.index, err)
			}
			continue
		}
		if w, ok := written[e.typ+"/"+e.id]; ok && e.vid == "" {
			if w.Object == nil {
				return &EntryError{Index: e.index, Err: fmt.Errorf("read %s/%s, which this transaction deletes: %w", e.typ, e.id, store.ErrGone)}
			}
			continue
		}
		if _, err := s.readEntry(ctx, e); err != nil {
			return asEntryError(e.index, err)
		}
	}
	return nil
}

// checkIfMatch fails an entry whose ifMatch is not the current version before anything is written, so that
// the error names the entry; the commit checks it again.
func (s *Service) checkIfMatch(ctx context.Context, e *entry) error {
	if e.ifMatch == "" {
		return nil
	}
	cur, err := s.store.Read(ctx, e.typ, e.id)
	if err != nil && !errors.Is(err, store.ErrGone) && !errors.Is(err, store.ErrNotFound) {
		return &EntryError{Index: e.index, Err: err}
	}
	if errors.Is(err, store.ErrNotFound) || cur.VersionID != e.ifMatch {
		return &EntryError{Index: e.index, Err: fmt.Errorf("%s/%s is not at version %q: %w", e.typ, e.id, e.ifMatch, store.ErrPreconditionFailed)}
	}
	return nil
}

// entryOfWrite names the entry of a commit error that is about one write (a resource too large to store).
func entryOfWrite(err error, writes []store.Write, owners []*entry) error {
	var tl *store.TooLargeError
	if !errors.As(err, &tl) {
		return err
	}
	for i, w := range writes {
		if w.Type+"/"+w.ID == tl.Ref {
			return asEntryError(owners[i].index, err)
		}
	}
	return err
}

func asEntryError(index int, err error) error {
	var ee *EntryError
	if errors.As(err, &ee) {
		return err
	}
	return &EntryError{Index: index, Err: err}
}

// resolveEntry settles which resource an entry writes (running conditional searches) and records its fullUrl.
func (s *Service) resolveEntry(ctx context.Context, e *entry, refs map[string]string) error {
	fail := func(err error) error { return &EntryError{Index: e.index, Err: err} }
	switch e.method {
	case "POST":
		if e.ifNoneExist != nil {
			m, hidden, err := s.matchOne(ctx, e.typ, e.ifNoneExist)
			switch {
			case err != nil:
				return fail(err)
			case hidden:
				return fail(hiddenMatch(e.typ))
			}
			if m != nil {
				if err := s.revealMatch(ctx, *m); err != nil {
					return fail(err)
				}
				e.existing = m
				refs[e.fullURL] = m.Reference()
				return nil
			}
			e.claim = e.ifNoneExist
		}
		e.id = s.opts.NewID()
	case "PUT", "DELETE":
		if e.id == "" {
			if e.query == nil {
				return entryErr(e.index, fhir.IssueInvalid, "request.url", "a %s entry needs an id or search criteria in its url", e.method)
			}
			m, hidden, err := s.matchOne(ctx, e.typ, e.query)
			if err != nil {
				return fail(err)
			}
			switch {
			case hidden && e.method == "PUT":
				return fail(hiddenMatch(e.typ))
			case m != nil:
				e.id = m.ID
			case e.method == "DELETE":
				e.noop = true
				return nil
			default:
				if e.id = str(e.obj["id"]); e.id == "" {
					e.id = s.opts.NewID()
				}
				e.claim = e.query
			}
		}
	case "PATCH":
		if e.id == "" {
			return entryErr(e.index, fhir.IssueNotSupported, "request.url", "a PATCH entry needs the id in its url")
		}
	}
	if e.fullURL != "" && e.id != "" {
		refs[e.fullURL] = e.typ + "/" + e.id
	}
	return nil
}

// prepareWrite rewrites an entry's references and validates its resource; it returns nil for entries that write
// nothing.
func (s *Service) prepareWrite(ctx context.Context, e *entry, refs map[string]string, ty *typer) (*store.Write, error) {
	if e.existing != nil || e.noop {
		return nil, nil
	}
	if e.method == "PUT" || e.method == "DELETE" {
		if err := s.checkIfMatch(ctx, e); err != nil {
			return nil, err
		}
	}
	switch e.method {
	case "DELETE":
		return &store.Write{Type: e.typ, ID: e.id, IfMatch: e.ifMatch, Method: "DELETE"}, nil
	case "PATCH":
		w, issues, err := s.patchWrite(ctx, e.typ, e.id, e.patch, e.ifMatch)
		if err != nil {
			return nil, &EntryError{Index: e.index, Err: err}
		}
		e.issues = issues
		w.Findings = clauseFindings(issues)
		return &w, nil
	case "POST", "PUT":
	default:
		return nil, nil
	}
	if err := s.rewriteRefs(ctx, e, refs, ty); err != nil {
		return nil, err
	}
	if e.method == "PUT" {
		if bodyID, _ := e.obj["id"].(string); bodyID != e.id && !(bodyID == "" && e.query != nil) {
			return nil, entryErr(e.index, fhir.IssueInvalid, "resource.id", "the resource id does not match the id the entry updates (%q)", e.id)
		}
	}
	e.obj["id"] = e.id
	issues := s.validate.Validate(ctx, e.obj)
	if err := issuesError(issues); err != nil {
		return nil, &EntryError{Index: e.index, Err: prefixIssues(err, e.index, e.typ)}
	}
	e.issues = issues
	w := &store.Write{Type: e.typ, ID: e.id, Object: e.obj, IfMatch: e.ifMatch, Method: e.method, New: e.method == "POST", Findings: clauseFindings(issues)}
	if e.claim != nil {
		w.Claim = s.search.ClaimKey(e.typ, e.claim)
	}
	return w, nil
}

// prefixIssues moves the expressions of a resource's issues under its Bundle entry.
func prefixIssues(err error, index int, typ string) error {
	fe, ok := fhir.AsError(err)
	if !ok {
		return err
	}
	out := &fhir.Error{Code: fe.Code}
	prefix := fmt.Sprintf("Bundle.entry[%d].resource", index)
	for _, is := range fe.Issues {
		exprs := make([]string, len(is.Expression))
		for j, x := range is.Expression {
			rest, found := strings.CutPrefix(x, typ)
			switch {
			case found && (rest == "" || rest[0] == '.' || rest[0] == '['):
				exprs[j] = prefix + rest
			default:
				exprs[j] = prefix + "." + x
			}
		}
		is.Expression = exprs
		out.Issues = append(out.Issues, is)
	}
	return out
}
