package mongo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/internal/audit"
)

// Audit is the append-only audit trail, in the "audit" collection: entries are only ever inserted (with their own
// id, so that a retried batch is stored once), never updated or deleted.
type Audit struct {
	coll *mongo.Collection
}

var _ audit.Store = (*Audit)(nil)

// auditDoc is one stored entry. Agents (the client and its organisations) and Entities (each resource as
// "Type/id" and "Type") are written for searching.
type auditDoc struct {
	ID          string    `bson:"_id"`
	TS          time.Time `bson:"ts"`
	Client      string    `bson:"client,omitempty"`
	Role        string    `bson:"role,omitempty"`
	Orgs        []string  `bson:"orgs,omitempty"`
	Agents      []string  `bson:"agents,omitempty"`
	Interaction string    `bson:"interaction"`
	Method      string    `bson:"method"`
	Path        string    `bson:"path"`
	Query       string    `bson:"query,omitempty"`
	Resources   []string  `bson:"resources,omitempty"`
	Refused     []string  `bson:"refused,omitempty"`
	Entities    []string  `bson:"entities,omitempty"`
	Omitted     int       `bson:"omitted,omitempty"`
	Status      int       `bson:"status"`
	Outcome     string    `bson:"outcome"`
	Address     string    `bson:"address,omitempty"`
}

// NewAudit returns the audit trail of the store's database, creating its indexes.
func NewAudit(ctx context.Context, s *Store) (*Audit, error) {
	a := &Audit{coll: s.db.Collection("audit")}
	err := s.ensureIndexes(ctx, a.coll, []mongo.IndexModel{
		{Keys: bson.D{{Key: "ts", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("by_time")},
		{Keys: bson.D{{Key: "agents", Value: 1}, {Key: "ts", Value: -1}}, Options: options.Index().SetName("by_agent")},
		{Keys: bson.D{{Key: "entities", Value: 1}, {Key: "ts", Value: -1}}, Options: options.Index().SetName("by_entity")},
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Append inserts entries; those already stored (same id) are skipped.
func (a *Audit) Append(ctx context.Context, entries []audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	docs := make([]any, len(entries))
	for i, e := range entries {
		docs[i] = toAuditDoc(e)
	}
	if _, err := a.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil && !onlyDuplicates(err) {
		return fmt.Errorf("append audit entries: %w", err)
	}
	return nil
}

// Search returns a page of the entries matching q, newest first, with their total.
func (a *Audit) Search(ctx context.Context, q audit.Query) (audit.Page, error) {
	filter := auditFilter(q)
	opts := options.Find().SetSort(bson.D{{Key: "ts", Value: -1}, {Key: "_id", Value: -1}})
	if q.Count > 0 {
		opts.SetLimit(int64(q.Count))
	}
	if q.Offset > 0 {
		opts.SetSkip(int64(q.Offset))
	}
	cur, err := a.coll.Find(ctx, filter, opts)
	if err != nil {
		return audit.Page{}, fmt.Errorf("search audit: %w", err)
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return audit.Page{}, fmt.Errorf("search audit: %w", err)
	}
	n, err := a.coll.CountDocuments(ctx, filter)
	if err != nil {
		return audit.Page{}, fmt.Errorf("count audit: %w", err)
	}
	page := audit.Page{Total: int(n), Entries: make([]audit.Entry, len(docs))}
	for i, d := range docs {
		page.Entries[i] = d.entry()
	}
	return page, nil
}

// Get returns the entry with this id, or audit.ErrNotFound.
func (a *Audit) Get(ctx context.Context, id string) (audit.Entry, error) {
	var d auditDoc
	err := a.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if notFound(err) {
		return audit.Entry{}, audit.ErrNotFound
	}
	if err != nil {
		return audit.Entry{}, fmt.Errorf("read audit entry %s: %w", id, err)
	}
	return d.entry(), nil
}

// auditFilter translates a query.
func auditFilter(q audit.Query) bson.D {
	f := bson.D{}
	ts := bson.D{}
	if !q.From.IsZero() {
		ts = append(ts, bson.E{Key: "$gte", Value: q.From.UTC()})
	}
	if !q.To.IsZero() {
		ts = append(ts, bson.E{Key: "$lt", Value: q.To.UTC()})
	}
	if len(ts) > 0 {
		f = append(f, bson.E{Key: "ts", Value: ts})
	}
	for _, c := range []struct {
		field  string
		values []string
	}{{"agents", q.Agents}, {"entities", q.Entities}, {"outcome", q.Outcomes}, {"interaction", q.Interactions}} {
		if len(c.values) > 0 {
			f = append(f, bson.E{Key: c.field, Value: bson.D{{Key: "$in", Value: c.values}}})
		}
	}
	if q.Address != "" {
		f = append(f, bson.E{Key: "address", Value: q.Address})
	}
	return f
}

func toAuditDoc(e audit.Entry) auditDoc {
	d := auditDoc{ID: e.ID, TS: e.Time.UTC(), Client: e.ClientID, Role: e.Role, Orgs: e.Organizations,
		Interaction: e.Interaction, Method: e.Method, Path: e.Path, Query: e.Query, Resources: e.Resources,
		Refused: e.Refused, Omitted: e.Omitted, Status: e.Status, Outcome: e.Outcome(), Address: e.Address}
	if e.ClientID != "" {
		d.Agents = append(d.Agents, e.ClientID)
	}
	d.Agents = append(d.Agents, e.Organizations...)
	seen := map[string]bool{}
	for _, r := range append(slices.Clone(e.Resources), e.Refused...) {
		parts := strings.SplitN(r, "/", 3)
		for _, ent := range []string{parts[0], strings.Join(parts[:min(2, len(parts))], "/")} {
			if !seen[ent] {
				seen[ent] = true
				d.Entities = append(d.Entities, ent)
			}
		}
	}
	return d
}

func (d auditDoc) entry() audit.Entry {
	return audit.Entry{ID: d.ID, Time: d.TS.UTC(), ClientID: d.Client, Role: d.Role, Organizations: d.Orgs,
		Interaction: d.Interaction, Method: d.Method, Path: d.Path, Query: d.Query, Resources: d.Resources,
		Refused: d.Refused, Omitted: d.Omitted, Status: d.Status, Address: d.Address}
}
