package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/store"
)

// Derived indexing. Some index fields of a resource are computed from other resources (organisation scoping: a
// Task's visibility from its patient's GP practice), and versions carry a copy of some (Options.VersionFields).
// Both go stale when the other resource changes, or when the fields change: a commit that changes what a resource
// lends (Options.LendsField) or the VersionFields of a resource with older versions records a pending re-index of
// the resource in the "reindex" collection before its versions are inserted, finishes it after the commit, and
// removes the record. A process that dies in between leaves the record, which Recover finishes. Finishing one is
// idempotent: the resource is indexed again from its current version (its versions then carry its new
// VersionFields) and, when what it lends changed, so is every resource naming it in Options.SourcesField.
//
// A resource created under a chosen id (a PUT) may have dependents stored before it existed; they name it in their
// Options.AwaitsField, which the store records in the "reindex_await" collection before their commit, so that the
// creation looks for dependents (a query of every collection) only when that record exists, and removes it after.
//
// A record of a commit that failed is finished all the same, harmlessly. A dependent written concurrently with
// the change, from what it read before the change was committed, may keep stale fields until it is next written or
// indexed again.

// reindexDoc is a pending re-index.
type reindexDoc struct {
	Ref string `bson:"_id"` // "Type/id"
	// VID is the version whose commit recorded it: only that commit's finishing removes it.
	VID int64     `bson:"vid"`
	TS  time.Time `bson:"ts"`
	// Dependents: the resources naming Ref in their SourcesField are to be indexed again too.
	Dependents bool `bson:"dependents"`
}

// recordReindexes records the pending re-indexes of plans, and the resources they await, before their commit.
func (s *Store) recordReindexes(ctx context.Context, plans []*plan) error {
	if err := s.recordAwaits(ctx, plans); err != nil {
		return err
	}
	for _, p := range plans {
		if !p.result.Noop && (p.rescope || p.relend) {
			if err := s.putReindex(ctx, p.w.Type+"/"+p.w.ID, p.version.VID, p.relend); err != nil {
				return err
			}
		}
	}
	return nil
}

// putReindex records a pending re-index of ref for version vid; a record of the same resource pending already
// keeps its dependents.
func (s *Store) putReindex(ctx context.Context, ref string, vid int64, dependents bool) error {
	set := bson.D{{Key: "vid", Value: vid}, {Key: "ts", Value: s.opts.Clock().UTC()}}
	update := bson.D{}
	if dependents {
		set = append(set, bson.E{Key: "dependents", Value: true})
	} else {
		update = append(update, bson.E{Key: "$setOnInsert", Value: bson.D{{Key: "dependents", Value: false}}})
	}
	update = append(update, bson.E{Key: "$set", Value: set})
	_, err := s.reindexes.UpdateOne(ctx, bson.D{{Key: "_id", Value: ref}}, update, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record the re-index of %s: %w", ref, err)
	}
	return nil
}

// finishReindexes finishes the re-indexes that committed plans recorded. A failure leaves the record to Recover.
func (s *Store) finishReindexes(ctx context.Context, plans []*plan) {
	for _, p := range plans {
		if p.result.Noop || !(p.rescope || p.relend) {
			continue
		}
		s.hook("reindex")
		rec := reindexDoc{Ref: p.w.Type + "/" + p.w.ID, VID: p.version.VID, Dependents: p.relend}
		if err := s.finishReindex(ctx, rec); err != nil {
			s.opts.Logger.Warn("re-index left for recovery", "resource", rec.Ref, "err", err)
		}
	}
}

// finishReindex indexes rec's resource again, and its dependents when asked, then removes the record (unless a
// later commit recorded it again meanwhile).
func (s *Store) finishReindex(ctx context.Context, rec reindexDoc) error {
	typ, id, _ := strings.Cut(rec.Ref, "/")
	if fhir.IsResourceType(typ) && fhir.ValidID(id) {
		s.forget([]store.Write{{Type: typ, ID: id}})
		if err := s.Reindex(ctx, typ, id); err != nil {
			return err
		}
		if rec.Dependents {
			deps, err := s.dependents(ctx, rec.Ref)
			if err != nil {
				return err
			}
			for _, d := range deps {
				dt, did, _ := strings.Cut(d, "/")
				if err := s.Reindex(ctx, dt, did); err != nil {
					return err
				}
			}
			if err := s.forgetAwaited(ctx, rec.Ref); err != nil {
				return err
			}
		}
	}
	if _, err := s.reindexes.DeleteOne(ctx, bson.D{{Key: "_id", Value: rec.Ref}, {Key: "vid", Value: rec.VID}}); err != nil {
		return fmt.Errorf("remove the re-index of %s: %w", rec.Ref, err)
	}
	return nil
}

// finishPendingReindexes finishes the re-indexes that their commits did not: in a single writer, those recorded
// before it opened at once, and any other once older than lease (its commit may still be finishing it).
func (s *Store) finishPendingReindexes(ctx context.Context, lease time.Duration) error {
	cur, err := s.reindexes.Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("read pending re-indexes: %w", err)
	}
	var recs []reindexDoc
	if err := cur.All(ctx, &recs); err != nil {
		return fmt.Errorf("read pending re-indexes: %w", err)
	}
	now := s.opts.Clock().UTC()
	for _, rec := range recs {
		left := s.opts.SingleWriter && rec.TS.Before(s.opened)
		if !left && now.Sub(rec.TS) < lease {
			continue
		}
		s.opts.Logger.Warn("finishing a pending re-index", "resource", rec.Ref, "dependents", rec.Dependents)
		if err := s.finishReindex(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

// Reindex computes the index fields of the current version of typ/id again, from its stored JSON with the store's
// Indexer, and replaces its current view with them if that version is still current (it never replaces a newer
// version's view: under the resource's lock, and with several writers on condition of the version). Its versions
// then carry the new VersionFields. For a deletion, the fields are computed from the last live version, and the
// view keeps only the SourcesField. An unknown resource is no error.
func (s *Store) Reindex(ctx context.Context, typ, id string) error {
	unlock := s.lock([]string{typ + "/" + id})
	defer unlock()
	cur, err := s.readCurrent(ctx, typ, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	index, err := s.liveIndex(ctx, typ, id, cur)
	if err != nil {
		return err
	}
	view := index
	if cur.Deleted {
		view = pick(index, s.opts.SourcesField)
	}
	filter := bson.D{{Key: "_id", Value: id}}
	if !s.opts.SingleWriter {
		filter = append(filter, bson.E{Key: "vid", Value: cur.VID})
	}
	v := versionDoc{Type: typ, RID: id, VID: cur.VID, TS: cur.TS, Deleted: cur.Deleted, Raw: cur.Raw}
	res, err := s.current(typ).ReplaceOne(ctx, filter, currentFields(v, view))
	if err != nil {
		return fmt.Errorf("reindex %s/%s: %w", typ, id, err)
	}
	if res.MatchedCount == 0 {
		return nil // a newer version is current, indexed when it was written
	}
	return s.syncScope(ctx, typ, id, cur.VID, pick(index, s.opts.VersionFields...))
}

// liveIndex computes the index fields of the current version cur of typ/id or, for a deletion, of the last live
// version before it; none without an Indexer or a live version.
func (s *Store) liveIndex(ctx context.Context, typ, id string, cur currentDoc) (map[string]any, error) {
	if s.opts.Indexer == nil {
		return nil, nil
	}
	raw := cur.Raw.json
	for vid := cur.VID - 1; cur.Deleted && raw == nil && vid >= 1; vid-- {
		v, err := s.readVersion(ctx, typ, id, vid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !v.Deleted {
			raw = v.Raw.json
		}
	}
	if raw == nil {
		return nil, nil
	}
	obj, err := fhir.DecodeObject(raw, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", typ, id, err)
	}
	index, err := s.opts.Indexer.Index(typ, obj)
	if err != nil {
		return nil, fmt.Errorf("index %s/%s: %w", typ, id, err)
	}
	return index, nil
}

// syncScope makes versions 1 to vid of typ/id carry scope as of version vid, in one round trip of updates by _id.
// With several writers, a version that carries a later version's scope already keeps it.
func (s *Store) syncScope(ctx context.Context, typ, id string, vid int64, scope bson.M) error {
	if len(s.opts.VersionFields) == 0 || vid < 1 {
		return nil
	}
	if scope == nil {
		scope = bson.M{}
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "scope", Value: scope}, {Key: "scope_vid", Value: vid}}}}
	models := make([]mongo.WriteModel, 0, vid)
	for v := int64(1); v <= vid; v++ {
		filter := bson.D{{Key: "_id", Value: versionKey(typ, id, v)}}
		if !s.opts.SingleWriter {
			filter = append(filter, bson.E{Key: "scope_vid", Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$gt", Value: vid}}}}})
		}
		models = append(models, mongo.NewUpdateOneModel().SetFilter(filter).SetUpdate(update))
	}
	if _, err := s.versionsOf(typ).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("update the versions of %s/%s: %w", typ, id, err)
	}
	return nil
}

// dependents lists the resources ("Type/id", deleted ones included) whose current view names ref in its
// SourcesField: one query per resource collection (served by the search index on MongoDB).
func (s *Store) dependents(ctx context.Context, ref string) ([]string, error) {
	if s.opts.SourcesField == "" {
		return nil, nil
	}
	types, err := s.resourceTypes(ctx)
	if err != nil {
		return nil, fmt.Errorf("dependents of %s: %w", ref, err)
	}
	var out []string
	for _, typ := range types {
		cur, err := s.current(typ).Find(ctx, bson.D{{Key: s.opts.SourcesField, Value: ref}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return nil, fmt.Errorf("dependents of %s in %s: %w", ref, typ, err)
		}
		var ids []struct {
			ID string `bson:"_id"`
		}
		if err := cur.All(ctx, &ids); err != nil {
			return nil, fmt.Errorf("dependents of %s in %s: %w", ref, typ, err)
		}
		for _, d := range ids {
			out = append(out, typ+"/"+d.ID)
		}
	}
	return out, nil
}

const scopeMarkID = "version_scope"

// backfillScopes gives the versions written before they carried the VersionFields (no scope_vid) those of their
// resource's current version, by indexing their resources again; once per database, marked in meta.
func (s *Store) backfillScopes(ctx context.Context) error {
	if len(s.opts.VersionFields) == 0 || s.backfilled.Load() {
		return nil
	}
	err := s.meta.FindOne(ctx, bson.D{{Key: "_id", Value: scopeMarkID}}).Err()
	if err != nil && !notFound(err) {
		return fmt.Errorf("read the version scope mark: %w", err)
	}
	if err == nil {
		s.backfilled.Store(true)
		return nil
	}
	vs, err := s.findVersions(ctx, bson.D{{Key: "scope_vid", Value: bson.D{{Key: "$exists", Value: false}}}},
		options.Find().SetProjection(bson.D{{Key: "type", Value: 1}, {Key: "rid", Value: 1}}))
	if err != nil {
		return fmt.Errorf("find versions without scope: %w", err)
	}
	done := map[string]bool{}
	for _, v := range vs {
		if ref := v.Type + "/" + v.RID; !done[ref] {
			done[ref] = true
			if err := s.Reindex(ctx, v.Type, v.RID); err != nil {
				return err
			}
		}
	}
	if len(done) > 0 {
		s.opts.Logger.Info("versions given their resources' scope", "resources", len(done))
	}
	_, err = s.meta.InsertOne(ctx, bson.D{{Key: "_id", Value: scopeMarkID}, {Key: "ts", Value: s.opts.Clock().UTC()}})
	if err != nil && !isDuplicate(err) {
		return fmt.Errorf("write the version scope mark: %w", err)
	}
	s.backfilled.Store(true)
	return nil
}

// refSet is a set of references ("Type/id", or version keys) a process remembers: the awaited resources it has
// recorded, the unstorable versions it has reported. It is bounded: when full it is emptied, and its entries are
// new again (recorded again by an idempotent write, reported again).
type refSet struct {
	mu   sync.Mutex
	refs map[string]bool
}

// maxRefs bounds a refSet.
const maxRefs = 10000

// add reports whether ref was not in the set, and puts it there.
func (a *refSet) add(ref string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refs[ref] {
		return false
	}
	if len(a.refs) >= maxRefs {
		clear(a.refs)
	}
	a.refs[ref] = true
	return true
}

// remove takes ref out of the set.
func (a *refSet) remove(ref string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.refs, ref)
}

// recordAwaits records the resources that plans name in their AwaitsField (not stored when they were indexed),
// each once per process.
func (s *Store) recordAwaits(ctx context.Context, plans []*plan) error {
	if s.opts.AwaitsField == "" {
		return nil
	}
	for _, p := range plans {
		if p.result.Noop {
			continue
		}
		for _, ref := range fhirsearch.Strings(p.index[s.opts.AwaitsField]) {
			if !s.awaited.add(ref) {
				continue
			}
			_, err := s.awaits.UpdateOne(ctx, bson.D{{Key: "_id", Value: ref}},
				bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "ts", Value: s.opts.Clock().UTC()}}}},
				options.UpdateOne().SetUpsert(true))
			if err != nil {
				s.awaited.remove(ref)
				return fmt.Errorf("record that %s is awaited: %w", ref, err)
			}
		}
	}
	return nil
}

// isAwaited reports whether a stored resource awaits ref ("Type/id").
func (s *Store) isAwaited(ctx context.Context, ref string) (bool, error) {
	err := s.awaits.FindOne(ctx, bson.D{{Key: "_id", Value: ref}}).Err()
	if notFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("is %s awaited: %w", ref, err)
	}
	return true, nil
}

// forgetAwaited removes the record that ref is awaited, once the resources awaiting it are indexed again.
func (s *Store) forgetAwaited(ctx context.Context, ref string) error {
	if s.opts.AwaitsField == "" {
		return nil
	}
	s.awaited.remove(ref)
	if _, err := s.awaits.DeleteOne(ctx, bson.D{{Key: "_id", Value: ref}}); err != nil {
		return fmt.Errorf("remove the record that %s is awaited: %w", ref, err)
	}
	return nil
}
