package audit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"
)

// recordingStore keeps what the Writer appends, and fails while told to; it stands for the database only in
// these tests of the Writer's buffering (internal/store/mongo tests the real store).
type recordingStore struct {
	mu      sync.Mutex
	entries []Entry
	calls   int
	failing bool
	block   chan struct{} // when not nil, Append waits for it
}

func (s *recordingStore) Append(ctx context.Context, entries []Entry) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failing {
		return errors.New("database down")
	}
	s.entries = append(s.entries, entries...)
	return nil
}

func (s *recordingStore) Search(context.Context, Query) (Page, error) { return Page{}, nil }
func (s *recordingStore) Get(context.Context, string) (Entry, error)  { return Entry{}, ErrNotFound }

func (s *recordingStore) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.entries))
	for i, e := range s.entries {
		out[i] = e.ID
	}
	return out
}

func (s *recordingStore) setFailing(v bool) { s.mu.Lock(); s.failing = v; s.mu.Unlock() }

func quietOptions() WriterOptions {
	return WriterOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), FlushEvery: time.Hour}
}

func record(w *Writer, from, to int) {
	for i := from; i < to; i++ {
		w.Record(context.Background(), Entry{ID: strconv.Itoa(i)})
	}
}

func TestWriter_FlushWritesEverythingInOrder_InBatches(t *testing.T) {
	st := &recordingStore{}
	o := quietOptions()
	o.BatchSize = 10
	w := NewWriter(st, o)
	record(w, 0, 25)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := st.ids()
	if len(ids) != 25 || ids[0] != "0" || ids[24] != "24" {
		t.Fatalf("stored %v", ids)
	}
	if st.calls < 3 {
		t.Errorf("%d appends for 25 entries in batches of 10", st.calls)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWriter_TimerFlushes(t *testing.T) {
	st := &recordingStore{}
	o := quietOptions()
	o.FlushEvery = 10 * time.Millisecond
	w := NewWriter(st, o)
	defer w.Close(context.Background())
	record(w, 0, 3)
	deadline := time.Now().Add(5 * time.Second)
	for len(st.ids()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(st.ids()); n != 3 {
		t.Errorf("%d entries written by the timer, want 3", n)
	}
}

func TestWriter_StoreFails_EntriesKeptAndRetried(t *testing.T) {
	st := &recordingStore{failing: true}
	w := NewWriter(st, quietOptions())
	record(w, 0, 5)
	if err := w.Flush(context.Background()); err == nil {
		t.Fatal("Flush hid the store's failure")
	}
	st.setFailing(false)
	record(w, 5, 7)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := st.ids(); len(ids) != 7 {
		t.Errorf("after recovery %d entries stored, want 7: %v", len(ids), ids)
	}
	if w.Dropped() != 0 {
		t.Errorf("%d dropped", w.Dropped())
	}
	w.Close(context.Background())
}

func TestWriter_BufferFull_WaitsThenCountsDrops(t *testing.T) {
	st := &recordingStore{block: make(chan struct{})}
	o := quietOptions()
	o.Buffer, o.BatchSize, o.Wait = 2, 1, 50*time.Millisecond
	w := NewWriter(st, o)
	start := time.Now()
	record(w, 0, 6) // the writer holds one in a blocked Append, two wait in the queue, the rest stay
	if w.Dropped() == 0 {
		t.Fatal("no entry dropped with the store blocked and the buffer full")
	}
	if time.Since(start) < o.Wait {
		t.Errorf("Record dropped without waiting for room (%v)", time.Since(start))
	}
	close(st.block)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if stored := int64(len(st.ids())); stored+w.Dropped() != 6 {
		t.Errorf("%d stored + %d dropped, want 6 in all", stored, w.Dropped())
	}
}

func TestWriter_Close_DrainsTheQueue_ThenRefuses(t *testing.T) {
	st := &recordingStore{}
	w := NewWriter(st, quietOptions())
	record(w, 0, 100)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(st.ids()); n != 100 {
		t.Errorf("%d entries written at Close, want 100", n)
	}
	w.Record(context.Background(), Entry{ID: "late"})
	if w.Dropped() != 1 {
		t.Errorf("a Record after Close was not counted as dropped")
	}
	if err := w.Flush(context.Background()); err == nil {
		t.Error("Flush after Close succeeded")
	}
}

func TestTrail_TouchAndInteraction(t *testing.T) {
	tr := &Trail{}
	ctx := NewContext(context.Background(), tr)
	for i := 0; i < MaxResources+5; i++ {
		Touch(ctx, "Task/"+strconv.Itoa(i))
	}
	SetInteraction(ctx, "transaction")
	Touch(context.Background(), "Task/ignored") // no trail: nothing happens
	res, omitted := tr.Resources()
	if len(res) != MaxResources || omitted != 5 || res[0] != "Task/0" || tr.Interaction() != "transaction" {
		t.Errorf("trail: %d resources, %d omitted, interaction %q", len(res), omitted, tr.Interaction())
	}
	for status, want := range map[int]string{200: "0", 201: "0", 404: "4", 429: "4", 500: "8"} {
		if got := (Entry{Status: status}).Outcome(); got != want {
			t.Errorf("Outcome(%d) = %s, want %s", status, got, want)
		}
	}
}
