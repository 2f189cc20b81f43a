package auth

import (
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
	c.put("p1", []string{"G85001"})
	if got, ok := c.get("p1"); !ok || !cmp.Equal(got, []string{"G85001"}) {
		t.Errorf("get(p1) = %v, %v", got, ok)
	}
	c.put("p1", []string{"G85002"}) // a Patient written through this process replaces its entry
	if got, _ := c.get("p1"); !cmp.Equal(got, []string{"G85002"}) {
		t.Errorf("after re-put, get(p1) = %v", got)
	}
	now = now.Add(31 * time.Second)
	if _, ok := c.get("p1"); ok {
		t.Error("an expired entry was returned")
	}
	c.put("p2", nil)
	c.put("p3", []string{"X"}) // full: the expired p1 goes first
	if _, ok := c.get("p2"); !ok {
		t.Error("p2 was dropped although an expired entry could go")
	}
	c.put("p4", []string{"Y"}) // full of live entries: cleared
	if got, ok := c.get("p4"); !ok || !cmp.Equal(got, []string{"Y"}) {
		t.Errorf("get(p4) = %v, %v", got, ok)
	}
}
