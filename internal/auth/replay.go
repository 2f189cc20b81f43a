package auth

import (
	"context"
	"sync"
	"time"
)

// ReplayCache remembers the jti of every accepted client assertion until it expires, so that none is accepted twice.
//
// Seen records jti, to be remembered at least until exp, and reports whether it had been recorded before (and not
// yet forgotten). Recording and checking are one atomic step, also across the instances that share the cache.
// It returns an error only when the cache cannot be reached; the token request then fails.
type ReplayCache interface {
	Seen(ctx context.Context, jti string, exp time.Time) (bool, error)
}

// sweepEvery is how many insertions a MemoryReplayCache makes between sweeps of expired entries.
const sweepEvery = 1024

// MemoryReplayCache is a ReplayCache for one instance.
type MemoryReplayCache struct {
	now func() time.Time

	mu      sync.Mutex
	seen    map[string]time.Time
	inserts int
}

var _ ReplayCache = (*MemoryReplayCache)(nil)

// NewMemoryReplayCache returns an empty cache; now is the clock (nil: time.Now).
func NewMemoryReplayCache(now func() time.Time) *MemoryReplayCache {
	if now == nil {
		now = time.Now
	}
	return &MemoryReplayCache{now: now, seen: map[string]time.Time{}}
}

// Seen records jti until exp and reports whether it was already recorded and not yet expired.
func (c *MemoryReplayCache) Seen(_ context.Context, jti string, exp time.Time) (bool, error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if until, ok := c.seen[jti]; ok && now.Before(until) {
		return true, nil
	}
	c.seen[jti] = exp
	c.inserts++
	if c.inserts%sweepEvery == 0 {
		for k, until := range c.seen {
			if !now.Before(until) {
				delete(c.seen, k)
			}
		}
	}
	return false, nil
}

// Len returns how many jtis are remembered, expired or not.
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
