package embeddb

import (
	"net"
	"os"
	"sync"
	"time"
)

// turns hands out each database's turn to write: at most one write command per database is in flight. It also
// counts, for tests, how many are in flight and waiting.
type turns struct {
	mu       sync.Mutex
	dbs      map[string]*turn
	inFlight int // write commands in flight over all databases
	maxAll   int // the most in flight at once over all databases
}

// turn is one database's turn. The slot holds a token while the turn is taken; writers blocked sending to the
// full channel are served in arrival order.
type turn struct {
	slot chan struct{}
	// Guarded by turns.mu:
	holders, maxHolders, waiting int
}

func newTurns() *turns { return &turns{dbs: make(map[string]*turn)} }

// acquire waits for db's turn. It gives up with net.ErrClosed when closed is closed, and with
// os.ErrDeadlineExceeded when deadline (if not zero) passes.
func (ts *turns) acquire(db string, closed <-chan struct{}, deadline time.Time) (*turn, error) {
	ts.mu.Lock()
	t := ts.dbs[db]
	if t == nil {
		t = &turn{slot: make(chan struct{}, 1)}
		ts.dbs[db] = t
	}
	t.waiting++
	ts.mu.Unlock()
	err := wait(t.slot, closed, deadline)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t.waiting--
	if err != nil {
		return nil, err
	}
	t.holders++
	t.maxHolders = max(t.maxHolders, t.holders)
	ts.inFlight++
	ts.maxAll = max(ts.maxAll, ts.inFlight)
	return t, nil
}

// wait puts a token in slot, unless closed is closed or deadline passes first.
func wait(slot chan<- struct{}, closed <-chan struct{}, deadline time.Time) error {
	select {
	case slot <- struct{}{}:
		return nil
	default:
	}
	var expired <-chan time.Time
	if !deadline.IsZero() {
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case slot <- struct{}{}:
		return nil
	case <-closed:
		return net.ErrClosed
	case <-expired:
		return os.ErrDeadlineExceeded
	}
}

// release gives t back; each successful acquire is released exactly once.
func (ts *turns) release(t *turn) {
	ts.mu.Lock()
	t.holders--
	ts.inFlight--
	ts.mu.Unlock()
	<-t.slot
}

// turnStats is what tests observe of one database's turn.
type turnStats struct {
	MaxInFlight, Waiting, InFlight int
}

// stats reports, per database, the most write commands ever in flight at once, those waiting and those in flight
// now, and the most in flight at once over all databases.
func (ts *turns) stats() (map[string]turnStats, int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := make(map[string]turnStats, len(ts.dbs))
	for db, t := range ts.dbs {
		out[db] = turnStats{MaxInFlight: t.maxHolders, Waiting: t.waiting, InFlight: t.holders}
	}
	return out, ts.maxAll
}
