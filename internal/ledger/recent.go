package ledger

import (
	"strconv"
	"sync"
	"time"
)

// recentVersions remembers the newest version processed of the resources processed last (a bounded number, the
// oldest forgotten first): enough to drop a version queued after a newer one of the same resource.
type recentVersions struct {
	mu    sync.Mutex
	max   int
	order []string
	vids  map[string]int
}

func newRecentVersions(max int) *recentVersions {
	return &recentVersions{max: max, vids: make(map[string]int, max)}
}

// get returns the newest version of ref processed, or 0.
func (r *recentVersions) get(ref string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.vids[ref]
}

// put records that version vid of ref was processed.
func (r *recentVersions) put(ref, vid string) {
	n, _ := strconv.Atoi(vid)
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.vids[ref]; ok {
		r.vids[ref] = max(old, n)
		return
	}
	if len(r.order) >= r.max {
		delete(r.vids, r.order[0])
		r.order = r.order[1:]
	}
	r.order = append(r.order, ref)
	r.vids[ref] = n
}

// reportCache keeps computed reports for a while, a bounded number of them.
type reportCache struct {
	mu    sync.Mutex
	max   int
	items map[string]cached
}

type cached struct {
	at    time.Time
	value any
}

func newReportCache(max int) *reportCache { return &reportCache{max: max, items: map[string]cached{}} }

// get returns the value under key computed no earlier than since.
func (c *reportCache) get(key string, since time.Time) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.items[key]
	if !ok || v.at.Before(since) {
		return nil, false
	}
	return v.value, true
}

// put stores value under key, computed at at; when full, the oldest entry makes room.
func (c *reportCache) put(key string, at time.Time, value any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) >= c.max {
		oldest := ""
		for k, v := range c.items {
			if oldest == "" || v.at.Before(c.items[oldest].at) {
				oldest = k
			}
		}
		delete(c.items, oldest)
	}
	c.items[key] = cached{at: at, value: value}
}
