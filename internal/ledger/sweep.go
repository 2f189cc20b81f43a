package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// sweepPage is how many obligations past due one sweep round reads.
const sweepPage = 200

// Actor is the actor of the changes the ledger makes itself (breaches).
const Actor = "accord"

// Sweep marks every open obligation whose due time is before now (the Clock) as breached, and returns how many
// it marked. Each breach is one new version of the obligation's Task, which only one writer can make: with several
// processes sweeping at once, each breach is still recorded once.
func (l *Ledger) Sweep(ctx context.Context) (int, error) {
	now := l.opts.Clock().UTC()
	total := 0
	for {
		page, err := l.st.Find(ctx, "Task", store.Query{
			Conds: []store.Cond{
				{Field: FieldState, Op: store.OpEq, Values: []any{StateOpen}},
				{Field: FieldDue, Op: store.OpLt, Values: []any{now}},
			},
			Sort:  []store.SortKey{{Field: FieldDue}},
			Count: sweepPage,
		})
		if err != nil {
			return total, fmt.Errorf("find obligations past due: %w", err)
		}
		b := &batch{l: l, known: map[string]*Obligation{}, resources: map[string]fhir.Object{}}
		var ds []decision
		for _, r := range page.Resources {
			obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
			if err != nil {
				continue
			}
			o, ok := l.pack.parseObligation(obj, r.VersionID)
			if !ok {
				continue
			}
			b.known[o.ID] = o
			ds = append(ds, breach(o.ID, now))
		}
		if err := b.apply(ctx, ds); err != nil {
			return total, err
		}
		if _, err := l.ls.Append(ctx, b.entries); err != nil {
			return total, fmt.Errorf("append breaches: %w", err)
		}
		total += len(b.entries)
		if len(page.Resources) < sweepPage || len(b.entries) == 0 {
			return total, nil
		}
	}
}

// breach is the decision to mark obligation id breached at now, if it is still open and past due.
func breach(id string, now time.Time) decision {
	return decision{id: id, decide: func(cur *Obligation) *Obligation {
		if cur == nil || cur.State != StateOpen || !cur.Due.Before(now) {
			return nil
		}
		next := cur.clone()
		next.State, next.Change, next.Closed = StateBreached, ChangeBreached, now
		next.Event, next.EventTime, next.Actor = cur.Ref()+"/_history/"+cur.VersionID, now, Actor
		return next
	}}
}

// sweepLoop sweeps every SweepInterval, processes again what stopped processes left, and writes the mark every
// Heartbeat, until ctx ends.
func (l *Ledger) sweepLoop(ctx context.Context) {
	if err := l.recoverMarks(ctx, true); err != nil && ctx.Err() == nil {
		l.opts.Logger.Error("ledger: processing again what a stopped process left failed", "err", err)
	}
	sweep, beat := time.NewTicker(l.opts.SweepInterval), time.NewTicker(l.opts.Heartbeat)
	defer sweep.Stop()
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			l.maintain(ctx)
		case <-beat.C:
			if err := l.heartbeat(ctx); err != nil && ctx.Err() == nil {
				l.opts.Logger.Warn("ledger: writing the processing mark failed", "err", err)
			}
		}
	}
}

// maintain is one sweep, one look for stopped processes, and the removal of old early fulfilments.
func (l *Ledger) maintain(ctx context.Context) {
	if n, err := l.Sweep(ctx); err != nil && ctx.Err() == nil {
		l.opts.Logger.Error("ledger: breach sweep failed", "err", err)
	} else if n > 0 {
		l.opts.Logger.Info("ledger: obligations breached", "count", n)
	}
	if err := l.recoverMarks(ctx, false); err != nil && ctx.Err() == nil {
		l.opts.Logger.Error("ledger: processing again what a stopped process left failed", "err", err)
	}
	if lost := l.takeLost(); !lost.IsZero() {
		if err := l.Replay(ctx, lost.Add(-l.opts.Margin), l.opts.Clock()); err != nil {
			l.restoreLost(lost)
			l.opts.Logger.Error("ledger: processing again what failed earlier failed", "err", err)
		}
	}
	old := l.opts.Clock().Add(-l.opts.EarlyRetention)
	if err := l.ls.DeleteEarly(ctx, nil, old); err != nil && ctx.Err() == nil {
		l.opts.Logger.Warn("ledger: removing old early fulfilments failed", "err", err)
	}
}
