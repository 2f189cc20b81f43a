package mongo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/internal/store"
)

// errReadOnly is the error of writes through a ledger opened only to read.
var errReadOnly = errors.New("the ledger was opened read-only")

// CommitTasks writes each Task version as its own single-resource commit, as Store.Commit would, but without
// reading the current versions first (each write says which version it follows) and in one round trip per stage
// for all of them: the versions (whose insert is each write's commit), then the current views of new Tasks.
func (l *Ledger) CommitTasks(ctx context.Context, writes []store.Write) []error {
	errs := make([]error, len(writes))
	if len(writes) == 0 {
		return errs
	}
	if l.s == nil {
		for i := range errs {
			errs[i] = errReadOnly
		}
		return errs
	}
	s := l.s
	keys := make([]string, len(writes))
	for i, w := range writes {
		keys[i] = w.Type + "/" + w.ID
	}
	unlock := s.lock(keys)
	defer unlock()
	plans, err := s.planTasks(writes)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	docs := make([]any, len(plans))
	for i, p := range plans {
		docs[i] = p.version
	}
	_, err = s.versionsOf("Task").InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	failed := map[int]bool{}
	if err != nil {
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || len(bwe.WriteErrors) == 0 {
			for i := range errs {
				errs[i] = fmt.Errorf("insert obligation versions: %w", err)
			}
			return errs
		}
		for _, we := range bwe.WriteErrors {
			failed[we.Index] = true
			errs[we.Index] = fmt.Errorf("insert %s: %w", plans[we.Index].version.ID, store.ErrConflict)
			if we.Code != 11000 && we.Code != 11001 {
				errs[we.Index] = fmt.Errorf("insert %s: %s", plans[we.Index].version.ID, we.Message)
			}
		}
	}
	s.putTaskViews(ctx, plans, failed, errs)
	return errs
}

// planTasks prepares the versions of writes: each follows the version its IfMatch names, or is version 1.
func (s *Store) planTasks(writes []store.Write) ([]*plan, error) {
	ts := s.opts.Clock().UTC().Truncate(time.Millisecond)
	plans := make([]*plan, len(writes))
	for i, w := range writes {
		prev, _ := strconv.ParseInt(w.IfMatch, 10, 64)
		vid := prev + 1
		fhir.SetMeta(w.Object, w.ID, strconv.FormatInt(vid, 10), ts)
		raw, err := fhir.Marshal(w.Object)
		if err != nil {
			return nil, fmt.Errorf("encode %s/%s: %w", w.Type, w.ID, err)
		}
		p := &plan{w: w, version: versionDoc{ID: versionKey(w.Type, w.ID, vid), Type: w.Type, RID: w.ID, VID: vid, TS: ts, Method: w.Method, Raw: packJSON(raw)}}
		if s.opts.Indexer != nil {
			if p.index, err = s.opts.Indexer.Index(w.Type, w.Object); err != nil {
				return nil, fmt.Errorf("index %s/%s: %w", w.Type, w.ID, err)
			}
		}
		p.version.Scope, p.version.ScopeVID = pick(p.index, s.opts.VersionFields...), vid // restricted history
		p.result = store.Result{Resource: p.version.resource(), Created: vid == 1}
		plans[i] = p
	}
	return plans, nil
}

// putTaskViews updates the current views of the versions inserted: new Tasks in one insert, the others one by one.
// A failure here leaves the version committed; Recover repairs the view.
func (s *Store) putTaskViews(ctx context.Context, plans []*plan, failed map[int]bool, errs []error) {
	var created []any
	var createdIdx []int
	for i, p := range plans {
		switch {
		case failed[i]:
		case p.version.VID == 1:
			created, createdIdx = append(created, currentFields(p.version, p.index)), append(createdIdx, i)
		default:
			if err := s.putCurrent(ctx, p.version, p.index); err != nil {
				s.opts.Logger.Warn("obligation view left for repair", "resource", p.w.Type+"/"+p.w.ID, "err", err)
			}
		}
	}
	if len(created) == 0 {
		return
	}
	if _, err := s.current("Task").InsertMany(ctx, created, options.InsertMany().SetOrdered(false)); err != nil {
		for _, i := range createdIdx { // a view already there (repaired meanwhile): replace it
			if err := s.putCurrent(ctx, plans[i].version, plans[i].index); err != nil {
				s.opts.Logger.Warn("obligation view left for repair", "resource", plans[i].w.Type+"/"+plans[i].w.ID, "err", err)
			}
		}
	}
}

// earlyDoc is an early fulfilment.
type earlyDoc struct {
	ID         string    `bson:"_id"`
	Obligation string    `bson:"obligation"`
	Ref        string    `bson:"ref"`
	Version    string    `bson:"version"`
	Time       time.Time `bson:"time"`
	Actor      string    `bson:"actor"`
}

// PutEarly records an early fulfilment; when the resource came early before, the first record stands (its
// first version is the one that came early).
func (l *Ledger) PutEarly(ctx context.Context, e ledger.Early) error {
	doc := earlyDoc{ID: e.Obligation + "|" + e.Ref, Obligation: e.Obligation, Ref: e.Ref, Version: e.Version, Time: e.Time, Actor: e.Actor}
	if _, err := l.early.InsertOne(ctx, doc); err != nil && !isDuplicate(err) {
		return fmt.Errorf("record early fulfilment: %w", err)
	}
	return nil
}

// Early returns the early fulfilments of the obligations ids.
func (l *Ledger) Early(ctx context.Context, ids []string) ([]ledger.Early, error) {
	cur, err := l.early.Find(ctx, bson.D{{Key: "obligation", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("read early fulfilments: %w", err)
	}
	var docs []earlyDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read early fulfilments: %w", err)
	}
	out := make([]ledger.Early, len(docs))
	for i, d := range docs {
		out[i] = ledger.Early{Obligation: d.Obligation, Ref: d.Ref, Version: d.Version, Time: d.Time.UTC(), Actor: d.Actor}
	}
	return out, nil
}

// DeleteEarly removes the early fulfilments of ids, and those older than olderThan.
func (l *Ledger) DeleteEarly(ctx context.Context, ids []string, olderThan time.Time) error {
	var or bson.A
	if len(ids) > 0 {
		or = append(or, bson.D{{Key: "obligation", Value: bson.D{{Key: "$in", Value: ids}}}})
	}
	if !olderThan.IsZero() {
		or = append(or, bson.D{{Key: "time", Value: bson.D{{Key: "$lt", Value: olderThan}}}})
	}
	if len(or) == 0 {
		return nil
	}
	if _, err := l.early.DeleteMany(ctx, bson.D{{Key: "$or", Value: or}}); err != nil {
		return fmt.Errorf("remove early fulfilments: %w", err)
	}
	return nil
}

// markDoc is a processing mark.
type markDoc struct {
	ID      string    `bson:"_id"`
	Through time.Time `bson:"through"`
	Beat    time.Time `bson:"beat"`
}

// PutMark writes a processing mark.
func (l *Ledger) PutMark(ctx context.Context, m ledger.Mark) error {
	_, err := l.marks.ReplaceOne(ctx, bson.D{{Key: "_id", Value: m.ID}}, markDoc(m), options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("write processing mark: %w", err)
	}
	return nil
}

// Marks lists the processing marks.
func (l *Ledger) Marks(ctx context.Context) ([]ledger.Mark, error) {
	cur, err := l.marks.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read processing marks: %w", err)
	}
	var docs []markDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read processing marks: %w", err)
	}
	out := make([]ledger.Mark, len(docs))
	for i, d := range docs {
		out[i] = ledger.Mark{ID: d.ID, Through: d.Through.UTC(), Beat: d.Beat.UTC()}
	}
	return out, nil
}

// DeleteMark removes a processing mark.
func (l *Ledger) DeleteMark(ctx context.Context, id string) error {
	if _, err := l.marks.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("remove processing mark: %w", err)
	}
	return nil
}
