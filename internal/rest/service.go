package rest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/store"
)

// Validator checks a resource on every write (and for $validate): the validation pipeline of design.md.
// Issues carrying a Clause or a Profile come from the profiles (Accord's, or those a resource claims), and errors
// of code processing from the profile step (an unknown meta.profile): HTTP 422; other errors are basic FHIR
// validation (400).
type Validator interface {
	Validate(ctx context.Context, obj fhir.Object) []fhir.Issue
}

// Searcher finds the current resources of a type that match FHIR search parameters; conditional interactions
// and conditional references use it. ClaimKey returns the canonical key of a conditional create on params, or ""
// when the parameters cannot be claimed (the create then relies on the search alone).
type Searcher interface {
	Match(ctx context.Context, typ string, params url.Values) ([]fhir.Resource, error)
	ClaimKey(typ string, params url.Values) string
	// Search runs a search interaction: parameters, paging and result parameters. restrict are conditions that
	// every match must also meet (the caller's organisation scoping, see auth.Visibility.Conds): the searcher adds
	// them to its query, so that totals and pages count only what the caller may see. The Service checks the
	// _include and _revinclude resources itself.
	Search(ctx context.Context, typ string, params url.Values, restrict []store.Cond) (SearchPage, error)
	// Params lists the search parameters supported for typ, for the CapabilityStatement.
	Params(typ string) []SearchParam
}

// SearchParam describes a supported search parameter.
type SearchParam struct {
	Name, Type, Definition, Documentation string
}

// SearchPage is one page of a search: the matches, the resources they include, the total (-1 when not
// counted), the parameters of the next and previous pages (nil when none) and warnings about the search.
type SearchPage struct {
	Matches    []fhir.Resource
	Included   []fhir.Resource
	Total      int
	Self       url.Values
	Next, Prev url.Values
	Issues     []fhir.Issue
}

// Options configure a Service; DefaultOptions gives the defaults.
type Options struct {
	// MaxDepth limits the nesting of JSON in a resource.
	MaxDepth int
	// NewID makes server-assigned ids.
	NewID func() string
	// ClaimLease is how long a conditional-create claim whose resource does not exist is honoured.
	ClaimLease time.Duration
	// ClaimWait is how long a conditional create waits for a concurrent creator's resource to appear.
	ClaimWait time.Duration
	// Scoping decides organisation-scoped access; nil makes one reading the store. Give the store indexer's
	// (auth.Indexer.Scoping) so that access shares its caches, which the store's writes keep current.
	Scoping *auth.Scoping
}

// DefaultOptions returns the defaults: depth 64, UUID ids, a 30 s claim lease and a 10 s wait.
func DefaultOptions() Options {
	return Options{MaxDepth: fhir.MaxDepth, NewID: uuid.NewString, ClaimLease: 30 * time.Second, ClaimWait: 10 * time.Second}
}

// Service performs FHIR interactions. It is safe for concurrent use.
type Service struct {
	store    store.Store
	validate Validator
	search   Searcher
	opts     Options
	scoping  *auth.Scoping
}

// New returns a Service over st; v validates every write and s resolves conditional interactions.
func New(st store.Store, v Validator, s Searcher, opts Options) *Service {
	if opts.NewID == nil {
		opts.NewID = uuid.NewString
	}
	if opts.MaxDepth == 0 {
		opts.MaxDepth = fhir.MaxDepth
	}
	scoping := opts.Scoping
	if scoping == nil {
		scoping = auth.NewScoping(st)
	}
	return &Service{store: st, validate: v, search: s, opts: opts, scoping: scoping}
}

// Outcome is the result of a write.
type Outcome struct {
	Resource fhir.Resource
	// Created: a new resource (201); otherwise an update (200), or for conditional create an existing match (200).
	Created bool
	// Existing: a conditional create matched an existing resource and wrote nothing.
	Existing bool
	// Noop: a delete that found nothing to delete.
	Noop bool
	// Issues are the warnings and information from validation.
	Issues []fhir.Issue
}

// Read returns the current version of typ/id: store.ErrNotFound, or store.ErrGone for a deleted one.
func (s *Service) Read(ctx context.Context, typ, id string) (fhir.Resource, error) {
	if err := checkTypeID(typ, id); err != nil {
		return fhir.Resource{}, err
	}
	return s.readAs(ctx, typ, id)
}

// VRead returns one version of typ/id; a deleted version is returned with store.ErrGone.
func (s *Service) VRead(ctx context.Context, typ, id, vid string) (fhir.Resource, error) {
	if err := checkTypeID(typ, id); err != nil {
		return fhir.Resource{}, err
	}
	if err := s.checkSees(ctx, typ, id, auth.InteractionVRead); err != nil {
		return fhir.Resource{}, err
	}
	r, err := s.store.VRead(ctx, typ, id, vid)
	if err == nil {
		audit.Touch(ctx, typ+"/"+id+"/_history/"+r.VersionID)
	}
	if err == nil && r.Deleted {
		return r, fmt.Errorf("vread %s/%s/%s: %w", typ, id, vid, store.ErrGone)
	}
	return r, err
}

// Search runs a search interaction on typ.
func (s *Service) Search(ctx context.Context, typ string, params url.Values) (SearchPage, error) {
	if !fhir.IsResourceType(typ) {
		return SearchPage{}, unknownType(typ)
	}
	return s.searchAs(ctx, typ, params)
}

// SearchParams lists the search parameters supported for typ.
func (s *Service) SearchParams(typ string) []SearchParam { return s.search.Params(typ) }

// History returns a page of versions, newest first.
func (s *Service) History(ctx context.Context, q store.HistoryQuery) (store.HistoryPage, error) {
	if q.Type != "" && !fhir.IsResourceType(q.Type) {
		return store.HistoryPage{}, unknownType(q.Type)
	}
	if q.ID != "" && !fhir.ValidID(q.ID) {
		return store.HistoryPage{}, badID(q.ID)
	}
	return s.historyAs(ctx, q)
}

// Create stores a new resource with a server-assigned id (an id in the body is ignored, as R4 says). With
// ifNoneExist (a search query string) it creates only when nothing matches: one match is returned unchanged,
// several fail with ErrPreconditionFailed.
func (s *Service) Create(ctx context.Context, typ string, body []byte, ifNoneExist string) (Outcome, error) {
	obj, issues, err := s.parse(ctx, typ, "", body)
	if err != nil {
		return Outcome{}, err
	}
	w := store.Write{Type: typ, ID: s.opts.NewID(), Object: obj, Method: "POST", New: true}
	if ifNoneExist == "" {
		return s.commitOne(ctx, w, issues)
	}
	params, err := parseQuery(ifNoneExist, "If-None-Exist")
	if err != nil {
		return Outcome{}, err
	}
	return s.conditionalCreate(ctx, w, params, issues)
}

// conditionalCreate creates w unless params match a resource, using a claim so that concurrent creates with the
// same criteria make one resource.
func (s *Service) conditionalCreate(ctx context.Context, w store.Write, params url.Values, issues []fhir.Issue) (Outcome, error) {
	w.Claim = s.search.ClaimKey(w.Type, params)
	deadline := time.Now().Add(s.opts.ClaimWait)
	for {
		match, hidden, err := s.matchOne(ctx, w.Type, params)
		switch {
		case err != nil:
			return Outcome{}, err
		case hidden:
			return Outcome{}, hiddenMatch(w.Type)
		}
		if match != nil {
			if err := s.revealMatch(ctx, *match); err != nil {
				return Outcome{}, err
			}
			return Outcome{Resource: *match, Existing: true, Issues: issues}, nil
		}
		out, err := s.commitOne(ctx, w, issues)
		var held *store.ClaimedError
		if !errors.As(err, &held) {
			return out, err
		}
		if err := s.settleClaim(ctx, held, params); err != nil {
			return Outcome{}, err
		}
		if time.Now().After(deadline) {
			return Outcome{}, fmt.Errorf("conditional create of %s: waited too long for %s: %w", w.Type, held.Ref, store.ErrConflict)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settleClaim releases a claim whose holder no longer matches params, the claim's criteria (deleted, changed, or
// never written). With nil params, a holder that exists is left alone.
func (s *Service) settleClaim(ctx context.Context, held *store.ClaimedError, params url.Values) error {
	typ, id, _ := cutRef(held.Ref)
	_, err := s.store.Read(ctx, typ, id)
	switch {
	case errors.Is(err, store.ErrNotFound) && time.Since(held.At) < s.opts.ClaimLease:
		return nil // its creator is still at work: wait
	case err == nil && params != nil:
		// It exists: if it matches, it became current after our search, and the next search finds it; if it does
		// not, its identifier changed and the claim is stale.
		found, err := s.search.Match(ctx, typ, params)
		if err != nil || slices.ContainsFunc(found, func(r fhir.Resource) bool { return r.ID == id }) {
			return err
		}
		return s.store.ReleaseClaim(ctx, held.Key, held.Ref)
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrGone):
		return s.store.ReleaseClaim(ctx, held.Key, held.Ref)
	}
	return err
}

// matchOne returns the one resource matching params that the caller may see, nil for none, ErrPreconditionFailed
// for several. Resources the caller may not see take no part: they are neither matched nor counted. When none it
// may see matches, hidden reports whether some it may not see do (a conditional create or update must not make
// another resource with their identifier); nothing else of them is told.
func (s *Service) matchOne(ctx context.Context, typ string, params url.Values) (m *fhir.Resource, hidden bool, err error) {
	visible, restricted, err := s.visibleContext(ctx)
	if err != nil {
		return nil, false, err
	}
	found, err := s.search.Match(visible, typ, params)
	if err != nil {
		return nil, false, err
	}
	switch len(found) {
	case 0:
		if !restricted {
			return nil, false, nil
		}
		all, err := s.search.Match(ctx, typ, params)
		return nil, len(all) > 0, err
	case 1:
		return &found[0], false, nil
	}
	return nil, false, fmt.Errorf("%d %s resources match the criteria: %w", len(found), typ, store.ErrPreconditionFailed)
}

// Update stores a new version of typ/id, creating it when it does not exist (update as create). ifMatch, when
// not empty, is the version the current one must be.
func (s *Service) Update(ctx context.Context, typ, id string, body []byte, ifMatch string) (Outcome, error) {
	return s.update(ctx, typ, id, body, ifMatch, "")
}

// update is Update, taking the conditional-create claim when claim is not empty.
func (s *Service) update(ctx context.Context, typ, id string, body []byte, ifMatch, claim string) (Outcome, error) {
	if err := checkTypeID(typ, id); err != nil {
		return Outcome{}, err
	}
	obj, issues, err := s.parse(ctx, typ, id, body)
	if err != nil {
		return Outcome{}, err
	}
	return s.commitOne(ctx, store.Write{Type: typ, ID: id, Object: obj, IfMatch: ifMatch, Method: "PUT", Claim: claim}, issues)
}

// ConditionalUpdate updates the one resource matching query; with no match it creates one (with the body's id,
// if any) under a claim on query, so that concurrent conditional updates and creates with the same criteria make
// one resource; several matches fail with ErrPreconditionFailed.
func (s *Service) ConditionalUpdate(ctx context.Context, typ string, query url.Values, body []byte, ifMatch string) (Outcome, error) {
	if !fhir.IsResourceType(typ) {
		return Outcome{}, unknownType(typ)
	}
	obj, err := fhir.DecodeObject(body, s.opts.MaxDepth)
	if err != nil {
		return Outcome{}, err
	}
	bodyID, _ := obj["id"].(string)
	deadline := time.Now().Add(s.opts.ClaimWait)
	for {
		match, hidden, err := s.matchOne(ctx, typ, query)
		switch {
		case err != nil:
			return Outcome{}, err
		case hidden:
			return Outcome{}, hiddenMatch(typ)
		}
		id, claim := bodyID, ""
		switch {
		case match != nil && bodyID != "" && bodyID != match.ID:
			return Outcome{}, fhir.Errorf(fhir.IssueInvalid, typ+".id", "the resource id %q is not the id of the resource that matches the criteria", bodyID)
		case match != nil:
			id = match.ID
		default:
			if id == "" {
				id = s.opts.NewID()
			}
			claim = s.search.ClaimKey(typ, query)
		}
		out, err := s.update(ctx, typ, id, withID(body, obj, id), ifMatch, claim)
		var held *store.ClaimedError
		if !errors.As(err, &held) {
			return out, err
		}
		if err := s.settleClaim(ctx, held, query); err != nil {
			return Outcome{}, err
		}
		if time.Now().After(deadline) {
			return Outcome{}, fmt.Errorf("conditional update of %s: waited too long for %s: %w", typ, held.Ref, store.ErrConflict)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Delete deletes typ/id; deleting what does not exist or is already deleted succeeds with Noop.
func (s *Service) Delete(ctx context.Context, typ, id, ifMatch string) (Outcome, error) {
	if err := checkTypeID(typ, id); err != nil {
		return Outcome{}, err
	}
	return s.commitOne(ctx, store.Write{Type: typ, ID: id, IfMatch: ifMatch, Method: "DELETE"}, nil)
}

// ConditionalDelete deletes the one resource matching query; none is a Noop; several fail with
// ErrPreconditionFailed.
func (s *Service) ConditionalDelete(ctx context.Context, typ string, query url.Values) (Outcome, error) {
	if !fhir.IsResourceType(typ) {
		return Outcome{}, unknownType(typ)
	}
	match, _, err := s.matchOne(ctx, typ, query)
	if err != nil {
		return Outcome{}, err
	}
	if match == nil { // also when only resources the caller may not see match: it deletes nothing of theirs
		return Outcome{Noop: true}, nil
	}
	return s.Delete(ctx, typ, match.ID, "")
}

// Validate runs the validation pipeline on a resource without storing it; id, when given, must be the body's.
func (s *Service) Validate(ctx context.Context, typ, id string, body []byte) ([]fhir.Issue, error) {
	obj, err := fhir.DecodeObject(body, s.opts.MaxDepth)
	if err != nil {
		return nil, err
	}
	return s.ValidateObject(ctx, typ, id, obj)
}

// ValidateObject is Validate on a decoded resource: identity issues and the pipeline's issues, as a list.
func (s *Service) ValidateObject(ctx context.Context, typ, id string, obj fhir.Object) ([]fhir.Issue, error) {
	if err := checkIdentity(typ, id, obj, id != ""); err != nil {
		fe, _ := fhir.AsError(err)
		return fe.Issues, nil
	}
	return s.validate.Validate(ctx, obj), nil
}

// clauseFindings are the warnings of issues that carry a Consensus clause: rules at warning level, which the
// ledger records as findings.
func clauseFindings(issues []fhir.Issue) []fhir.Issue {
	var out []fhir.Issue
	for _, is := range issues {
		if is.Clause != "" && is.Severity == fhir.SeverityWarning {
			out = append(out, is)
		}
	}
	return out
}

func (s *Service) commitOne(ctx context.Context, w store.Write, issues []fhir.Issue) (Outcome, error) {
	if w.Findings == nil {
		w.Findings = clauseFindings(issues)
	}
	if err := s.authorizeWrite(ctx, w, nil); err != nil {
		return Outcome{}, err
	}
	res, err := s.store.Commit(ctx, []store.Write{w})
	if err != nil {
		return Outcome{}, err
	}
	touchWritten(ctx, res)
	return Outcome{Resource: res[0].Resource, Created: res[0].Created, Noop: res[0].Noop, Issues: issues}, nil
}

// parse decodes and validates the body of a create (id "") or an update of id.
func (s *Service) parse(ctx context.Context, typ, id string, body []byte) (fhir.Object, []fhir.Issue, error) {
	if !fhir.IsResourceType(typ) {
		return nil, nil, unknownType(typ)
	}
	if _, err := s.authorize(ctx, typ, parseInteraction(id)); err != nil { // before validation says anything
		return nil, nil, err
	}
	if err := s.reserved(typ, id); err != nil {
		return nil, nil, err
	}
	obj, err := fhir.DecodeObject(body, s.opts.MaxDepth)
	if err != nil {
		return nil, nil, err
	}
	if err := checkIdentity(typ, id, obj, id != ""); err != nil {
		return nil, nil, err
	}
	if id == "" {
		delete(obj, "id")
	}
	issues := s.validate.Validate(ctx, obj)
	if err := issuesError(issues); err != nil {
		return nil, nil, err
	}
	return obj, issues, nil
}

// reserved returns the store's refusal of any write to typ/id (store.Guard), nil when it has none.
func (s *Service) reserved(typ, id string) error {
	if g, ok := s.store.(store.Guard); ok && id != "" {
		return g.Reserved(typ, id)
	}
	return nil
}

// issuesError turns issues with errors into an *fhir.Error: 422 (processing) when a profile's rule failed (a
// Consensus rule, or one of a profile the resource claims) or the resource claims a profile that is not known
// (an error of code processing), 400 (structure) for basic FHIR validation.
func issuesError(issues []fhir.Issue) error {
	if !fhir.HasErrors(issues) {
		return nil
	}
	code := fhir.IssueStructure
	for _, is := range issues {
		profile := is.Clause != "" || is.Profile != "" || is.Code == fhir.IssueProcessing
		if profile && (is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal) {
			code = fhir.IssueProcessing
		}
	}
	return &fhir.Error{Code: code, Issues: issues}
}
