package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/internal/ledger"
)

var _ ledger.Store = (*Ledger)(nil)

// Ledger keeps the accountability ledger beside the store: "ledger" holds the entries, keyed by their sequence
// number (20 digits, so that the key orders like the number) with a unique index on the entry key; "ledger_meta"
// the head hint; "ledger_early" the early fulfilments; "ledger_marks" the processing marks. Appending the entry
// after the head is the compare-and-swap that keeps the chain linear with several processes: an insert that finds
// its sequence number taken reads the new head and tries again.
type Ledger struct {
	s       *Store // nil for a ledger opened only to read
	client  *mongo.Client
	entries *mongo.Collection
	meta    *mongo.Collection
	early   *mongo.Collection
	marks   *mongo.Collection

	mu        sync.Mutex // serialises appends of this process
	head      entryDoc
	headKnown bool
	hintSeq   int64
	hintAt    time.Time
}

// hintEvery bounds how far the head hint may lag behind the head this process appended.
const hintEvery = 64

// NewLedger returns the ledger of st's database, creating its indexes.
func NewLedger(ctx context.Context, st *Store) (*Ledger, error) {
	l := newLedger(st.db)
	l.s = st
	if err := l.ensureLedgerIndexes(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// OpenLedger connects to database at uri to read the ledger (for verification, with the service stopped); the
// returned function disconnects. It writes nothing.
func OpenLedger(ctx context.Context, uri, database string) (*Ledger, func(), error) {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(60 * time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, nil, fmt.Errorf("ping database: %w", err)
	}
	l := newLedger(client.Database(database))
	l.client = client
	return l, func() { _ = client.Disconnect(context.Background()) }, nil
}

func newLedger(db *mongo.Database) *Ledger {
	return &Ledger{
		entries: db.Collection("ledger"), meta: db.Collection("ledger_meta"),
		early: db.Collection("ledger_early"), marks: db.Collection("ledger_marks"),
	}
}

func (l *Ledger) ensureLedgerIndexes(ctx context.Context) error {
	name := func(n string) *options.IndexOptionsBuilder { return options.Index().SetName(n) }
	if err := l.s.ensureIndexes(ctx, l.entries, []mongo.IndexModel{
		{Keys: bson.D{{Key: "key", Value: 1}}, Options: name("by_key").SetUnique(true)},
		{Keys: bson.D{{Key: "time", Value: 1}}, Options: name("by_time")},
		{Keys: bson.D{{Key: "clause", Value: 1}, {Key: "time", Value: 1}}, Options: name("by_clause_time")},
		{Keys: bson.D{{Key: "organization", Value: 1}, {Key: "time", Value: 1}}, Options: name("by_org_time")},
		{Keys: bson.D{{Key: "obligation", Value: 1}}, Options: name("by_obligation")},
	}); err != nil {
		return err
	}
	if err := l.s.ensureIndexes(ctx, l.early, []mongo.IndexModel{
		{Keys: bson.D{{Key: "obligation", Value: 1}}, Options: name("by_obligation")},
		{Keys: bson.D{{Key: "time", Value: 1}}, Options: name("by_time")},
	}); err != nil {
		return err
	}
	// The sweeper's query on the obligation Tasks, and the ledger's for those a resource fulfilled (sparse: other
	// Tasks lack the fields).
	return l.s.ensureIndexes(ctx, l.s.current("Task"), []mongo.IndexModel{
		{Keys: bson.D{{Key: ledger.FieldState, Value: 1}, {Key: ledger.FieldDue, Value: 1}}, Options: name("by_obligation_due").SetSparse(true)},
		{Keys: bson.D{{Key: ledger.FieldFulfilledBy, Value: 1}}, Options: name("by_obligation_fulfilled_by").SetSparse(true)},
	})
}

// entryDoc is a ledger entry as stored.
type entryDoc struct {
	ID           string    `bson:"_id"`
	Seq          int64     `bson:"seq"`
	Key          string    `bson:"key"`
	Time         time.Time `bson:"time"`
	Clause       string    `bson:"clause"`
	Rule         string    `bson:"rule"`
	Obligation   string    `bson:"obligation,omitempty"`
	Event        string    `bson:"event"`
	Organization string    `bson:"organization,omitempty"`
	Change       string    `bson:"change"`
	State        string    `bson:"state"`
	Due          time.Time `bson:"due,omitempty"`
	Actor        string    `bson:"actor"`
	Patient      string    `bson:"patient,omitempty"`
	Prev         string    `bson:"prev"`
	Hash         string    `bson:"hash"`
}

func seqID(seq int64) string { return fmt.Sprintf("%020d", seq) }

func toDoc(e ledger.Entry) entryDoc {
	return entryDoc{
		ID: seqID(e.Seq), Seq: e.Seq, Key: e.Key, Time: e.Time, Clause: e.Clause, Rule: e.Rule, Obligation: e.Obligation,
		Event: e.Event, Organization: e.Organization, Change: e.Change, State: e.State, Due: e.Due, Actor: e.Actor,
		Patient: e.Patient, Prev: e.Prev, Hash: e.Hash,
	}
}

func (d entryDoc) entry() ledger.Entry {
	e := ledger.Entry{
		Seq: d.Seq, Key: d.Key, Time: d.Time.UTC(), Clause: d.Clause, Rule: d.Rule, Obligation: d.Obligation, Event: d.Event,
		Organization: d.Organization, Change: d.Change, State: d.State, Actor: d.Actor, Patient: d.Patient, Prev: d.Prev,
		Hash: d.Hash,
	}
	if !d.Due.IsZero() {
		e.Due = d.Due.UTC()
	}
	return e
}

// Append adds entries after the head, in order, leaving out those whose key is already recorded.
func (l *Ledger) Append(ctx context.Context, entries []ledger.Entry) ([]ledger.Entry, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.headKnown {
		if err := l.findHead(ctx); err != nil {
			return nil, err
		}
	}
	var added []ledger.Entry
	rest := entries
	for len(rest) > 0 {
		sealed, docs := l.seal(rest)
		_, err := l.entries.InsertMany(ctx, docs)
		if err == nil {
			added = append(added, sealed...)
			l.head = docs[len(docs)-1].(entryDoc)
			break
		}
		failed, dup := firstFailure(err)
		if failed < 0 || !dup {
			l.headKnown = false
			return added, fmt.Errorf("append ledger entries: %w", err)
		}
		added = append(added, sealed[:failed]...)
		if failed > 0 {
			l.head = docs[failed-1].(entryDoc)
		}
		taken, err := l.read(ctx, l.head.Seq+1)
		switch {
		case err != nil && !notFound(err):
			l.headKnown = false
			return added, err
		case notFound(err): // the key is recorded already: leave the entry out
			rest = rest[failed+1:]
		case taken.Key == rest[failed].Key: // recorded by an earlier attempt of this very append
			l.head, rest = taken, rest[failed+1:]
		default: // another process appended: follow the chain to its head and try again
			if err := l.probe(ctx, taken); err != nil {
				return added, err
			}
			rest = rest[failed:]
		}
	}
	l.hint(ctx)
	return added, nil
}

// seal seals entries to follow the head.
func (l *Ledger) seal(entries []ledger.Entry) ([]ledger.Entry, []any) {
	sealed := make([]ledger.Entry, len(entries))
	docs := make([]any, len(entries))
	seq, prev := l.head.Seq, l.head.Hash
	for i, e := range entries {
		e.Seal(seq, prev)
		seq, prev = e.Seq, e.Hash
		sealed[i], docs[i] = e, toDoc(e)
	}
	return sealed, docs
}

// firstFailure returns the index of the first failed write of an ordered insert, and whether it was a duplicate
// key; -1 when err is not a write error.
func firstFailure(err error) (int, bool) {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) == 0 {
		return -1, false
	}
	first := bwe.WriteErrors[0]
	for _, we := range bwe.WriteErrors[1:] {
		if we.Index < first.Index {
			first = we
		}
	}
	return first.Index, first.Code == 11000 || first.Code == 11001
}

// findHead reads the head hint and follows the chain from it to the last entry.
func (l *Ledger) findHead(ctx context.Context) error {
	var hint struct {
		Seq int64 `bson:"seq"`
	}
	if err := l.meta.FindOne(ctx, bson.D{{Key: "_id", Value: "head"}}).Decode(&hint); err != nil && !notFound(err) {
		return fmt.Errorf("read ledger head: %w", err)
	}
	start := entryDoc{}
	if hint.Seq > 0 {
		d, err := l.read(ctx, hint.Seq)
		if err != nil && !notFound(err) {
			return err
		}
		if err == nil {
			start = d
		}
	}
	return l.probe(ctx, start)
}

// probe makes from the head, then follows the chain while the next entry exists.
func (l *Ledger) probe(ctx context.Context, from entryDoc) error {
	l.head = from
	for {
		next, err := l.read(ctx, l.head.Seq+1)
		if notFound(err) {
			l.headKnown = true
			return nil
		}
		if err != nil {
			return err
		}
		l.head = next
	}
}

// read returns the entry seq.
func (l *Ledger) read(ctx context.Context, seq int64) (entryDoc, error) {
	var d entryDoc
	err := l.entries.FindOne(ctx, bson.D{{Key: "_id", Value: seqID(seq)}}).Decode(&d)
	if err != nil && !notFound(err) {
		return d, fmt.Errorf("read ledger entry %d: %w", seq, err)
	}
	return d, err
}

// hint writes the head hint when it lags by hintEvery entries or five seconds; a lost hint only costs reads.
func (l *Ledger) hint(ctx context.Context) {
	if l.head.Seq-l.hintSeq < hintEvery && time.Since(l.hintAt) < 5*time.Second {
		return
	}
	_, err := l.meta.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "head"}}, bson.D{{Key: "_id", Value: "head"}, {Key: "seq", Value: l.head.Seq}}, options.Replace().SetUpsert(true))
	if err == nil {
		l.hintSeq, l.hintAt = l.head.Seq, time.Now()
	}
}

// Entries returns the entries matching q in sequence order.
func (l *Ledger) Entries(ctx context.Context, q ledger.EntryQuery) ([]ledger.Entry, error) {
	filter := bson.D{}
	for _, f := range []struct{ field, v string }{{"clause", q.Clause}, {"change", q.Change}, {"rule", q.Rule}} {
		if f.v != "" {
			filter = append(filter, bson.E{Key: f.field, Value: f.v})
		}
	}
	if len(q.Organizations) > 0 {
		filter = append(filter, bson.E{Key: "organization", Value: bson.D{{Key: "$in", Value: q.Organizations}}})
	}
	if len(q.Obligations) > 0 {
		filter = append(filter, bson.E{Key: "obligation", Value: bson.D{{Key: "$in", Value: q.Obligations}}})
	}
	if len(q.Keys) > 0 {
		filter = append(filter, bson.E{Key: "key", Value: bson.D{{Key: "$in", Value: q.Keys}}})
	}
	timeRange := bson.D{}
	if !q.From.IsZero() {
		timeRange = append(timeRange, bson.E{Key: "$gte", Value: q.From})
	}
	if !q.To.IsZero() {
		timeRange = append(timeRange, bson.E{Key: "$lt", Value: q.To})
	}
	if len(timeRange) > 0 {
		filter = append(filter, bson.E{Key: "time", Value: timeRange})
	}
	if q.After > 0 {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: seqID(q.After)}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
	if q.Count > 0 {
		opts.SetLimit(int64(q.Count))
	}
	cur, err := l.entries.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("find ledger entries: %w", err)
	}
	var docs []entryDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("find ledger entries: %w", err)
	}
	out := make([]ledger.Entry, len(docs))
	for i, d := range docs {
		out[i] = d.entry()
	}
	return out, nil
}

// Walk calls fn for every entry in sequence order.
func (l *Ledger) Walk(ctx context.Context, fn func(ledger.Entry) bool) error {
	cur, err := l.entries.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(1000))
	if err != nil {
		return fmt.Errorf("read ledger: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d entryDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("read ledger entry: %w", err)
		}
		if !fn(d.entry()) {
			return nil
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read ledger: %w", err)
	}
	return nil
}

// HasKeys reports which keys are recorded.
func (l *Ledger) HasKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	has := map[string]bool{}
	if len(keys) == 0 {
		return has, nil
	}
	cur, err := l.entries.Find(ctx, bson.D{{Key: "key", Value: bson.D{{Key: "$in", Value: keys}}}}, options.Find().SetProjection(bson.D{{Key: "key", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("look up ledger keys: %w", err)
	}
	var docs []struct {
		Key string `bson:"key"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("look up ledger keys: %w", err)
	}
	for _, d := range docs {
		has[d.Key] = true
	}
	return has, nil
}
