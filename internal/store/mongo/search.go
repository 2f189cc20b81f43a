package mongo

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// searchIndexes remembers which current-view collections have their search indexes, so that each is ensured once
// per process.
type searchIndexes struct {
	done       sync.Map // resource type → true
	noWildcard atomic.Bool
	warnOnce   sync.Once
}

// Search indexes of each current-view collection:
//   - by_ts {ts, _id}: the default order (_lastUpdated) and keyset paging on it, in both directions;
//   - search, a wildcard index over every top-level field but the JSON (raw) and the version: the search index
//     fields that internal/search writes (sp_…), and the other indexers' (acl, obligation_…). There are too
//     many search fields for one index each (MongoDB allows 64 per collection; Observation alone has 47
//     parameters with up to three fields each), and a wildcard index serves equality, ranges, anchored regular
//     expressions and $exists on any of them, array elements included.
//
// FerretDB (the embedded database) implements neither wildcard indexes nor index use beyond _id, and filters every
// query by scanning: there the wildcard index is skipped once, with a debug message.
func (s *Store) ensureSearchIndexes(ctx context.Context, typ string) error {
	if _, ok := s.searchIx.done.Load(typ); ok {
		return nil
	}
	coll := s.current(typ)
	models := []mongo.IndexModel{{Keys: bson.D{{Key: "ts", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("by_ts")}}
	if err := s.ensureIndexes(ctx, coll, models); err != nil {
		return err
	}
	if s.opts.TypeDatabases {
		if err := s.ensureIndexes(ctx, s.versionsOf(typ), s.versionIndexes()); err != nil {
			return err
		}
	}
	if !s.searchIx.noWildcard.Load() {
		wildcard := mongo.IndexModel{Keys: bson.D{{Key: "$**", Value: 1}},
			Options: options.Index().SetName("search").SetWildcardProjection(bson.D{{Key: "raw", Value: 0}, {Key: "vid", Value: 0}})}
		err := s.ensureIndexes(ctx, coll, []mongo.IndexModel{wildcard})
		switch {
		case err == nil:
		case wildcardUnsupported(err):
			s.searchIx.noWildcard.Store(true)
			s.searchIx.warnOnce.Do(func() {
				s.opts.Logger.Debug("the database has no wildcard indexes (FerretDB): search fields are not indexed")
			})
		default:
			return err
		}
	}
	s.searchIx.done.Store(typ, true)
	return nil
}

// wildcardUnsupported reports the error of a database without wildcard indexes.
func wildcardUnsupported(err error) bool {
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code == 238 { // NotImplemented
		return true
	}
	return strings.Contains(err.Error(), "wildcardProjection") || strings.Contains(err.Error(), "$**")
}

// ensureExistingSearchIndexes ensures the search indexes of the current-view collections that already exist.
func (s *Store) ensureExistingSearchIndexes(ctx context.Context) error {
	types, err := s.resourceTypes(ctx)
	if err != nil {
		return err
	}
	for _, typ := range types {
		if err := s.ensureSearchIndexes(ctx, typ); err != nil {
			return err
		}
	}
	return nil
}
