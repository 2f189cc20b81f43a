package auth

import (
	"slices"
	"sync"
	"time"
)

// practiceCache remembers the GP practice of recently seen patients, so that the many events written about one
// patient within minutes (an encounter, its letters, its tasks) do not each read the Patient. A Patient written
// through this process replaces its entry at once; the TTL bounds how long another process's change goes unseen.
type practiceCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	now     func() time.Time
	entries map[string]practiceEntry
}

type practiceEntry struct {
	codes []string
	until time.Time
}

func newPracticeCache(ttl time.Duration, max int, now func() time.Time) *practiceCache {
	return &practiceCache{ttl: ttl, max: max, now: now, entries: map[string]practiceEntry{}}
}

// get returns the cached practice of the patient, and whether there was a live entry.
func (c *practiceCache) get(id string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || c.now().After(e.until) {
		return nil, false
	}
	return slices.Clone(e.codes), true
}

// put records the practice of the patient; when full, it first drops the expired entries, then everything.
func (c *practiceCache) put(id string, codes []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if now.After(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[id] = practiceEntry{codes: slices.Clone(codes), until: now.Add(c.ttl)}
}
