package audit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// WriterOptions configure a Writer; zero fields take the defaults of DefaultWriterOptions.
type WriterOptions struct {
	// Buffer is how many entries may wait to be written.
	Buffer int
	// BatchSize is the most entries written at once.
	BatchSize int
	// FlushEvery is how long an entry may wait before it is written.
	FlushEvery time.Duration
	// Wait is how long Record waits for room in a full buffer (the database is slow or down) before it drops the
	// entry, counts it and logs an error.
	Wait time.Duration
	// Timeout bounds one write to the store.
	Timeout time.Duration
	// Logger receives failures (never entry content).
	Logger *slog.Logger
}

// DefaultWriterOptions returns a buffer of 10 000 entries written every 100 ms in batches of 500, a 5 s wait for
// room, and a 10 s timeout.
func DefaultWriterOptions() WriterOptions {
	return WriterOptions{Buffer: 10000, BatchSize: 500, FlushEvery: 100 * time.Millisecond, Wait: 5 * time.Second,
		Timeout: 10 * time.Second, Logger: slog.Default()}
}

// Writer is the Recorder of the service: Record queues the entry and returns; a goroutine writes the queue to the
// Store in batches, every FlushEvery, and keeps a batch that fails to retry it. When the buffer is full Record
// waits for room (backpressure), and only after Wait drops the entry — counted in Dropped and logged. Close writes
// what is queued.
type Writer struct {
	store Store
	o     WriterOptions
	queue chan Entry
	flush chan chan error
	done  chan struct{}

	mu      sync.RWMutex // Record holds it to read, Close to close the queue
	closed  bool
	dropped atomic.Int64
}

var _ Recorder = (*Writer)(nil)

// NewWriter returns a running Writer to st.
func NewWriter(st Store, o WriterOptions) *Writer {
	d := DefaultWriterOptions()
	if o.Buffer <= 0 {
		o.Buffer = d.Buffer
	}
	if o.BatchSize <= 0 {
		o.BatchSize = d.BatchSize
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = d.FlushEvery
	}
	if o.Wait <= 0 {
		o.Wait = d.Wait
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	w := &Writer{store: st, o: o, queue: make(chan Entry, o.Buffer), flush: make(chan chan error), done: make(chan struct{})}
	go w.run()
	return w
}

// Record queues e. It waits up to Wait for room in a full buffer; then (or after Close) it drops e, counts it, and
// logs an error.
func (w *Writer) Record(_ context.Context, e Entry) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.drop("the audit writer is closed")
		return
	}
	select {
	case w.queue <- e:
		return
	default:
	}
	t := time.NewTimer(w.o.Wait)
	defer t.Stop()
	select {
	case w.queue <- e:
	case <-t.C:
		w.drop("the audit buffer stayed full")
	}
}

func (w *Writer) drop(why string) {
	n := w.dropped.Add(1)
	w.o.Logger.Error("audit entry dropped", "reason", why, "dropped_total", n)
}

// Dropped returns how many entries were dropped since the Writer started.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Flush writes every entry queued before it was called; it returns the store's error, if any.
func (w *Writer) Flush(ctx context.Context) error {
	ack := make(chan error, 1)
	select {
	case w.flush <- ack:
	case <-w.done:
		return errors.New("audit writer closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ack:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting entries and writes those queued; it returns an error when they could not all be written
// before ctx ends.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return errors.New("audit writer: entries still unwritten at shutdown")
	}
}

// run writes the queue until it is closed and empty.
func (w *Writer) run() {
	defer close(w.done)
	tick := time.NewTicker(w.o.FlushEvery)
	defer tick.Stop()
	var batch []Entry
	for {
		queue := w.queue
		if len(batch) >= w.o.Buffer { // the store is failing: stop taking entries, so that Record waits
			queue = nil
		}
		select {
		case e, ok := <-queue:
			if !ok {
				w.final(batch)
				return
			}
			if batch = append(batch, e); len(batch) >= w.o.BatchSize {
				batch, _ = w.write(batch)
			}
		case <-tick.C:
			batch, _ = w.write(batch)
		case ack := <-w.flush:
			batch = w.drain(batch)
			var err error
			batch, err = w.write(batch)
			ack <- err
		}
	}
}

// drain moves what is queued now into batch.
func (w *Writer) drain(batch []Entry) []Entry {
	for {
		select {
		case e, ok := <-w.queue:
			if !ok {
				return batch
			}
			batch = append(batch, e)
		default:
			return batch
		}
	}
}

// final writes the last entries at Close, retrying a few times.
func (w *Writer) final(batch []Entry) {
	for attempt := 0; attempt < 3 && len(batch) > 0; attempt++ {
		batch, _ = w.write(batch)
		if len(batch) > 0 {
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
		}
	}
	if len(batch) > 0 {
		w.dropped.Add(int64(len(batch)))
		w.o.Logger.Error("audit entries lost at shutdown: the store did not answer", "lost", len(batch))
	}
}

// write appends batch to the store in chunks; it returns what is left to write (all of it after a failure).
func (w *Writer) write(batch []Entry) ([]Entry, error) {
	for len(batch) > 0 {
		n := min(len(batch), w.o.BatchSize)
		ctx, cancel := context.WithTimeout(context.Background(), w.o.Timeout)
		err := w.store.Append(ctx, batch[:n])
		cancel()
		if err != nil {
			w.o.Logger.Error("writing audit entries failed; they are kept to retry", "pending", len(batch), "err", err)
			return batch, err
		}
		batch = batch[n:]
	}
	return nil, nil
}
