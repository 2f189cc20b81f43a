package ledger

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/store"
)

// Options configure a Ledger; DefaultOptions gives the defaults.
type Options struct {
	// Clock gives the time: due times are compared with it, and breaches and marks are dated by it.
	Clock func() time.Time
	// SweepInterval is how often the sweeper looks for obligations past due (ACCORD_SWEEP_INTERVAL).
	SweepInterval time.Duration
	// Heartbeat is how often the process's mark is written; a mark not written for DeadAfter belongs to a stopped
	// process.
	Heartbeat, DeadAfter time.Duration
	// Margin widens the window of versions processed again for a stopped process, for commits in flight.
	Margin time.Duration
	// SingleWriter says this process is the only one using the database (the embedded one): every mark found at
	// start belongs to a stopped process.
	SingleWriter bool
	// QueueSize bounds the committed versions waiting to be processed (writers wait beyond it); BatchSize is the
	// most processed together.
	QueueSize, BatchSize int
	// Linger is how long the processor waits for more versions before it processes a batch: the writes of a batch
	// share their round trips to the database (a Flush does not wait for it).
	Linger time.Duration
	// EarlyRetention is how long a resource that came before its obligation is kept waiting for it.
	EarlyRetention time.Duration
	// Logger receives operational messages (never resource content).
	Logger *slog.Logger
}

// DefaultOptions returns a one-minute sweep, ten-second heartbeats, a two-minute margin, and batches gathered for
// at most a quarter of a second.
func DefaultOptions() Options {
	return Options{
		Clock: time.Now, SweepInterval: time.Minute, Heartbeat: 10 * time.Second, DeadAfter: time.Minute,
		Margin: 2 * time.Minute, QueueSize: 4096, BatchSize: 128, Linger: 250 * time.Millisecond, EarlyRetention: 30 * 24 * time.Hour,
		Logger: slog.Default(),
	}
}

// Ledger is the obligations engine and the ledger: it processes committed resource versions, sweeps for breaches,
// and answers the ledger's queries. It is safe for concurrent use.
type Ledger struct {
	st   store.Store
	ls   Store
	pack *Pack
	opts Options
	mark string

	queue   chan *event
	flushed chan struct{} // a Flush asks the processor not to linger
	stopped chan struct{}
	stop    sync.Once

	enqueued, processed atomic.Int64
	pendingMu           sync.Mutex
	pending             map[int64]time.Time // enqueued, not yet processed: sequence → version time
	lostFloor           time.Time           // oldest version not queued because processing had stopped

	recent  *recentVersions
	reports *reportCache
}

// New returns a Ledger over the resource store st (written directly, not through Observe) and the ledger store ls,
// applying pack.
func New(st store.Store, ls Store, pack *Pack, opts Options) *Ledger {
	d := DefaultOptions()
	if opts.Clock == nil {
		opts.Clock = d.Clock
	}
	if opts.Logger == nil {
		opts.Logger = d.Logger
	}
	for _, f := range []struct{ v, def *time.Duration }{
		{&opts.SweepInterval, &d.SweepInterval}, {&opts.Heartbeat, &d.Heartbeat}, {&opts.DeadAfter, &d.DeadAfter},
		{&opts.Margin, &d.Margin}, {&opts.EarlyRetention, &d.EarlyRetention},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = d.QueueSize
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = d.BatchSize
	}
	if opts.Linger < 0 {
		opts.Linger = 0
	}
	return &Ledger{
		st: st, ls: ls, pack: pack, opts: opts, mark: uuid.NewString(),
		queue: make(chan *event, opts.QueueSize), flushed: make(chan struct{}, 1), stopped: make(chan struct{}),
		pending: map[int64]time.Time{}, recent: newRecentVersions(8192), reports: newReportCache(64),
	}
}

// Pack returns the rule pack in force.
func (l *Ledger) Pack() *Pack { return l.pack }

// event is one committed resource version to process.
type event struct {
	seq          int64
	typ, id, vid string
	time         time.Time
	obj          fhir.Object // nil for a deletion
	created      bool        // version 1 of a new resource: no obligation of it can exist yet
	actor        string
	fromRecovery bool
	// findings are the version's clause-bearing validation warnings (rules at warning level), each recorded as a
	// finding; findingsOnly says the event is only for them (replayed from history).
	findings     []fhir.Issue
	findingsOnly bool
}

func (e *event) ref() string        { return e.typ + "/" + e.id }
func (e *event) versionRef() string { return e.typ + "/" + e.id + "/_history/" + e.vid }

// Observe returns st with two duties added to Commit: it refuses client writes of obligation Tasks (a 403
// OperationOutcome), and it hands every committed version to the Ledger for processing. The REST service writes
// through it; the Ledger itself writes to st directly.
func (l *Ledger) Observe(st store.Store) store.Store { return &observed{Store: st, l: l} }

type observed struct {
	store.Store
	l *Ledger
}

var _ store.Guard = (*observed)(nil)

// Reserved refuses the writes of obligation Tasks, which only the ledger makes.
func (o *observed) Reserved(typ, id string) error {
	if typ == "Task" && HasObligationID(id) {
		return errObligationWrite()
	}
	return nil
}

// errObligationWrite is the refusal of a client's write of an obligation Task (403).
func errObligationWrite() error {
	return fhir.Errorf(fhir.IssueForbidden, "Task", "obligation Tasks (Task/%s…) are kept by Accord's ledger: clients cannot create, change or delete them, nor Tasks carrying the obligation tag, profile or a clause code", IDPrefix)
}

// Commit refuses writes of obligation Tasks, commits, and queues what was committed.
func (o *observed) Commit(ctx context.Context, writes []store.Write) ([]store.Result, error) {
	for _, w := range writes {
		if w.Type == "Task" && (HasObligationID(w.ID) || (w.Object != nil && IsObligationTask(w.Object))) {
			return nil, errObligationWrite()
		}
	}
	res, err := o.Store.Commit(ctx, writes)
	if err != nil {
		return res, err
	}
	actor := "unknown"
	if p, ok := auth.PrincipalFrom(ctx); ok {
		actor = p.ClientID
	}
	for i, r := range res {
		if r.Noop || (!o.l.pack.Watches(r.Resource.Type) && len(writes[i].Findings) == 0) {
			continue
		}
		ev := &event{typ: r.Resource.Type, id: r.Resource.ID, vid: r.Resource.VersionID, time: r.Resource.LastUpdated,
			created: r.Created && r.Resource.VersionID == "1", actor: actor, findings: writes[i].Findings}
		if !r.Resource.Deleted {
			ev.obj = writes[i].Object
		}
		o.l.enqueue(ev)
	}
	return res, nil
}

// enqueue hands ev to the processor; when processing has stopped it records ev's time so that the mark covers it.
func (l *Ledger) enqueue(ev *event) {
	ev.seq = l.enqueued.Add(1)
	l.pendingMu.Lock()
	l.pending[ev.seq] = ev.time
	l.pendingMu.Unlock()
	select {
	case l.queue <- ev:
	case <-l.stopped:
		l.pendingMu.Lock()
		delete(l.pending, ev.seq)
		if l.lostFloor.IsZero() || ev.time.Before(l.lostFloor) {
			l.lostFloor = ev.time
		}
		l.pendingMu.Unlock()
		l.processed.Add(1)
	}
}

// done records that events were processed.
func (l *Ledger) done(events []*event) {
	l.pendingMu.Lock()
	for _, ev := range events {
		delete(l.pending, ev.seq)
	}
	l.pendingMu.Unlock()
	l.processed.Add(int64(len(events)))
}

// through is the time up to which every version this process committed has been processed: the oldest version
// still waiting, or now.
func (l *Ledger) through(now time.Time) (time.Time, bool) {
	l.pendingMu.Lock()
	defer l.pendingMu.Unlock()
	t := now
	for _, ts := range l.pending {
		if ts.Before(t) {
			t = ts
		}
	}
	if !l.lostFloor.IsZero() && l.lostFloor.Before(t) {
		t = l.lostFloor
	}
	return t, len(l.pending) == 0 && l.lostFloor.IsZero()
}

// Flush waits until every version queued before the call has been processed, or ctx ends.
func (l *Ledger) Flush(ctx context.Context) error {
	target := l.enqueued.Load()
	if l.processed.Load() < target {
		select {
		case l.flushed <- struct{}{}:
		default:
		}
	}
	for l.processed.Load() < target {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.stopped:
			return nil
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

// Run processes committed versions, sweeps for breaches every SweepInterval, processes again what stopped
// processes left, and keeps this process's mark, until ctx ends; it then processes what is queued (for up to ten
// seconds) and leaves a mark for what it could not.
func (l *Ledger) Run(ctx context.Context) error {
	if err := l.heartbeat(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("ledger: %w", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { l.processLoop(ctx) })
	wg.Go(func() { l.sweepLoop(ctx) })
	wg.Wait()
	l.stop.Do(func() { close(l.stopped) })
	return l.finish()
}

// processLoop takes batches off the queue until ctx ends.
func (l *Ledger) processLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-l.queue:
			batch := l.take(ev, l.opts.Linger)
			if err := l.processRetrying(ctx, batch); err != nil && ctx.Err() == nil {
				l.opts.Logger.Error("ledger: processing failed; the versions will be processed again at the next sweep", "err", err, "versions", len(batch))
				l.keep(batch)
			}
			l.done(batch)
		}
	}
}

// processRetrying processes a batch, trying again twice after a failure (a database that did not answer).
func (l *Ledger) processRetrying(ctx context.Context, batch []*event) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = l.process(ctx, batch); err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
		}
	}
	return err
}

// takeLost returns (and forgets) the time of the oldest version this process failed to process, zero when none.
func (l *Ledger) takeLost() time.Time {
	l.pendingMu.Lock()
	defer l.pendingMu.Unlock()
	t := l.lostFloor
	l.lostFloor = time.Time{}
	return t
}

// restoreLost puts back the time takeLost took, when processing it again failed.
func (l *Ledger) restoreLost(t time.Time) {
	l.pendingMu.Lock()
	defer l.pendingMu.Unlock()
	if l.lostFloor.IsZero() || t.Before(l.lostFloor) {
		l.lostFloor = t
	}
}

// take returns first plus what else is queued within linger (or until a Flush), up to BatchSize.
func (l *Ledger) take(first *event, linger time.Duration) []*event {
	batch := []*event{first}
	var timeout <-chan time.Time
	if linger > 0 {
		t := time.NewTimer(linger)
		defer t.Stop()
		timeout = t.C
	}
	for len(batch) < l.opts.BatchSize {
		select {
		case ev := <-l.queue:
			batch = append(batch, ev)
			continue
		default:
		}
		if timeout == nil {
			return batch
		}
		select {
		case ev := <-l.queue:
			batch = append(batch, ev)
		case <-timeout:
			return batch
		case <-l.flushed:
			timeout = nil
		}
	}
	return batch
}

// keep makes the mark cover a batch whose processing failed.
func (l *Ledger) keep(batch []*event) {
	l.pendingMu.Lock()
	defer l.pendingMu.Unlock()
	for _, ev := range batch {
		if l.lostFloor.IsZero() || ev.time.Before(l.lostFloor) {
			l.lostFloor = ev.time
		}
	}
}

// finish processes what is still queued, then removes this process's mark, or leaves it for what remains.
func (l *Ledger) finish() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		select {
		case ev := <-l.queue:
			batch := l.take(ev, 0)
			if err := l.process(ctx, batch); err != nil {
				l.keep(batch)
			}
			l.done(batch)
			continue
		default:
		}
		break
	}
	if _, clean := l.through(l.opts.Clock()); clean {
		return l.ls.DeleteMark(ctx, l.mark)
	}
	return l.heartbeat(ctx)
}

// heartbeat writes this process's mark.
func (l *Ledger) heartbeat(ctx context.Context) error {
	now := l.opts.Clock().UTC()
	through, _ := l.through(now)
	return l.ls.PutMark(ctx, Mark{ID: l.mark, Through: through, Beat: now})
}
