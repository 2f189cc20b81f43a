package mongo

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/accord-fhir/accord/internal/auth"
)

// ReplayCache is the auth.ReplayCache shared by every instance, in the "auth_replay" collection: recording a jti is
// inserting a document keyed by it, which the database accepts once (a duplicate key means "seen before"). Entries
// are kept until Purge removes the expired ones.
type ReplayCache struct {
	coll *mongo.Collection
	now  func() time.Time
	log  *slog.Logger
}

var _ auth.ReplayCache = (*ReplayCache)(nil)

// replayDoc is one recorded jti.
type replayDoc struct {
	JTI string    `bson:"_id"`
	Exp time.Time `bson:"exp"`
}

// NewReplayCache returns the replay cache of the store's database, on the store's clock.
func NewReplayCache(s *Store) *ReplayCache {
	return &ReplayCache{coll: s.db.Collection("auth_replay"), now: s.opts.Clock, log: s.opts.Logger}
}

// Seen records jti until exp and reports whether it was recorded before (and not yet purged).
func (c *ReplayCache) Seen(ctx context.Context, jti string, exp time.Time) (bool, error) {
	_, err := c.coll.InsertOne(ctx, replayDoc{JTI: jti, Exp: exp.UTC()})
	switch {
	case err == nil:
		return false, nil
	case isDuplicate(err):
		return true, nil
	}
	return false, fmt.Errorf("replay cache: %w", err)
}

// Purge removes the entries that expired before now and returns how many.
func (c *ReplayCache) Purge(ctx context.Context) (int64, error) {
	res, err := c.coll.DeleteMany(ctx, bson.D{{Key: "exp", Value: bson.D{{Key: "$lt", Value: c.now().UTC()}}}})
	if err != nil {
		return 0, fmt.Errorf("purge replay cache: %w", err)
	}
	return res.DeletedCount, nil
}

// Maintain purges expired entries every interval until ctx ends, logging failures.
func (c *ReplayCache) Maintain(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := c.Purge(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("replay cache purge failed", "err", err)
			}
		}
	}
}
