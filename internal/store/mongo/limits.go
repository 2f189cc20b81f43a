package mongo

import (
	"errors"
	"fmt"
	"reflect"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/accord-fhir/accord/internal/store"
)

// Limits on what one write makes the store keep. A write is checked when it is planned, before anything of its
// commit is written: a commit must not fail midway because the database refuses a document (its version
// committed, its current view not), and a resource must not hold so many index values that every search of its
// type slows down (FerretDB decodes each view a search examines; on MongoDB each value is an index entry).
const (
	// maxBSONSize is the maximum BSON document size of MongoDB and FerretDB: 16 MiB.
	maxBSONSize = 16 << 20
	// DefaultMaxDocumentSize is 15 MiB: 1 MiB under maxBSONSize leaves room for what is added to a document after
	// the check (a commit's pending mark, a version's scope).
	DefaultMaxDocumentSize = 15 << 20
	// DefaultMaxIndexValues is far above clinical resources: the most of any official R4 example
	// (testdata/r4examples) is 813, ConceptMap/102's.
	DefaultMaxIndexValues = 10_000
)

// setLimits gives the limits left zero their defaults, and refuses a document size the database cannot store.
func (o *Options) setLimits() error {
	if o.MaxDocumentSize == 0 {
		o.MaxDocumentSize = DefaultMaxDocumentSize
	}
	if o.MaxIndexValues == 0 {
		o.MaxIndexValues = DefaultMaxIndexValues
	}
	if o.MaxDocumentSize < 0 || o.MaxDocumentSize > maxBSONSize {
		return fmt.Errorf("the maximum document size %d is not between 0 and the database's %d bytes", o.MaxDocumentSize, maxBSONSize)
	}
	if o.MaxIndexValues < 0 {
		return fmt.Errorf("the maximum number of index values %d is negative", o.MaxIndexValues)
	}
	return nil
}

// checkLimits fails the write of p with *store.TooLargeError when its index fields hold more than MaxIndexValues
// values, or its current view, exactly as it will be inserted (with the version's findings), exceeds
// MaxDocumentSize.
func (s *Store) checkLimits(p *plan) error {
	ref := p.w.Type + "/" + p.w.ID
	if n := indexValues(p.index); n > s.opts.MaxIndexValues {
		return &store.TooLargeError{Ref: ref, Unit: "search index values", Size: n, Limit: s.opts.MaxIndexValues}
	}
	// The view is encoded once: the commit stores these bytes. It holds all the version holds (the resource, and the
	// scope fields among the index fields) but the version's findings and a few scalar fields, which the margin
	// under maxBSONSize covers: with the findings', its size bounds the version's, which is not encoded twice.
	view, err := s.checkSize(ref, "bytes with its search index fields", currentFields(p.version, p.index))
	if err != nil || len(p.version.Findings) == 0 {
		p.view = view
		return err
	}
	findings, err := bson.Marshal(bson.D{{Key: "findings", Value: p.version.Findings}})
	if err != nil {
		return fmt.Errorf("encode the findings of %s: %w", ref, err)
	}
	if size := len(view) + len(findings); size > s.opts.MaxDocumentSize {
		return &store.TooLargeError{Ref: ref, Unit: "bytes with its search index fields and findings", Size: size, Limit: s.opts.MaxDocumentSize}
	}
	p.view = view
	return nil
}

// checkSize encodes doc, a document of ref; it fails with *store.TooLargeError when that is more than
// MaxDocumentSize.
func (s *Store) checkSize(ref, unit string, doc any) (bson.Raw, error) {
	b, err := bson.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ref, err)
	}
	if len(b) > s.opts.MaxDocumentSize {
		return nil, &store.TooLargeError{Ref: ref, Unit: unit, Size: len(b), Limit: s.opts.MaxDocumentSize}
	}
	return b, nil
}

// indexValues counts the values of index fields: each element of a list, and any other value once.
func indexValues(index map[string]any) int {
	n := 0
	for _, v := range index {
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
			n += rv.Len()
		} else {
			n++
		}
	}
	return n
}

// unstorable reports whether the current view of pv is larger than MaxDocumentSize: a version committed before
// writes were checked, which recovery cannot make current. Recovery then leaves the resource's view at its older
// version and goes on with the other unfinished writes, rather than fail on it at every run; it logs each such
// version once per process.
func (s *Store) unstorable(pv pendingVersion) bool {
	v := pv.version
	_, err := s.checkSize(v.Type+"/"+v.RID, "bytes with its search index fields", currentFields(v, pv.index))
	var tl *store.TooLargeError
	if !errors.As(err, &tl) {
		return false
	}
	if s.tooLarge.add(v.ID) {
		s.opts.Logger.Error("a committed version is too large to be made current: its resource stays at its older version",
			"resource", v.Type+"/"+v.RID, "version", v.VID, "size", tl.Size, "limit", tl.Limit)
	}
	return true
}
