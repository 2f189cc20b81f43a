package mongo

import (
	"context"
	"fmt"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/internal/store"
)

// Find returns the current, not deleted resources of typ that match q.
func (s *Store) Find(ctx context.Context, typ string, q store.Query) (store.FindPage, error) {
	filter := bson.D{{Key: "deleted", Value: false}}
	for _, c := range q.Conds {
		filter = append(filter, condFilter(c)...)
	}
	sort := bson.D{}
	for _, k := range q.Sort {
		dir := 1
		if k.Descending {
			dir = -1
		}
		sort = append(sort, bson.E{Key: k.Field, Value: dir})
	}
	sort = append(sort, bson.E{Key: "_id", Value: 1})
	opts := options.Find().SetSort(sort).SetProjection(currentProjection)
	if q.Count > 0 {
		opts.SetLimit(int64(q.Count))
	}
	if q.Offset > 0 {
		opts.SetSkip(int64(q.Offset))
	}
	coll := s.current(typ)
	cur, err := coll.Find(ctx, filter, opts)
	if err != nil {
		return store.FindPage{}, fmt.Errorf("find %s: %w", typ, err)
	}
	var docs []currentDoc
	if err := cur.All(ctx, &docs); err != nil {
		return store.FindPage{}, fmt.Errorf("find %s: %w", typ, err)
	}
	page := store.FindPage{Total: -1}
	for _, d := range docs {
		page.Resources = append(page.Resources, d.resource(typ))
	}
	if q.CountTotal {
		n, err := coll.CountDocuments(ctx, filter)
		if err != nil {
			return page, fmt.Errorf("count %s: %w", typ, err)
		}
		page.Total = int(n)
	}
	return page, nil
}

// condFilter translates one condition; a field that is an array matches when any element does.
func condFilter(c store.Cond) bson.D {
	if len(c.Or) > 0 {
		alts := bson.A{}
		for _, o := range c.Or {
			alts = append(alts, condFilter(o))
		}
		return bson.D{{Key: "$or", Value: alts}}
	}
	switch c.Op {
	case store.OpEq:
		if len(c.Values) == 1 {
			return bson.D{{Key: c.Field, Value: c.Values[0]}}
		}
		return bson.D{{Key: c.Field, Value: bson.D{{Key: "$in", Value: c.Values}}}}
	case store.OpNe:
		return bson.D{{Key: c.Field, Value: bson.D{{Key: "$nin", Value: c.Values}}}}
	case store.OpLt, store.OpLe, store.OpGt, store.OpGe:
		op := map[store.Op]string{store.OpLt: "$lt", store.OpLe: "$lte", store.OpGt: "$gt", store.OpGe: "$gte"}[c.Op]
		return bson.D{{Key: c.Field, Value: bson.D{{Key: op, Value: c.Values[0]}}}}
	case store.OpPrefix, store.OpContains:
		alts := bson.A{}
		for _, v := range c.Values {
			p := regexp.QuoteMeta(fmt.Sprint(v))
			if c.Op == store.OpPrefix {
				p = "^" + p
			}
			alts = append(alts, bson.D{{Key: c.Field, Value: bson.Regex{Pattern: p}}})
		}
		return bson.D{{Key: "$or", Value: alts}}
	case store.OpExists:
		present, _ := c.Values[0].(bool)
		return bson.D{{Key: c.Field, Value: bson.D{{Key: "$exists", Value: present}}}}
	}
	return bson.D{}
}
