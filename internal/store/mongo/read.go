package mongo

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// Read returns the current version of typ/id.
func (s *Store) Read(ctx context.Context, typ, id string) (fhir.Resource, error) {
	c, err := s.readCurrent(ctx, typ, id)
	if err != nil {
		return fhir.Resource{}, err
	}
	r := c.resource(typ)
	if r.Deleted {
		return r, fmt.Errorf("read %s/%s: %w", typ, id, store.ErrGone)
	}
	return r, nil
}

func (s *Store) readCurrent(ctx context.Context, typ, id string) (currentDoc, error) {
	var c currentDoc
	err := s.current(typ).FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(currentProjection)).Decode(&c)
	if notFound(err) {
		return c, fmt.Errorf("read %s/%s: %w", typ, id, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("read %s/%s: %w", typ, id, err)
	}
	return c, nil
}

// readCurrentFields reads the current view of typ/id as readCurrent does, and the index fields a write compares
// with its own: VersionFields, SourcesField and LendsField.
func (s *Store) readCurrentFields(ctx context.Context, typ, id string) (currentDoc, map[string]any, error) {
	names := append(slices.Clone(s.opts.VersionFields), s.opts.SourcesField, s.opts.LendsField)
	proj := slices.Clone(currentProjection)
	for _, n := range names {
		if n != "" {
			proj = append(proj, bson.E{Key: n, Value: 1})
		}
	}
	var c currentDoc
	var doc bson.Raw
	err := s.current(typ).FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(proj)).Decode(&doc)
	if notFound(err) {
		return c, nil, fmt.Errorf("read %s/%s: %w", typ, id, store.ErrNotFound)
	}
	if err == nil {
		err = bson.Unmarshal(doc, &c)
	}
	if err != nil {
		return c, nil, fmt.Errorf("read %s/%s: %w", typ, id, err)
	}
	return c, fieldValues(doc, names), nil
}

// VRead returns version vid of typ/id; a pending version of an undecided or aborted commit is not found.
func (s *Store) VRead(ctx context.Context, typ, id, vid string) (fhir.Resource, error) {
	n, err := strconv.ParseInt(vid, 10, 64)
	if err != nil || n < 1 {
		return fhir.Resource{}, fmt.Errorf("vread %s/%s version %q: %w", typ, id, vid, store.ErrNotFound)
	}
	v, err := s.readVersion(ctx, typ, id, n)
	if err != nil {
		return fhir.Resource{}, err
	}
	return v.resource(), nil
}

func (s *Store) readVersion(ctx context.Context, typ, id string, vid int64) (versionDoc, error) {
	var v versionDoc
	err := s.versionsOf(typ).FindOne(ctx, bson.D{{Key: "_id", Value: versionKey(typ, id, vid)}}).Decode(&v)
	if notFound(err) {
		return v, fmt.Errorf("vread %s/%s/%d: %w", typ, id, vid, store.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("vread %s/%s/%d: %w", typ, id, vid, err)
	}
	if v.Txn != "" {
		ok, err := s.committed(ctx, v.Txn)
		if err != nil {
			return v, err
		}
		if !ok {
			return v, fmt.Errorf("vread %s/%s/%d: %w", typ, id, vid, store.ErrNotFound)
		}
	}
	return v, nil
}

// committed reports whether the commit record of txn says committed.
func (s *Store) committed(ctx context.Context, txn string) (bool, error) {
	var t txnDoc
	err := s.txns.FindOne(ctx, bson.D{{Key: "_id", Value: txn}}).Decode(&t)
	if notFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read commit record %s: %w", txn, err)
	}
	return t.State == txnCommitted, nil
}
