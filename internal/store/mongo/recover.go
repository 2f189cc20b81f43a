package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

const repairMarkID = "repair"

// Recover finishes what crashed writers left: a multi-resource commit with a commit record is rolled forward, one
// without (older than PendingLease) is aborted and removed, and a current view older than its newest committed
// version is repaired. Only versions written since the last repair mark are examined. Then it finishes the
// pending re-indexes (reindex.go) that their writers left (in a single writer, those of an earlier process; else
// those older than PendingLease), the repaired resources' among them, and gives versions written before they
// carried the VersionFields those fields (once). The first part runs at Open too, the whole periodically through
// Maintain: re-indexing waits for Recover because the Indexer may read through the store, and so may not be ready
// while it opens. A version whose current view would exceed Options.MaxDocumentSize (committed before writes were
// checked against it) is left as it is, and logged once per process. It is safe to run on several processes at
// once.
func (s *Store) Recover(ctx context.Context) error {
	if err := s.recover(ctx, s.opts.PendingLease); err != nil {
		return err
	}
	if err := s.finishPendingReindexes(ctx, s.opts.PendingLease); err != nil {
		return err
	}
	return s.backfillScopes(ctx)
}

// recover is Recover with the lease after which an undecided commit is aborted.
func (s *Store) recover(ctx context.Context, lease time.Duration) error {
	start := s.opts.Clock().UTC()
	var mark struct {
		Through time.Time `bson:"through"`
	}
	if err := s.meta.FindOne(ctx, bson.D{{Key: "_id", Value: repairMarkID}}).Decode(&mark); err != nil && !notFound(err) {
		return fmt.Errorf("read repair mark: %w", err)
	}
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "txn", Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "ts", Value: bson.D{{Key: "$gt", Value: mark.Through}}}},
	}}}
	recent, err := s.findVersions(ctx, filter, options.Find().SetProjection(bson.D{{Key: "raw", Value: 0}}))
	if err != nil {
		return fmt.Errorf("scan recent versions: %w", err)
	}
	pending := map[string][]versionDoc{}
	touched := map[string]versionDoc{}
	for _, v := range recent {
		if v.Txn != "" {
			pending[v.Txn] = append(pending[v.Txn], v)
		} else {
			touched[v.Type+"/"+v.RID] = v
		}
	}
	for txn, vs := range pending {
		if err := s.settle(ctx, txn, vs, start, lease); err != nil {
			return err
		}
	}
	for key, v := range touched {
		unlock := s.lock([]string{key})
		err := s.repairResource(ctx, v.Type, v.RID)
		unlock()
		if err != nil {
			return err
		}
	}
	through := start.Add(-s.opts.RepairMargin)
	if through.After(mark.Through) {
		_, err = s.meta.ReplaceOne(ctx, bson.D{{Key: "_id", Value: repairMarkID}}, bson.D{{Key: "_id", Value: repairMarkID}, {Key: "through", Value: through}}, options.Replace().SetUpsert(true))
		if err != nil {
			return fmt.Errorf("write repair mark: %w", err)
		}
	}
	return nil
}

// Maintain runs Recover every interval until ctx ends, logging failures.
func (s *Store) Maintain(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Recover(ctx); err != nil && ctx.Err() == nil {
				s.opts.Logger.Error("store recovery failed", "err", err)
			}
		}
	}
}

// settle decides and finishes one multi-resource commit found pending.
func (s *Store) settle(ctx context.Context, txn string, vs []versionDoc, now time.Time, lease time.Duration) error {
	var t txnDoc
	err := s.txns.FindOne(ctx, bson.D{{Key: "_id", Value: txn}}).Decode(&t)
	if err != nil && !notFound(err) {
		return fmt.Errorf("read commit record %s: %w", txn, err)
	}
	if notFound(err) {
		for _, v := range vs {
			if now.Sub(v.TS) < lease {
				return nil // possibly still in progress elsewhere
			}
		}
		if _, err := s.txns.InsertOne(ctx, txnDoc{ID: txn, State: txnAborted, TS: now}); err != nil {
			if isDuplicate(err) {
				return s.settle(ctx, txn, vs, now, lease)
			}
			return fmt.Errorf("abort %s: %w", txn, err)
		}
		t.State = txnAborted
	}
	claims, err := s.claimsOf(ctx, txn)
	if err != nil {
		return err
	}
	keys := make([]string, len(vs))
	ids := make([]string, len(vs))
	for i, v := range vs {
		keys[i] = v.Type + "/" + v.RID
		ids[i] = v.ID
	}
	unlock := s.lock(keys)
	defer unlock()
	if t.State != txnCommitted {
		s.opts.Logger.Warn("removing an aborted commit", "txn", txn, "versions", len(vs))
		return s.undo(ctx, txn, claims, ids)
	}
	s.opts.Logger.Warn("finishing a committed commit", "txn", txn, "versions", len(vs))
	full := make([]pendingVersion, 0, len(vs))
	for _, v := range vs {
		pv, err := s.loadVersion(ctx, v.ID)
		if err != nil {
			return err
		}
		cur, err := s.readCurrent(ctx, v.Type, v.RID)
		if err == nil && cur.VID >= v.VID {
			continue
		}
		full = append(full, pv)
	}
	for _, pv := range full {
		if s.unstorable(pv) {
			continue
		}
		if err := s.putCurrent(ctx, pv.version, pv.index); err != nil {
			return err
		}
		if err := s.putReindex(ctx, pv.version.Type+"/"+pv.version.RID, pv.version.VID, false); err != nil {
			return err
		}
	}
	return s.rollForward(ctx, txn, nil, claims, ids...)
}

func (s *Store) claimsOf(ctx context.Context, txn string) ([]string, error) {
	cur, err := s.claims.Find(ctx, bson.D{{Key: "txn", Value: txn}})
	if err != nil {
		return nil, fmt.Errorf("claims of %s: %w", txn, err)
	}
	var cs []claimDoc
	if err := cur.All(ctx, &cs); err != nil {
		return nil, fmt.Errorf("claims of %s: %w", txn, err)
	}
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Key
	}
	return keys, nil
}

// loadVersion reads a version with its content and computes its index fields.
func (s *Store) loadVersion(ctx context.Context, key string) (pendingVersion, error) {
	var v versionDoc
	if err := s.versionsOf(typeOfKey(key)).FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&v); err != nil {
		return pendingVersion{}, fmt.Errorf("load version %s: %w", key, err)
	}
	pv := pendingVersion{version: v}
	if v.Deleted || s.opts.Indexer == nil {
		return pv, nil
	}
	obj, err := fhir.DecodeObject(v.Raw.json, 1<<20)
	if err != nil {
		return pv, fmt.Errorf("decode version %s: %w", key, err)
	}
	if pv.index, err = s.opts.Indexer.Index(v.Type, obj); err != nil {
		return pv, fmt.Errorf("index version %s: %w", key, err)
	}
	return pv, nil
}

// repairResource makes the newest committed version of typ/id current, and records it for re-indexing. The
// caller holds its lock.
func (s *Store) repairResource(ctx context.Context, typ, id string) error {
	cur, err := s.readCurrent(ctx, typ, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var latest string
	for vid := cur.VID + 1; ; vid++ {
		v, err := s.readVersion(ctx, typ, id, vid)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
		latest = v.ID
	}
	if latest == "" {
		return nil
	}
	pv, err := s.loadVersion(ctx, latest)
	if err != nil {
		return err
	}
	if s.unstorable(pv) {
		return nil
	}
	s.opts.Logger.Warn("repairing a current view", "resource", typ+"/"+id, "version", pv.version.VID)
	if err := s.putCurrent(ctx, pv.version, pv.index); err != nil {
		return err
	}
	// Indexed again by Recover: the Indexer may not have been ready (at Open), and the older versions' scope must follow.
	return s.putReindex(ctx, typ+"/"+id, pv.version.VID, false)
}

// repairAll repairs the current view of every resource a commit writes; the caller holds their locks.
func (s *Store) repairAll(ctx context.Context, writes []store.Write) error {
	for _, w := range writes {
		if err := s.repairResource(ctx, w.Type, w.ID); err != nil {
			return err
		}
	}
	return nil
}
