package rest

import (
	"context"
	"errors"
	"net/url"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/store"
)

// searchAs runs a search for the caller: its scope, its organisation scoping in the query, and the included
// resources checked one by one (scope to read their type, and visibility); those it may not see are left out.
func (s *Service) searchAs(ctx context.Context, typ string, params url.Values) (SearchPage, error) {
	p, err := s.authorize(ctx, typ, auth.InteractionSearch)
	if err != nil {
		return SearchPage{}, err
	}
	vis, err := s.scoping.Visibility(ctx, p)
	if err != nil {
		return SearchPage{}, err
	}
	page, err := s.search.Search(store.WithRestriction(ctx, vis.Conds), typ, params, nil)
	if err != nil {
		return page, err
	}
	if page.Included, err = s.visibleIncluded(ctx, p, vis, page.Included); err != nil {
		return SearchPage{}, err
	}
	for _, list := range [][]fhir.Resource{page.Matches, page.Included} {
		for _, r := range list {
			audit.Touch(ctx, r.Type+"/"+r.ID+"/_history/"+r.VersionID)
		}
	}
	return page, nil
}

// visibleIncluded keeps the included resources the caller may read.
func (s *Service) visibleIncluded(ctx context.Context, p auth.Principal, vis *auth.Visibility, included []fhir.Resource) ([]fhir.Resource, error) {
	out := included[:0:0]
	for _, r := range included {
		if !p.Allows(r.Type, auth.InteractionRead) {
			continue
		}
		obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
		if err != nil {
			return nil, err
		}
		ok, err := vis.Sees(ctx, r.Type, obj)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// historyAs returns a page of history for the caller. An instance's history needs the history-instance scope and
// the resource visible; a type's needs history-type, and the system's gives only the types the caller may
// history. For provider and GP systems, type and system history hold only the versions of resources they may
// see. Both restrictions are in the store's query (store.WithRestriction: versions carry their resource's
// scoping index), so that pages are full; each entry is checked again against its resource's current version,
// which decides (a page may fall short only while a resource's versions are being brought in step).
func (s *Service) historyAs(ctx context.Context, q store.HistoryQuery) (store.HistoryPage, error) {
	var p auth.Principal
	var err error
	switch {
	case q.ID != "":
		if err := s.checkSees(ctx, q.Type, q.ID, auth.InteractionHistoryInstance); err != nil {
			return store.HistoryPage{}, err
		}
		page, err := s.store.History(ctx, q)
		touchEntries(ctx, page.Entries)
		return page, err
	case q.Type != "":
		p, err = s.authorize(ctx, q.Type, auth.InteractionHistoryType)
	default: // the scope is checked type by type
		p, err = caller(ctx)
	}
	if err != nil {
		return store.HistoryPage{}, err
	}
	vis, err := s.scoping.Visibility(ctx, p)
	if err != nil {
		return store.HistoryPage{}, err
	}
	page, err := s.store.History(store.WithRestriction(ctx, historyRestriction(p, vis)), q)
	if err != nil {
		return page, err
	}
	if page.Entries, err = s.visibleEntries(ctx, p, vis, page.Entries); err != nil {
		return store.HistoryPage{}, err
	}
	touchEntries(ctx, page.Entries)
	return page, nil
}

// historyRestriction restricts a type or system history to the types p may history and the resources it sees.
func historyRestriction(p auth.Principal, vis *auth.Visibility) store.Restriction {
	return func(typ string) []store.Cond {
		if !p.Allows(typ, auth.InteractionHistoryType) {
			return []store.Cond{{Field: auth.FieldACL, Op: store.OpEq}} // no value: nothing of the type
		}
		return vis.Conds(typ)
	}
}

// visibleEntries keeps the history entries of types p may history, of resources p may see.
func (s *Service) visibleEntries(ctx context.Context, p auth.Principal, vis *auth.Visibility, entries []store.Entry) ([]store.Entry, error) {
	seen := map[string]bool{}
	out := entries[:0:0]
	for _, e := range entries {
		if !p.Allows(e.Type, auth.InteractionHistoryType) {
			continue
		}
		ref := e.Type + "/" + e.ID
		ok, known := seen[ref]
		if !known && auth.Restricted(p) && !s.scoping.Shared(e.Type) {
			cur, err := s.store.Read(ctx, e.Type, e.ID)
			if err != nil && !errors.Is(err, store.ErrGone) {
				return nil, err
			}
			if ok, err = s.sees(ctx, vis, cur); err != nil {
				return nil, err
			}
			seen[ref] = ok
		} else if !known {
			ok, seen[ref] = true, true
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func touchEntries(ctx context.Context, entries []store.Entry) {
	for _, e := range entries {
		audit.Touch(ctx, e.Type+"/"+e.ID+"/_history/"+e.VersionID)
	}
}

// authorizeWrites checks every write of a transaction (see authorizeWrite); the first refusal fails it, naming
// its entry. References to Organizations written by the same transaction count for "writes as".
func (s *Service) authorizeWrites(ctx context.Context, writes []store.Write, owners []*entry) error {
	pending := make(map[string]fhir.Object, len(writes))
	for _, w := range writes {
		if w.Object != nil {
			pending[w.Type+"/"+w.ID] = w.Object
		}
	}
	for i, w := range writes {
		if err := s.authorizeWrite(ctx, w, pending); err != nil {
			return asEntryError(owners[i].index, prefixIssues(err, owners[i].index, w.Type))
		}
	}
	return nil
}
