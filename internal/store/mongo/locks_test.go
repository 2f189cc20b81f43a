package mongo

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKeyLocks: a key's holders exclude each other; overlapping key sets taken in any order do not deadlock;
// a key held by one caller does not block a caller of other keys; unused keys are forgotten.
func TestKeyLocks(t *testing.T) {
	var l keyLocks
	t.Run("one holder per key", func(t *testing.T) {
		var inside, most atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 32; i++ {
			wg.Go(func() {
				for j := 0; j < 50; j++ {
					unlock := l.lock([]string{"Task/a", fmt.Sprint("Task/x", i)})
					if n := inside.Add(1); n > most.Load() {
						most.Store(n)
					}
					time.Sleep(time.Microsecond)
					inside.Add(-1)
					unlock()
				}
			})
		}
		wg.Wait()
		if most.Load() != 1 {
			t.Errorf("%d callers held Task/a at once, want 1", most.Load())
		}
	})
	t.Run("overlapping sets in any order", func(t *testing.T) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			var wg sync.WaitGroup
			for i := 0; i < 16; i++ {
				keys := []string{"A", "B", "C"}
				if i%2 == 1 {
					keys = []string{"C", "B", "A", "A"}
				}
				wg.Go(func() {
					for j := 0; j < 200; j++ {
						l.lock(keys)()
					}
				})
			}
			wg.Wait()
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("callers taking overlapping keys in different orders deadlocked")
		}
	})
	t.Run("other keys are not blocked", func(t *testing.T) {
		unlock := l.lock([]string{"Task/held"})
		defer unlock()
		got := make(chan struct{})
		go func() {
			for i := 0; i < 1000; i++ { // with striped locks some of these would share the held stripe
				l.lock([]string{fmt.Sprint("Encounter/", i)})()
			}
			close(got)
		}()
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("a caller of other keys waited for the held key")
		}
	})
	t.Run("unused keys are forgotten", func(t *testing.T) {
		l.lock([]string{"Patient/p1", "Patient/p2"})()
		l.mu.Lock()
		defer l.mu.Unlock()
		for k := range l.m {
			if k != "Task/held" {
				t.Errorf("key %q is still in the map after its last holder left", k)
			}
		}
	})
}
