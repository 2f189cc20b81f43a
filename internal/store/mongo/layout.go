package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/fhir"
)

// moveBatch is how many documents one insert of moveToTypeDatabases carries.
const moveBatch = 256

// moveToTypeDatabases moves what an earlier layout kept in the main database — the current views of each type and
// the versions of all — into the type databases (Options.TypeDatabases). Each document is copied (a copy already
// there, from a move that stopped midway, is kept), and the main database's collection is dropped only once all
// of it is copied: a process that stops midway moves the rest at its next start, and nothing is lost.
func (s *Store) moveToTypeDatabases(ctx context.Context) error {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list the collections to move: %w", err)
	}
	moved := 0
	for _, name := range names {
		var dest func(bson.Raw) (*mongo.Collection, error)
		switch {
		case name == s.versions.Name():
			dest = func(doc bson.Raw) (*mongo.Collection, error) {
				typ, ok := doc.Lookup("type").StringValueOK()
				if !ok || !fhir.IsResourceType(typ) {
					return nil, fmt.Errorf("version %v has no resource type", doc.Lookup("_id"))
				}
				return s.versionsOf(typ), nil
			}
		case fhir.IsResourceType(name):
			coll := s.current(name)
			dest = func(bson.Raw) (*mongo.Collection, error) { return coll, nil }
		default:
			continue
		}
		n, err := s.moveCollection(ctx, s.db.Collection(name), dest)
		if err != nil {
			return err
		}
		moved += n
	}
	if moved > 0 {
		s.opts.Logger.Info("moved the resources to a database per type", "documents", moved)
	}
	return nil
}

// moveCollection copies every document of src to the collection dest names for it, then drops src.
func (s *Store) moveCollection(ctx context.Context, src *mongo.Collection, dest func(bson.Raw) (*mongo.Collection, error)) (int, error) {
	cur, err := src.Find(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("read %s to move it: %w", src.Name(), err)
	}
	defer cur.Close(ctx)
	pending := map[*mongo.Collection][]any{}
	flush := func(coll *mongo.Collection) error {
		docs := pending[coll]
		delete(pending, coll)
		if len(docs) == 0 {
			return nil
		}
		if _, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil && !onlyDuplicates(err) {
			return fmt.Errorf("move %s to %s.%s: %w", src.Name(), coll.Database().Name(), coll.Name(), err)
		}
		return nil
	}
	n := 0
	for cur.Next(ctx) {
		doc := append(bson.Raw(nil), cur.Current...)
		coll, err := dest(doc)
		if err != nil {
			return n, fmt.Errorf("move %s: %w", src.Name(), err)
		}
		pending[coll] = append(pending[coll], doc)
		n++
		if len(pending[coll]) == moveBatch {
			if err := flush(coll); err != nil {
				return n, err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("read %s to move it: %w", src.Name(), err)
	}
	for coll := range pending {
		if err := flush(coll); err != nil {
			return n, err
		}
	}
	if err := src.Drop(ctx); err != nil {
		return n, fmt.Errorf("drop %s once moved: %w", src.Name(), err)
	}
	return n, nil
}
