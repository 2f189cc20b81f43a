package auth

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPracticeCache(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	c := newPracticeCache(30*time.Second, 2, func() time.Time { return now })
	if _, ok := c.get("p1"); ok {
		t.Fatal("empty cache returned an entry")
	}
	c.put("p1", []string{"G85001"}, c.generation())
	if got, ok := c.get("p1"); !ok || !cmp.Equal(got, []string{"G85001"}) {
		t.Errorf("get(p1) = %v, %v", got, ok)
	}
	c.put("p1", []string{"G85002"}, c.generation()) // a later read replaces its entry
	if got, _ := c.get("p1"); !cmp.Equal(got, []string{"G85002"}) {
		t.Errorf("after re-put, get(p1) = %v", got)
	}
	now = now.Add(31 * time.Second)
	if _, ok := c.get("p1"); ok {
		t.Error("an expired entry was returned")
	}
	c.put("p2", nil, c.generation())
	c.put("p3", []string{"X"}, c.generation()) // full: the expired p1 goes first
	if _, ok := c.get("p2"); !ok {
		t.Error("p2 was dropped although an expired entry could go")
	}
	c.put("p4", []string{"Y"}, c.generation()) // full of live entries: cleared
	if got, ok := c.get("p4"); !ok || !cmp.Equal(got, []string{"Y"}) {
		t.Errorf("get(p4) = %v, %v", got, ok)
	}
}

func TestPracticeCache_DropAndClear(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		change   func(c *practiceCache)
		wantKeep []string // of p1, p2: the entries still cached
	}{
		{"drop one", func(c *practiceCache) { c.drop("p1") }, []string{"p2"}},
		{"drop several", func(c *practiceCache) { c.drop("p1", "p2") }, nil},
		{"drop unknown", func(c *practiceCache) { c.drop("p9") }, []string{"p1", "p2"}},
		{"clear", func(c *practiceCache) { c.clear() }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newPracticeCache(time.Minute, 10, func() time.Time { return now })
			c.put("p1", []string{"A"}, c.generation())
			c.put("p2", []string{"B"}, c.generation())
			gen := c.generation() // a read starts
			tc.change(c)
			for _, k := range []string{"p1", "p2"} {
				if _, ok := c.get(k); ok != slices.Contains(tc.wantKeep, k) {
					t.Errorf("get(%s) cached = %v, want kept %v", k, ok, tc.wantKeep)
				}
			}
			// What the read started before the change found may be older than it: not kept.
			c.put("p3", []string{"old"}, gen)
			if _, ok := c.get("p3"); ok {
				t.Error("a value read before a drop was cached after it")
			}
			c.put("p3", []string{"new"}, c.generation())
			if got, ok := c.get("p3"); !ok || !cmp.Equal(got, []string{"new"}) {
				t.Errorf("get(p3) = %v, %v after a put of the current generation", got, ok)
			}
		})
	}
}
