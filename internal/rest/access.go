package rest

import (
	"context"
	"errors"
	"strconv"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/store"
)

// Access control. Every interaction checks, through the principal in its context (auth.NewContext):
//   - its SMART scope on the resource type (403), entry by entry in batches and transactions;
//   - for provider and GP systems, organisation scoping (auth.Scoping): a resource its organisations may not see is
//     not found (404), searches are restricted in the query, and writes must be made as one of its organisations
//     (403). A resource's visibility is decided by its current version (for a deleted one, its last live version).
// Analysts read the ledger views, not clinical resources (403); AuditEvents are written by the server only.

// principal returns the caller; a context without one is refused as unauthenticated.
func principal(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return auth.Principal{}, fhir.Errorf(fhir.IssueLogin, "", "the request is not authenticated")
	}
	return p, nil
}

// caller returns the principal of a FHIR interaction: authenticated, and not an analyst.
func caller(ctx context.Context) (auth.Principal, error) {
	p, err := principal(ctx)
	if err == nil && p.Role == auth.RoleAnalyst && !p.Unrestricted {
		err = fhir.Errorf(fhir.IssueForbidden, "", "analysts read the ledger and compliance views, not clinical resources")
	}
	return p, err
}

// authorize checks that the caller may perform in on typ.
func (s *Service) authorize(ctx context.Context, typ string, in auth.Interaction) (auth.Principal, error) {
	p, err := caller(ctx)
	if err != nil {
		return p, err
	}
	if typ == "AuditEvent" && isWrite(in) {
		return p, fhir.Errorf(fhir.IssueForbidden, "", "AuditEvent resources are written by the server only: every request is audited")
	}
	return p, p.Check(typ, in)
}

func isWrite(in auth.Interaction) bool {
	switch in {
	case auth.InteractionCreate, auth.InteractionUpdate, auth.InteractionPatch, auth.InteractionDelete:
		return true
	}
	return false
}

// readAs reads the current version of typ/id for the caller: scope, then visibility. A deletion the caller may
// see gives store.ErrGone; a resource it may not see is not found.
func (s *Service) readAs(ctx context.Context, typ, id string) (fhir.Resource, error) {
	p, err := s.authorize(ctx, typ, auth.InteractionRead)
	if err != nil {
		return fhir.Resource{}, err
	}
	r, err := s.store.Read(ctx, typ, id)
	if err != nil && !errors.Is(err, store.ErrGone) {
		return r, err
	}
	if verr := s.reveal(ctx, p, r); verr != nil {
		return fhir.Resource{}, verr
	}
	if err == nil {
		audit.Touch(ctx, r.Type+"/"+r.ID+"/_history/"+r.VersionID)
	}
	return r, err
}

// checkSees checks the scope of in on typ and, for a provider or GP system, that it may see typ/id (404
// otherwise): vread and instance history, which do not read the current version themselves.
func (s *Service) checkSees(ctx context.Context, typ, id string, in auth.Interaction) error {
	p, err := s.authorize(ctx, typ, in)
	if err != nil || !auth.Restricted(p) || s.scoping.Shared(typ) {
		return err
	}
	cur, err := s.store.Read(ctx, typ, id)
	if err != nil && !errors.Is(err, store.ErrGone) {
		return err
	}
	return s.reveal(ctx, p, cur)
}

// reveal returns nil when p may see cur (a current version, possibly a deletion), and a not-found error otherwise.
func (s *Service) reveal(ctx context.Context, p auth.Principal, cur fhir.Resource) error {
	if !auth.Restricted(p) || s.scoping.Shared(cur.Type) {
		return nil
	}
	vis, err := s.scoping.Visibility(ctx, p)
	if err != nil {
		return err
	}
	ok, err := s.sees(ctx, vis, cur)
	if err != nil {
		return err
	}
	if !ok {
		return notVisible(cur.Type, cur.ID)
	}
	return nil
}

// sees reports whether vis sees the resource whose current version is cur.
func (s *Service) sees(ctx context.Context, vis *auth.Visibility, cur fhir.Resource) (bool, error) {
	obj, err := s.liveContent(ctx, cur)
	if err != nil || obj == nil {
		return false, err
	}
	return vis.Sees(ctx, cur.Type, obj)
}

// liveContent decodes r, or for a deletion the last version before it; nil when there is none.
func (s *Service) liveContent(ctx context.Context, r fhir.Resource) (fhir.Object, error) {
	vid, _ := strconv.ParseInt(r.VersionID, 10, 64)
	for r.Deleted {
		if vid--; vid < 1 {
			return nil, nil
		}
		var err error
		if r, err = s.store.VRead(ctx, r.Type, r.ID, strconv.FormatInt(vid, 10)); errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
	}
	return fhir.DecodeObject(r.JSON, fhir.MaxDepth)
}

// notVisible is the error for a resource the caller may not see: it does not exist for the caller.
func notVisible(typ, id string) error {
	return fhir.Errorf(fhir.IssueNotFound, "", "%s/%s is not known to this client's organisations", typ, truncate(id, 64))
}

// revealMatch checks that the caller may have the resource a conditional create (If-None-Exist) matched, one it
// may see, returned: its scope to create the type.
func (s *Service) revealMatch(ctx context.Context, m fhir.Resource) error {
	if _, err := s.authorize(ctx, m.Type, auth.InteractionCreate); err != nil {
		return err
	}
	audit.Touch(ctx, m.Type+"/"+m.ID+"/_history/"+m.VersionID)
	return nil
}

// hiddenMatch is the refusal of a conditional create or update whose criteria match only resources the caller may
// not see: making another would duplicate their identifier, and nothing of them is told (409).
func hiddenMatch(typ string) error {
	return fhir.Errorf(fhir.IssueConflict, "", "a %s matching the criteria exists that is not shared with this client's organisations", typ)
}

// VisibleContext returns ctx restricted (store.WithRestriction) to what the caller may see: store queries made
// with it leave out what the caller may not see.
func (s *Service) VisibleContext(ctx context.Context) (context.Context, error) {
	vctx, _, err := s.visibleContext(ctx)
	return vctx, err
}

// visibleContext is VisibleContext, also reporting whether the caller is restricted at all.
func (s *Service) visibleContext(ctx context.Context) (context.Context, bool, error) {
	p, err := principal(ctx)
	if err != nil || !auth.Restricted(p) {
		return ctx, false, err
	}
	vis, err := s.scoping.Visibility(ctx, p)
	if err != nil {
		return nil, false, err
	}
	return store.WithRestriction(ctx, vis.Conds), true, nil
}

// writeInteraction is the interaction of a write's method.
func writeInteraction(method string) auth.Interaction {
	switch method {
	case "POST":
		return auth.InteractionCreate
	case "PATCH":
		return auth.InteractionPatch
	case "DELETE":
		return auth.InteractionDelete
	}
	return auth.InteractionUpdate
}

// authorizeWrite checks a write before it is committed: the scope of its interaction (and create, for an update
// that creates), then for provider and GP systems the resource it changes (visible, else 404; written as one of
// the caller's organisations, else 403) and the new content (written as one of them, else 403). pending holds the
// other resources of the same transaction, by "Type/id".
func (s *Service) authorizeWrite(ctx context.Context, w store.Write, pending map[string]fhir.Object) error {
	p, err := s.authorize(ctx, w.Type, writeInteraction(w.Method))
	if err != nil {
		return err
	}
	if !w.New {
		if err := s.authorizeExisting(ctx, p, w); err != nil {
			return err
		}
	}
	if w.Object == nil {
		return nil
	}
	return s.scoping.WritesAs(ctx, p, w.Type, w.Object, pending)
}

// authorizeExisting checks the current version of the resource a write changes.
func (s *Service) authorizeExisting(ctx context.Context, p auth.Principal, w store.Write) error {
	if !auth.Restricted(p) && (w.Object == nil || p.Allows(w.Type, auth.InteractionCreate)) {
		return nil // nothing about the current version can refuse it
	}
	cur, err := s.store.Read(ctx, w.Type, w.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if w.Object != nil && !p.Allows(w.Type, auth.InteractionCreate) {
			return p.Check(w.Type, auth.InteractionCreate) // an update that creates
		}
		return nil
	case err != nil && !errors.Is(err, store.ErrGone):
		return err
	}
	if !auth.Restricted(p) {
		return nil
	}
	if err := s.reveal(ctx, p, cur); err != nil {
		return err
	}
	obj, err := s.liveContent(ctx, cur)
	if err != nil || obj == nil {
		return err
	}
	return s.scoping.WritesAs(ctx, p, w.Type, obj, nil)
}

// readForWrite reads the current version of typ/id that a patch changes, once the caller may change it.
func (s *Service) readForWrite(ctx context.Context, typ, id string, in auth.Interaction) (fhir.Resource, error) {
	if err := checkTypeID(typ, id); err != nil {
		return fhir.Resource{}, err
	}
	p, err := s.authorize(ctx, typ, in)
	if err != nil {
		return fhir.Resource{}, err
	}
	if err := s.authorizeExisting(ctx, p, store.Write{Type: typ, ID: id, Method: "PATCH"}); err != nil {
		return fhir.Resource{}, err
	}
	return s.store.Read(ctx, typ, id)
}

// touchWritten records the written resources in the request's audit trail.
func touchWritten(ctx context.Context, results []store.Result) {
	for _, r := range results {
		if !r.Noop {
			audit.Touch(ctx, r.Resource.Type+"/"+r.Resource.ID+"/_history/"+r.Resource.VersionID)
		}
	}
}

// parseInteraction is the interaction of a body parsed for a create (no id) or an update.
func parseInteraction(id string) auth.Interaction {
	if id == "" {
		return auth.InteractionCreate
	}
	return auth.InteractionUpdate
}
