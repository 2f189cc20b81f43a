package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/store"
)

var _ store.Store = (*Store)(nil)

// Options configure a Store; DefaultOptions gives the defaults.
type Options struct {
	// Database is the database name.
	Database string
	// SingleWriter says this process is the only writer (true for the embedded database, whose files only this
	// process opens): per-resource locks then order the writes, and the current view is replaced by _id alone,
	// which is the only filter FerretDB's SQLite backend can use without scanning. With false, every replacement
	// carries a version condition so that it is monotonic across processes.
	SingleWriter bool
	// TypeDatabases keeps each resource type's current views and versions in a database of its own, named
	// Database + "_" + type, instead of all in Database. The embedded database turns it on: FerretDB keeps each
	// database in a SQLite file of its own, and SQLite has one writer per file, so that writes of one type no
	// longer queue behind another's (an Encounter behind the ledger's obligation Tasks). Data kept in Database by
	// an earlier layout moves to the type databases when the store opens.
	TypeDatabases bool
	// QueryIndexes creates the indexes that serve queries (time order, search fields, ledger lookups). FerretDB's
	// SQLite backend (the embedded database) uses no index but _id's for its queries, so there they would only
	// slow every write: the embedded default turns this off. Unique indexes, which enforce rules, are always made.
	QueryIndexes bool
	// Indexer computes the search index fields; nil stores none. When it is a store.Forgetter, it is told of every
	// write once decided.
	Indexer store.Indexer
	// VersionFields are index fields that every version carries too (under "scope"), as its resource's current
	// version has them: those a restriction (store.WithRestriction) names, so that it applies in the queries of
	// type and system history. A History restricted on another field is an error.
	VersionFields []string
	// SourcesField and LendsField name the index fields of derived indexing (reindex.go): SourcesField lists the
	// resources ("Type/id") whose content a resource's index fields were computed from, and LendsField is what a
	// resource lends to others' index fields, computed from its own content only. A commit that changes a
	// resource's LendsField indexes every resource naming it in SourcesField again. Empty: none.
	SourcesField, LendsField string
	// AwaitsField names the index field listing the SourcesField entries that were not stored when the resource
	// was indexed. The store remembers them in the "reindex_await" collection, so that a resource created under
	// a chosen id (a PUT) indexes its dependents again only when some resource awaits it: one lookup by id, not a
	// search of every collection. Empty: every such creation searches for dependents.
	AwaitsField string
	// MaxDocumentSize bounds the BSON size of a version and of a current view (the resource with its index
	// fields), so that a write fails before anything of its commit is written rather than midway (limits.go). At
	// most the database's maximum document size; zero: DefaultMaxDocumentSize.
	MaxDocumentSize int
	// MaxIndexValues bounds the values of one resource's index fields, each element of a list counting once
	// (limits.go). Zero: DefaultMaxIndexValues.
	MaxIndexValues int
	// Clock gives the time of writes.
	Clock func() time.Time
	// PendingLease is how long a multi-resource commit may stay undecided before Recover aborts it.
	PendingLease time.Duration
	// RepairMargin is how far behind the newest write the repair mark stays.
	RepairMargin time.Duration
	// Hook, when set, is called at each stage of a multi-resource commit ("versions", "committed"), and after a
	// commit that changed what a resource lends, before its dependents are indexed again ("reindex"); tests use
	// it to stop a commit midway.
	Hook func(stage string)
	// Logger receives operational messages (never resource content).
	Logger *slog.Logger
	// Monitor, when set, is told of every command sent to the database (tests and benchmarks count round trips
	// and check the fields queries filter on).
	Monitor func(Command)
	// Dialer, when set, makes the connections to the database (the embedded database's queues its writes).
	Dialer options.ContextDialer
}

// DefaultOptions returns the options for database "accord".
func DefaultOptions() Options {
	return Options{
		Database:        "accord",
		QueryIndexes:    true,
		VersionFields:   []string{auth.FieldACL},
		SourcesField:    auth.FieldSources,
		LendsField:      auth.FieldLends,
		AwaitsField:     auth.FieldAwaits,
		MaxDocumentSize: DefaultMaxDocumentSize,
		MaxIndexValues:  DefaultMaxIndexValues,
		Clock:           time.Now,
		PendingLease:    30 * time.Second,
		RepairMargin:    2 * time.Minute,
		Logger:          slog.Default(),
	}
}

// Store is a store.Store on MongoDB.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	// versions holds every type's versions, unless Options.TypeDatabases (then see versionsOf).
	versions *mongo.Collection
	// typeColls caches the collections of each type (resource type → *typeCollections).
	typeColls sync.Map
	txns      *mongo.Collection
	claims    *mongo.Collection
	meta      *mongo.Collection
	// reindexes holds the pending re-indexes: resources ("Type/id") whose index fields, or their dependents',
	// are to be computed again (reindex.go).
	reindexes *mongo.Collection
	// awaits holds the resources ("Type/id") that stored resources name in their AwaitsField, by _id.
	awaits *mongo.Collection
	// awaited remembers the entries of awaits this process recorded, so that it records each once.
	awaited *refSet
	// tooLarge remembers the versions whose view recovery found too large to store, so that it logs each once.
	tooLarge *refSet
	opts     Options
	locks    keyLocks
	searchIx searchIndexes
	// opened is when this store opened: in a single writer, pending re-indexes recorded before were left by a
	// process that ended.
	opened time.Time
	// backfilled is set once every version carries the VersionFields (backfillScopes).
	backfilled atomic.Bool
}

// Open connects to uri, creates the indexes, and recovers what an earlier process left unfinished.
func Open(ctx context.Context, uri string, opts Options) (*Store, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := opts.setLimits(); err != nil {
		return nil, err
	}
	clientOpts := options.Client().ApplyURI(uri).SetTimeout(60 * time.Second)
	if opts.Dialer != nil {
		clientOpts.SetDialer(opts.Dialer)
	}
	if opts.Monitor != nil {
		clientOpts.SetMonitor(commandMonitor(opts.Monitor))
	}
	client, err := mongo.Connect(clientOpts)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db := client.Database(opts.Database)
	s := &Store{
		client:    client,
		db:        db,
		versions:  db.Collection("versions"),
		txns:      db.Collection("txns"),
		claims:    db.Collection("claims"),
		meta:      db.Collection("meta"),
		opts:      opts,
		opened:    opts.Clock().UTC(),
		reindexes: db.Collection("reindex"),
		awaits:    db.Collection("reindex_await"),
		awaited:   &refSet{refs: map[string]bool{}},
		tooLarge:  &refSet{refs: map[string]bool{}},
	}
	if err := s.Ping(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	if err := s.ensureStoreIndexes(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	if s.opts.TypeDatabases {
		if err := s.moveToTypeDatabases(ctx); err != nil {
			_ = client.Disconnect(context.Background())
			return nil, err
		}
	}
	if err := s.ensureExistingSearchIndexes(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("search indexes: %w", err)
	}
	// A single writer that is just starting has no commit in progress: whatever is undecided was left by a
	// crash and is aborted now. With several processes, another may be mid-commit: wait for the lease.
	lease := opts.PendingLease
	if opts.SingleWriter {
		lease = 0
	}
	if err := s.recover(ctx, lease); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("recover unfinished writes: %w", err)
	}
	return s, nil
}

// Close disconnects from the database.
func (s *Store) Close(ctx context.Context) error {
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("disconnect: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Database returns the database, for other internal/store adapters (ledger, audit) that share the connection.
func (s *Store) Database() *mongo.Database { return s.db }

func (s *Store) ensureStoreIndexes(ctx context.Context) error {
	if !s.opts.TypeDatabases {
		if err := s.ensureIndexes(ctx, s.versions, s.versionIndexes()); err != nil {
			return err
		}
	}
	return s.ensureIndexes(ctx, s.claims, []mongo.IndexModel{{Keys: bson.D{{Key: "txn", Value: 1}}, Options: options.Index().SetName("by_txn")}})
}

// findVersions returns the versions that filter matches, of every type.
func (s *Store) findVersions(ctx context.Context, filter bson.D, opts ...options.Lister[options.FindOptions]) ([]versionDoc, error) {
	colls, err := s.allVersions(ctx)
	if err != nil {
		return nil, err
	}
	var out []versionDoc
	for _, coll := range colls {
		cur, err := coll.Find(ctx, filter, opts...)
		if err != nil {
			return nil, err
		}
		var vs []versionDoc
		if err := cur.All(ctx, &vs); err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// versionIndexes are the indexes of a collection of versions (with Options.TypeDatabases, each type's collection
// gets them with its search indexes).
func (s *Store) versionIndexes() []mongo.IndexModel {
	versions := []mongo.IndexModel{
		{Keys: bson.D{{Key: "ts", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("by_time")},
		{Keys: bson.D{{Key: "type", Value: 1}, {Key: "ts", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("by_type_time")},
		{Keys: bson.D{{Key: "type", Value: 1}, {Key: "rid", Value: 1}, {Key: "vid", Value: -1}}, Options: options.Index().SetName("by_resource")},
		{Keys: bson.D{{Key: "txn", Value: 1}}, Options: options.Index().SetName("by_txn")},
	}
	for _, f := range s.opts.VersionFields { // restricted type and system history
		versions = append(versions, mongo.IndexModel{Keys: bson.D{{Key: scopePrefix + f, Value: 1}, {Key: "ts", Value: -1}, {Key: "_id", Value: -1}},
			Options: options.Index().SetName("by_scope_" + f + "_time")})
	}
	return versions
}

// ensureIndexes creates the named indexes that coll lacks. (FerretDB fails on re-creating some existing indexes,
// and asking only for what is missing is cheaper on MongoDB too.) Without Options.QueryIndexes, only unique
// indexes are created: they enforce rules, while the others only serve queries.
func (s *Store) ensureIndexes(ctx context.Context, coll *mongo.Collection, models []mongo.IndexModel) error {
	if !s.opts.QueryIndexes {
		models = uniqueOnly(models)
	}
	if len(models) == 0 {
		return nil
	}
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		return fmt.Errorf("list indexes on %s: %w", coll.Name(), err)
	}
	var existing []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &existing); err != nil {
		return fmt.Errorf("list indexes on %s: %w", coll.Name(), err)
	}
	have := map[string]bool{}
	for _, e := range existing {
		have[e.Name] = true
	}
	var missing []mongo.IndexModel
	for _, m := range models {
		if o := indexOptions(m); o.Name == nil || !have[*o.Name] {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := coll.Indexes().CreateMany(ctx, missing); err != nil {
		return fmt.Errorf("create indexes on %s: %w", coll.Name(), err)
	}
	return nil
}

// uniqueOnly keeps the unique indexes of models.
func uniqueOnly(models []mongo.IndexModel) []mongo.IndexModel {
	var out []mongo.IndexModel
	for _, m := range models {
		if o := indexOptions(m); o.Unique != nil && *o.Unique {
			out = append(out, m)
		}
	}
	return out
}

// indexOptions returns the options an index model sets.
func indexOptions(m mongo.IndexModel) options.IndexOptions {
	var o options.IndexOptions
	if m.Options != nil {
		for _, set := range m.Options.List() {
			_ = set(&o)
		}
	}
	return o
}

// typeCollections are the collections of one resource type.
type typeCollections struct {
	current, versions *mongo.Collection
}

// collections returns the collections of typ: in the main database, or in typ's own (Options.TypeDatabases).
func (s *Store) collections(typ string) *typeCollections {
	if c, ok := s.typeColls.Load(typ); ok {
		return c.(*typeCollections)
	}
	c := &typeCollections{current: s.db.Collection(typ), versions: s.versions}
	if s.opts.TypeDatabases {
		db := s.client.Database(s.opts.Database + "_" + typ)
		c = &typeCollections{current: db.Collection(typ), versions: db.Collection("versions")}
	}
	actual, _ := s.typeColls.LoadOrStore(typ, c)
	return actual.(*typeCollections)
}

// current returns the collection of the current view of a resource type.
func (s *Store) current(typ string) *mongo.Collection { return s.collections(typ).current }

// versionsOf returns the collection of the versions of a resource type.
func (s *Store) versionsOf(typ string) *mongo.Collection { return s.collections(typ).versions }

// typeOfKey returns the resource type of a version key ("Type/id/vid").
func typeOfKey(key string) string {
	typ, _, _ := strings.Cut(key, "/")
	return typ
}

// resourceTypes lists, in order, the resource types that have a current-view collection.
func (s *Store) resourceTypes(ctx context.Context) ([]string, error) {
	var types []string
	if s.opts.TypeDatabases {
		names, err := s.client.ListDatabaseNames(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("list the type databases: %w", err)
		}
		for _, n := range names {
			if typ, ok := strings.CutPrefix(n, s.opts.Database+"_"); ok && fhir.IsResourceType(typ) {
				types = append(types, typ)
			}
		}
	} else {
		names, err := s.db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("list the collections: %w", err)
		}
		for _, n := range names {
			if fhir.IsResourceType(n) {
				types = append(types, n)
			}
		}
	}
	slices.Sort(types)
	return types, nil
}

// allVersions returns every collection of versions: the main database's, or each type database's.
func (s *Store) allVersions(ctx context.Context) ([]*mongo.Collection, error) {
	if !s.opts.TypeDatabases {
		return []*mongo.Collection{s.versions}, nil
	}
	types, err := s.resourceTypes(ctx)
	if err != nil {
		return nil, err
	}
	colls := make([]*mongo.Collection, len(types))
	for i, typ := range types {
		colls[i] = s.versionsOf(typ)
	}
	return colls, nil
}

// lock takes the per-resource locks of keys in a fixed order and returns the function that releases them.
func (s *Store) lock(keys []string) func() { return s.locks.lock(keys) }

// keyLocks holds one mutex per resource key ("Type/id") while it is in use. Locks are per key, not per stripe of
// keys, so that the ledger writing a batch of a hundred obligation Tasks holds no lock another resource needs.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

// keyLock is the mutex of one key, and how many lock calls hold or wait for it.
type keyLock struct {
	mu   sync.Mutex
	refs int
}

// lock takes the locks of keys in sorted order (so that two callers never wait for each other) and returns the
// function that releases them.
func (l *keyLocks) lock(keys []string) func() {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	held := make([]*keyLock, len(keys))
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*keyLock{}
	}
	for i, k := range keys {
		kl := l.m[k]
		if kl == nil {
			kl = &keyLock{}
			l.m[k] = kl
		}
		kl.refs++
		held[i] = kl
	}
	l.mu.Unlock()
	for _, kl := range held {
		kl.mu.Lock()
	}
	return func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i].mu.Unlock()
		}
		l.mu.Lock()
		for i, kl := range held {
			if kl.refs--; kl.refs == 0 {
				delete(l.m, keys[i])
			}
		}
		l.mu.Unlock()
	}
}

func isDuplicate(err error) bool { return mongo.IsDuplicateKeyError(err) }

// onlyDuplicates reports whether every write error of an unordered bulk insert is a duplicate key (the documents
// were stored already), unlike isDuplicate, which holds when any one is.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) == 0 || bwe.WriteConcernError != nil {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 && we.Code != 11001 {
			return false
		}
	}
	return true
}

func notFound(err error) bool { return errors.Is(err, mongo.ErrNoDocuments) }
