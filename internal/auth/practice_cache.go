package auth

import (
	"slices"
	"sync"
	"time"
)

// practiceCache remembers organisation tokens by key for a while: the GP practice of recently seen patients, so
// that the many events written about one patient within minutes (an encounter, its letters, its tasks) do not each
// read the Patient; likewise the organisations of Via targets and the Organizations of a client's ODS codes.
// A resource written through this process drops its entries once the write is decided (Scoping.Forget); the TTL
// bounds how long another process's change goes unseen.
//
// A value read from the store while an entry is being dropped may be older than the write that dropped it: put
// keeps it only when nothing was dropped since the generation taken before the read.
type practiceCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	now     func() time.Time
	gen     uint64 // counts drops and clears
	entries map[string]practiceEntry
}

type practiceEntry struct {
	codes []string
	until time.Time
}

func newPracticeCache(ttl time.Duration, max int, now func() time.Time) *practiceCache {
	return &practiceCache{ttl: ttl, max: max, now: now, entries: map[string]practiceEntry{}}
}

// get returns the cached tokens of key, and whether there was a live entry.
func (c *practiceCache) get(key string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || c.now().After(e.until) {
		return nil, false
	}
	return slices.Clone(e.codes), true
}

// generation returns the current generation, to take before reading what put will record.
func (c *practiceCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put records the tokens of key, read since generation gen, unless an entry was dropped since; when full, it
// first drops the expired entries, then everything.
func (c *practiceCache) put(key string, codes []string, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
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
	c.entries[key] = practiceEntry{codes: slices.Clone(codes), until: now.Add(c.ttl)}
}

// drop removes the entries of keys.
func (c *practiceCache) drop(keys ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, k := range keys {
		delete(c.entries, k)
	}
}

// clear removes every entry.
func (c *practiceCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}
