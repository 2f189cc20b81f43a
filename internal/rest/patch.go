package rest

import (
	"context"
	"fmt"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/jsonpatch"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/store"
)

// Patch applies a JSON Patch to the current version of typ/id and stores the result as a new version, which
// is validated like any update. The patch applies to the version it read: a concurrent change fails with
// ErrPreconditionFailed (as does an ifMatch that is not current).
func (s *Service) Patch(ctx context.Context, typ, id string, patch []byte, ifMatch string) (Outcome, error) {
	w, issues, err := s.patchWrite(ctx, typ, id, patch, ifMatch)
	if err != nil {
		return Outcome{}, err
	}
	return s.commitOne(ctx, w, issues)
}

func (s *Service) patchWrite(ctx context.Context, typ, id string, patch []byte, ifMatch string) (store.Write, []fhir.Issue, error) {
	cur, err := s.readForWrite(ctx, typ, id, auth.InteractionPatch)
	if err != nil {
		return store.Write{}, nil, err
	}
	if err := s.reserved(typ, id); err != nil {
		return store.Write{}, nil, err
	}
	if ifMatch != "" && ifMatch != cur.VersionID {
		return store.Write{}, nil, fmt.Errorf("patch %s/%s if-match %q: %w", typ, id, ifMatch, store.ErrPreconditionFailed)
	}
	obj, err := fhir.DecodeObject(cur.JSON, s.opts.MaxDepth)
	if err != nil {
		return store.Write{}, nil, fmt.Errorf("decode stored %s/%s: %w", typ, id, err)
	}
	patched, err := jsonpatch.Apply(obj, patch, s.opts.MaxDepth)
	if err != nil {
		return store.Write{}, nil, err
	}
	if err := checkIdentity(typ, id, patched, true); err != nil {
		return store.Write{}, nil, err
	}
	issues := s.validate.Validate(ctx, patched)
	if err := issuesError(issues); err != nil {
		return store.Write{}, nil, err
	}
	return store.Write{Type: typ, ID: id, Object: patched, IfMatch: cur.VersionID, Method: "PATCH", Findings: clauseFindings(issues)}, issues, nil
}
