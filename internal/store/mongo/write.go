package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/store"
)

// plan is one write made ready: the version to insert and what the current view becomes.
type plan struct {
	w       store.Write
	version versionDoc
	index   map[string]any
	// view is the current-view document, encoded when its size was checked (limits.go); nil for a deletion.
	view   bson.Raw
	result store.Result
	// rescope: the write changes the VersionFields of a resource that has older versions, which must follow.
	// relend: it changes what the resource lends to others' index fields (Options.LendsField), which must be
	// computed again. Either is recorded as a pending re-index before the commit (reindex.go).
	rescope, relend bool
}

// maxAttempts bounds the retries of a write whose version slot another writer took.
const maxAttempts = 4

// Commit applies every write or none. One write without a claim is committed by inserting its version; any
// other commit goes through a commit record (see the package comment).
func (s *Store) Commit(ctx context.Context, writes []store.Write) ([]store.Result, error) {
	keys := make([]string, len(writes))
	seen := make(map[string]bool, len(writes))
	for i, w := range writes {
		keys[i] = w.Type + "/" + w.ID
		if seen[keys[i]] {
			return nil, fhir.Errorf(fhir.IssueInvalid, "", "%s is written more than once in one commit", keys[i])
		}
		seen[keys[i]] = true
	}
	plans, err := s.commitLocked(ctx, writes, keys)
	s.forget(writes)
	if err != nil {
		return nil, err
	}
	s.finishReindexes(context.WithoutCancel(ctx), plans)
	results := make([]store.Result, len(plans))
	for i, p := range plans {
		results[i] = p.result
	}
	return results, nil
}

// commitLocked plans and commits writes under the locks of their keys, planning again after a conflict.
func (s *Store) commitLocked(ctx context.Context, writes []store.Write, keys []string) ([]*plan, error) {
	unlock := s.lock(keys)
	defer unlock()
	for attempt := 1; ; attempt++ {
		plans, err := s.plan(ctx, writes)
		if err != nil {
			return nil, err
		}
		if err := s.recordReindexes(ctx, plans); err != nil {
			return nil, err
		}
		if len(plans) == 1 && plans[0].w.Claim == "" {
			err = s.commitOne(ctx, plans[0])
		} else {
			err = s.commitMany(ctx, plans)
		}
		if errors.Is(err, store.ErrConflict) && attempt < maxAttempts && !hasIfMatch(writes) {
			if rerr := s.repairAll(ctx, writes); rerr != nil {
				return nil, rerr
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return plans, nil
	}
}

// forget tells the Indexer, when it caches what it reads, of the resources just written.
func (s *Store) forget(writes []store.Write) {
	f, ok := s.opts.Indexer.(store.Forgetter)
	if !ok {
		return
	}
	for _, w := range writes {
		f.Forget(w.Type, w.ID)
	}
}

func hasIfMatch(writes []store.Write) bool {
	for _, w := range writes {
		if w.IfMatch != "" {
			return true
		}
	}
	return false
}

// plan reads the current version of every written resource and prepares the new versions.
func (s *Store) plan(ctx context.Context, writes []store.Write) ([]*plan, error) {
	ts := s.opts.Clock().UTC().Truncate(1e6)
	plans := make([]*plan, 0, len(writes))
	for _, w := range writes {
		var cur currentDoc
		var old map[string]any // the compared index fields of the current view
		var err error
		exists := false
		if !w.New {
			cur, old, err = s.readCurrentFields(ctx, w.Type, w.ID)
			exists = err == nil
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		if w.IfMatch != "" && (!exists || strconv.FormatInt(cur.VID, 10) != w.IfMatch) {
			return nil, fmt.Errorf("write %s/%s if-match %q: %w", w.Type, w.ID, w.IfMatch, store.ErrPreconditionFailed)
		}
		p := &plan{w: w}
		if w.Object == nil && (!exists || cur.Deleted) {
			p.result = store.Result{Noop: true, Resource: fhir.Resource{Type: w.Type, ID: w.ID, Deleted: true}}
			if exists {
				p.result.Resource = cur.resource(w.Type)
			}
			plans = append(plans, p)
			continue
		}
		vid := cur.VID + 1
		p.version = versionDoc{ID: versionKey(w.Type, w.ID, vid), Type: w.Type, RID: w.ID, VID: vid, TS: ts, Method: w.Method, Deleted: w.Object == nil, Findings: findingDocs(w.Findings)}
		if w.Object != nil {
			fhir.SetMeta(w.Object, w.ID, strconv.FormatInt(vid, 10), ts)
			raw, err := fhir.Marshal(w.Object)
			if err != nil {
				return nil, fmt.Errorf("encode %s/%s: %w", w.Type, w.ID, err)
			}
			p.version.Raw = packJSON(raw)
			if s.opts.Indexer != nil {
				if p.index, err = s.opts.Indexer.Index(w.Type, w.Object); err != nil {
					return nil, fmt.Errorf("index %s/%s: %w", w.Type, w.ID, err)
				}
			}
		}
		p.version.Created = w.Object != nil && (!exists || cur.Deleted)
		p.result = store.Result{Resource: p.version.resource(), Created: p.version.Created}
		s.planScope(p, exists, cur.Deleted, old)
		if w.Object != nil {
			if err := s.checkLimits(p); err != nil {
				return nil, err
			}
		}
		if p.relend && !exists && s.opts.AwaitsField != "" { // created under a chosen id: is it awaited?
			if p.relend, err = s.isAwaited(ctx, p.w.Type+"/"+p.w.ID); err != nil {
				return nil, err
			}
		}
		plans = append(plans, p)
	}
	s.planLentInCommit(plans)
	return plans, nil
}

// planScope sets the VersionFields the version carries and whether the write changes them or what the resource
// lends; old are the index fields of the current view it replaces. A deletion keeps its last live version's
// fields, and its view the SourcesField (so that the resources it was computed from still find it).
func (s *Store) planScope(p *plan, exists, wasDeleted bool, old map[string]any) {
	p.version.ScopeVID = p.version.VID
	if p.w.Object == nil {
		p.version.Scope = pick(old, s.opts.VersionFields...)
		p.index = pick(old, s.opts.SourcesField)
		p.relend = !sameFields(old, nil, s.opts.LendsField)
		return
	}
	p.version.Scope = pick(p.index, s.opts.VersionFields...)
	p.rescope = exists && (wasDeleted || !sameFields(old, p.index, s.opts.VersionFields...))
	// A resource with a new server-assigned id cannot have dependents, but in its own commit (planLentInCommit).
	p.relend = (exists || !p.w.New) && !sameFields(old, p.index, s.opts.LendsField)
}

// planLentInCommit marks the new resources of a commit that lend to other resources of the same commit (a
// transaction's new Patient and its Tasks): those could not read them, and are indexed again after the commit.
func (s *Store) planLentInCommit(plans []*plan) {
	if s.opts.LendsField == "" || len(plans) < 2 {
		return
	}
	for _, p := range plans {
		if p.relend || p.index[s.opts.LendsField] == nil {
			continue
		}
		ref := p.w.Type + "/" + p.w.ID
		for _, q := range plans {
			if q != p && holds(q.index[s.opts.SourcesField], ref) {
				p.relend = true
			}
		}
	}
}

// holds reports whether v, a string or a list of strings, holds s.
func holds(v any, s string) bool { return slices.Contains(fhirsearch.Strings(v), s) }

// commitOne inserts one version (the commit) and then updates the current view.
func (s *Store) commitOne(ctx context.Context, p *plan) error {
	if p.result.Noop {
		return nil
	}
	if _, err := s.versionsOf(p.version.Type).InsertOne(ctx, p.version); err != nil {
		return s.insertError(p, err)
	}
	return s.putView(ctx, p.version, p.viewDoc())
}

// viewDoc is the current-view document of a planned write: as encoded when its size was checked, else built.
func (p *plan) viewDoc() any {
	if p.view != nil {
		return p.view
	}
	return currentFields(p.version, p.index)
}

func (s *Store) insertError(p *plan, err error) error {
	if isDuplicate(err) {
		if p.w.IfMatch != "" {
			return fmt.Errorf("insert %s: %w", p.version.ID, store.ErrPreconditionFailed)
		}
		return fmt.Errorf("insert %s: %w", p.version.ID, store.ErrConflict)
	}
	return fmt.Errorf("insert %s: %w", p.version.ID, err)
}

// putCurrent makes v the current version of its resource, unless a newer one is already current.
func (s *Store) putCurrent(ctx context.Context, v versionDoc, index map[string]any) error {
	return s.putView(ctx, v, currentFields(v, index))
}

// putView is putCurrent with the current-view document of v given: currentFields, or its encoding.
func (s *Store) putView(ctx context.Context, v versionDoc, view any) error {
	if err := s.ensureSearchIndexes(ctx, v.Type); err != nil {
		return fmt.Errorf("search indexes of %s: %w", v.Type, err)
	}
	filter := bson.D{{Key: "_id", Value: v.RID}}
	if !s.opts.SingleWriter {
		filter = append(filter, bson.E{Key: "vid", Value: bson.D{{Key: "$lt", Value: v.VID}}})
	}
	_, err := s.current(v.Type).ReplaceOne(ctx, filter, view, options.Replace().SetUpsert(true))
	if err != nil && !(isDuplicate(err) && !s.opts.SingleWriter) {
		return fmt.Errorf("update current view of %s/%s: %w", v.Type, v.RID, err)
	}
	return nil
}

// commitMany writes claims and versions marked pending, inserts the commit record, then rolls forward.
func (s *Store) commitMany(ctx context.Context, plans []*plan) error {
	txn := uuid.NewString()
	var claims, versions []string
	for _, p := range plans {
		if p.w.Claim == "" || p.result.Noop {
			continue
		}
		c := claimDoc{Key: p.w.Claim, Ref: p.w.Type + "/" + p.w.ID, TS: p.version.TS, Txn: txn}
		if _, err := s.claims.InsertOne(ctx, c); err != nil {
			cerr := s.claimError(ctx, c.Key, err)
			return errors.Join(cerr, s.abort(ctx, txn, claims, versions))
		}
		claims = append(claims, c.Key)
	}
	for _, p := range plans {
		if p.result.Noop {
			continue
		}
		p.version.Txn = txn
		if _, err := s.versionsOf(p.version.Type).InsertOne(ctx, p.version); err != nil {
			return errors.Join(s.insertError(p, err), s.abort(ctx, txn, claims, versions))
		}
		versions = append(versions, p.version.ID)
	}
	s.hook("versions")
	if _, err := s.txns.InsertOne(ctx, txnDoc{ID: txn, State: txnCommitted, TS: s.opts.Clock().UTC()}); err != nil {
		if isDuplicate(err) { // Recover decided first: aborted
			return errors.Join(fmt.Errorf("commit %s: %w", txn, store.ErrConflict), s.abort(ctx, txn, claims, versions))
		}
		return fmt.Errorf("commit %s: %w", txn, err)
	}
	s.hook("committed")
	var finish []pendingVersion
	for _, p := range plans {
		if !p.result.Noop {
			finish = append(finish, pendingVersion{version: p.version, view: p.viewDoc()})
		}
	}
	ids := make([]string, len(finish))
	for i, pv := range finish {
		ids[i] = pv.version.ID
	}
	return s.rollForward(ctx, txn, finish, claims, ids...)
}

type pendingVersion struct {
	version versionDoc
	index   map[string]any
	// view, when set, is the current-view document already built (plan.viewDoc); else it is built from index.
	view any
}

// viewDoc is the current-view document of the version.
func (pv pendingVersion) viewDoc() any {
	if pv.view != nil {
		return pv.view
	}
	return currentFields(pv.version, pv.index)
}

// rollForward finishes a committed multi-resource commit: current views, then the pending marks, then the record.
func (s *Store) rollForward(ctx context.Context, txn string, versions []pendingVersion, claims []string, ids ...string) error {
	for _, pv := range versions {
		if err := s.putView(ctx, pv.version, pv.viewDoc()); err != nil {
			return err
		}
	}
	unset := bson.D{{Key: "$unset", Value: bson.D{{Key: "txn", Value: ""}}}}
	for _, id := range ids {
		if _, err := s.versionsOf(typeOfKey(id)).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, unset); err != nil {
			return fmt.Errorf("finish commit %s: %w", txn, err)
		}
	}
	for _, key := range claims {
		if _, err := s.claims.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}}, unset); err != nil {
			return fmt.Errorf("finish commit %s: %w", txn, err)
		}
	}
	if _, err := s.txns.DeleteOne(ctx, bson.D{{Key: "_id", Value: txn}}); err != nil {
		return fmt.Errorf("finish commit %s: %w", txn, err)
	}
	return nil
}

// abort records the decision to abort txn and removes what it wrote.
func (s *Store) abort(ctx context.Context, txn string, claims, versions []string) error {
	ctx = context.WithoutCancel(ctx)
	if _, err := s.txns.InsertOne(ctx, txnDoc{ID: txn, State: txnAborted, TS: s.opts.Clock().UTC()}); err != nil && !isDuplicate(err) {
		return fmt.Errorf("abort %s: %w", txn, err)
	}
	return s.undo(ctx, txn, claims, versions)
}

// undo deletes the pending versions and claims of an aborted commit, then its record.
func (s *Store) undo(ctx context.Context, txn string, claims, versions []string) error {
	for _, id := range versions {
		if _, err := s.versionsOf(typeOfKey(id)).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			return fmt.Errorf("undo %s: %w", txn, err)
		}
	}
	for _, key := range claims {
		if _, err := s.claims.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
			return fmt.Errorf("undo %s: %w", txn, err)
		}
	}
	if _, err := s.txns.DeleteOne(ctx, bson.D{{Key: "_id", Value: txn}}); err != nil {
		return fmt.Errorf("undo %s: %w", txn, err)
	}
	return nil
}

func (s *Store) claimError(ctx context.Context, key string, err error) error {
	if !isDuplicate(err) {
		return fmt.Errorf("claim %q: %w", key, err)
	}
	holder, herr := s.ClaimHolder(ctx, key)
	if herr != nil {
		return fmt.Errorf("claim %q: %w", key, store.ErrConflict)
	}
	return &holder
}

func (s *Store) hook(stage string) {
	if s.opts.Hook != nil {
		s.opts.Hook(stage)
	}
}

// ClaimHolder returns the holder of a claim. A claim of an undecided commit is returned too: its holder may be
// about to appear.
func (s *Store) ClaimHolder(ctx context.Context, key string) (store.ClaimedError, error) {
	var c claimDoc
	err := s.claims.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&c)
	if notFound(err) {
		return store.ClaimedError{}, fmt.Errorf("claim %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return store.ClaimedError{}, fmt.Errorf("claim %q: %w", key, err)
	}
	return store.ClaimedError{Key: c.Key, Ref: c.Ref, At: c.TS}, nil
}

// ReleaseClaim removes the claim key if ref still holds it.
func (s *Store) ReleaseClaim(ctx context.Context, key, ref string) error {
	if _, err := s.claims.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "ref", Value: ref}}); err != nil {
		return fmt.Errorf("release claim %q: %w", key, err)
	}
	return nil
}
