package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// recoverMarks processes again the versions that stopped processes may have left unprocessed: those of every mark
// whose heartbeat stopped (at start of a single writer, every other mark), then removes the mark.
func (l *Ledger) recoverMarks(ctx context.Context, starting bool) error {
	marks, err := l.ls.Marks(ctx)
	if err != nil {
		return fmt.Errorf("read processing marks: %w", err)
	}
	now := l.opts.Clock()
	for _, m := range marks {
		if m.ID == l.mark || !((starting && l.opts.SingleWriter) || now.Sub(m.Beat) > l.opts.DeadAfter) {
			continue
		}
		from, to := m.Through.Add(-l.opts.Margin), m.Beat.Add(l.opts.Margin)
		l.opts.Logger.Info("ledger: processing again the versions a stopped process may have left", "from", from, "to", to)
		if err := l.Replay(ctx, from, to); err != nil {
			return err
		}
		if err := l.ls.DeleteMark(ctx, m.ID); err != nil {
			return fmt.Errorf("remove processing mark: %w", err)
		}
	}
	return nil
}

// Replay processes again every resource with a version committed between from and to, at its current version,
// and records the ledger entries of obligation Task versions written then that the ledger lacks. Processing is
// idempotent, so replaying what was processed changes nothing.
func (l *Ledger) Replay(ctx context.Context, from, to time.Time) error {
	touched, tasks, found, err := l.versionsBetween(ctx, from, to)
	if err != nil {
		return err
	}
	events, err := findingEvents(found)
	if err != nil {
		return err
	}
	for _, ref := range touched {
		ev, err := l.currentEvent(ctx, ref)
		if err != nil {
			return err
		}
		if ev != nil {
			events = append(events, ev)
		}
		if len(events) == l.opts.BatchSize {
			if err := l.process(ctx, events); err != nil {
				return err
			}
			events = nil
		}
	}
	if err := l.process(ctx, events); err != nil {
		return err
	}
	return l.restoreEntries(ctx, tasks)
}

// versionsBetween lists the resources (watched by the pack) with versions committed in [from, to], and the
// obligation Task versions committed then.
func (l *Ledger) versionsBetween(ctx context.Context, from, to time.Time) ([]string, []store.Entry, []store.Entry, error) {
	seen := map[string]bool{}
	var touched []string
	var tasks, found []store.Entry
	q := store.HistoryQuery{Since: from, Count: 500}
	for {
		page, err := l.st.History(ctx, q)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read versions since %s: %w", from.Format(time.RFC3339), err)
		}
		for _, e := range page.Entries {
			if len(e.Findings) > 0 && !e.LastUpdated.After(to) {
				found = append(found, e)
			}
			switch {
			case e.LastUpdated.After(to):
			case e.Type == "Task" && strings.HasPrefix(e.ID, IDPrefix):
				tasks = append(tasks, e)
			case l.pack.Watches(e.Type) && !seen[e.Reference()]:
				seen[e.Reference()] = true
				touched = append(touched, e.Reference())
			}
		}
		if page.Next == "" {
			return touched, tasks, found, nil
		}
		q.Cursor = page.Next
	}
}

// currentEvent is the current version of ref as an event to process again; nil when it never existed.
func (l *Ledger) currentEvent(ctx context.Context, ref string) (*event, error) {
	typ, id, _ := strings.Cut(ref, "/")
	r, err := l.st.Read(ctx, typ, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case errors.Is(err, store.ErrGone):
		return &event{typ: typ, id: id, vid: r.VersionID, time: r.LastUpdated, actor: "unknown", fromRecovery: true}, nil
	case err != nil:
		return nil, err
	}
	obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", ref, err)
	}
	return &event{typ: typ, id: id, vid: r.VersionID, time: r.LastUpdated, obj: obj, actor: "unknown", fromRecovery: true}, nil
}

// restoreEntries appends the entries of obligation Task versions that the ledger lacks (a process stopped between
// writing the version and appending its entry).
func (l *Ledger) restoreEntries(ctx context.Context, tasks []store.Entry) error {
	if len(tasks) == 0 {
		return nil
	}
	keys := make([]string, len(tasks))
	for i, t := range tasks {
		keys[i] = "Task/" + t.ID + "/" + t.VersionID
	}
	has, err := l.ls.HasKeys(ctx, keys)
	if err != nil {
		return fmt.Errorf("look up ledger entries: %w", err)
	}
	var missing []Entry
	for i := len(tasks) - 1; i >= 0; i-- { // oldest first
		t := tasks[i]
		if has[keys[i]] || t.Deleted {
			continue
		}
		obj, err := fhir.DecodeObject(t.JSON, fhir.MaxDepth)
		if err != nil {
			continue
		}
		if o, ok := l.pack.parseObligation(obj, t.VersionID); ok {
			missing = append(missing, o.entry(t.VersionID))
		}
	}
	if len(missing) > 0 {
		l.opts.Logger.Warn("ledger: restoring entries of obligation changes written before a stop", "count", len(missing))
	}
	_, err = l.ls.Append(ctx, missing)
	return err
}

// findingEvents are the versions written with validation findings, as events that record only those (their
// entries are keyed by version, so recording them again changes nothing).
func findingEvents(found []store.Entry) ([]*event, error) {
	var events []*event
	for _, e := range found {
		ev := &event{typ: e.Type, id: e.ID, vid: e.VersionID, time: e.LastUpdated, actor: "unknown", fromRecovery: true,
			findings: e.Findings, findingsOnly: true}
		if !e.Deleted {
			obj, err := fhir.DecodeObject(e.JSON, fhir.MaxDepth)
			if err != nil {
				return nil, fmt.Errorf("decode %s/%s/%s: %w", e.Type, e.ID, e.VersionID, err)
			}
			ev.obj = obj
		}
		events = append(events, ev)
	}
	return events, nil
}
