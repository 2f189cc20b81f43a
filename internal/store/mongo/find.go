package mongo

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/internal/store"
)

// Find returns the current, not deleted resources of typ that match q: one find command, and one count command
// when q asks for the total.
func (s *Store) Find(ctx context.Context, typ string, q store.Query) (store.FindPage, error) {
	filter := queryFilter(q.Conds)
	coll := s.current(typ)
	page := store.FindPage{Total: -1}
	if q.CountTotal || q.CountOnly {
		n, err := coll.CountDocuments(ctx, filter)
		if err != nil {
			return page, fmt.Errorf("count %s: %w", typ, err)
		}
		page.Total = int(n)
	}
	if q.CountOnly {
		return page, nil
	}
	keys, backward := sortKeys(q.Sort), q.Before != nil
	pos := q.After
	if backward { // the page before pos is the page after it in the reverse order, reversed
		pos = q.Before
		for i := range keys {
			keys[i].Descending = !keys[i].Descending
		}
	}
	if pos != nil {
		after, err := afterFilter(keys, pos)
		if err != nil {
			return page, fmt.Errorf("find %s: %w", typ, err)
		}
		filter = bson.D{{Key: "$and", Value: bson.A{filter, after}}}
	}
	if err := s.findInto(ctx, typ, filter, findOptions(q, keys), q.Fields, &page); err != nil {
		return page, err
	}
	if backward {
		slices.Reverse(page.Resources)
		slices.Reverse(page.Fields)
	}
	return page, nil
}

// queryFilter is the filter of the current, not deleted resources meeting every condition. Each condition is its
// own document under $and: two conditions on one field, or two $or, would otherwise be duplicate keys.
func queryFilter(conds []store.Cond) bson.D {
	filter := bson.D{{Key: "deleted", Value: false}}
	and := bson.A{}
	for _, c := range conds {
		and = append(and, condFilter(c))
	}
	if len(and) > 0 {
		filter = append(filter, bson.E{Key: "$and", Value: and})
	}
	return filter
}

func findOptions(q store.Query, keys []store.SortKey) *options.FindOptionsBuilder {
	sort := bson.D{}
	for _, k := range keys {
		sort = append(sort, bson.E{Key: k.Field, Value: map[bool]int{false: 1, true: -1}[k.Descending]})
	}
	opts := options.Find().SetSort(sort).SetProjection(projection(q))
	if q.Count > 0 {
		opts.SetLimit(int64(q.Count))
	}
	if q.Offset > 0 {
		opts.SetSkip(int64(q.Offset))
	}
	return opts
}

// findInto runs the find and appends the resources (and their asked fields) to page.
func (s *Store) findInto(ctx context.Context, typ string, filter bson.D, opts *options.FindOptionsBuilder, fields []string, page *store.FindPage) error {
	cur, err := s.current(typ).Find(ctx, filter, opts)
	if err != nil {
		return fmt.Errorf("find %s: %w", typ, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d currentDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("find %s: %w", typ, err)
		}
		page.Resources = append(page.Resources, d.resource(typ))
		if fields != nil {
			page.Fields = append(page.Fields, fieldValues(cur.Current, fields))
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("find %s: %w", typ, err)
	}
	return nil
}

// sortKeys returns the query's keys followed by _id (unless they hold it), in the direction of the first key.
func sortKeys(sort []store.SortKey) []store.SortKey {
	keys := slices.Clone(sort)
	if slices.ContainsFunc(sort, func(k store.SortKey) bool { return k.Field == "_id" }) {
		return keys
	}
	idDesc := len(sort) > 0 && sort[0].Descending
	return append(keys, store.SortKey{Field: "_id", Descending: idDesc})
}

// afterFilter selects the documents after pos in the order of keys (the last key is _id): for some i, the first
// i-1 keys equal pos's values and key i is beyond pos's. An absent value sorts first.
func afterFilter(keys []store.SortKey, pos *store.Position) (bson.D, error) {
	vals := slices.Clone(pos.Values)
	if keys[len(keys)-1].Field == "_id" && len(vals) == len(keys)-1 {
		vals = append(vals, pos.ID)
	}
	if len(vals) != len(keys) {
		return nil, fmt.Errorf("keyset position has %d values for %d sort keys", len(pos.Values), len(keys))
	}
	alts := bson.A{}
	for i, k := range keys {
		beyond, possible := beyondFilter(k, vals[i])
		if !possible {
			continue
		}
		and := bson.A{}
		for j := 0; j < i; j++ {
			and = append(and, equalFilter(keys[j].Field, vals[j]))
		}
		alts = append(alts, bson.D{{Key: "$and", Value: append(and, beyond)}})
	}
	if len(alts) == 0 {
		return bson.D{{Key: "_id", Value: bson.D{{Key: "$exists", Value: false}}}}, nil // nothing is after
	}
	return bson.D{{Key: "$or", Value: alts}}, nil
}

func equalFilter(field string, v any) bson.D {
	if v == nil {
		return bson.D{{Key: field, Value: bson.D{{Key: "$exists", Value: false}}}}
	}
	return bson.D{{Key: field, Value: v}}
}

// beyondFilter selects the values after v in the key's direction; false when none can be (descending past an
// absent value).
func beyondFilter(k store.SortKey, v any) (bson.D, bool) {
	switch {
	case !k.Descending && v == nil:
		return bson.D{{Key: k.Field, Value: bson.D{{Key: "$exists", Value: true}}}}, true
	case !k.Descending:
		return bson.D{{Key: k.Field, Value: bson.D{{Key: "$gt", Value: v}}}}, true
	case v == nil:
		return nil, false
	}
	return bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: k.Field, Value: bson.D{{Key: "$lt", Value: v}}}},
		bson.D{{Key: k.Field, Value: bson.D{{Key: "$exists", Value: false}}}},
	}}}, true
}

// projection reads what the current-view decoding needs, the asked index fields, and the JSON unless omitted.
func projection(q store.Query) bson.D {
	p := bson.D{{Key: "vid", Value: 1}, {Key: "ts", Value: 1}, {Key: "deleted", Value: 1}}
	if !q.OmitJSON {
		p = append(p, bson.E{Key: "raw", Value: 1})
	}
	for _, f := range q.Fields {
		if f != "_id" && f != "ts" && f != "vid" && f != "deleted" && f != "raw" {
			p = append(p, bson.E{Key: f, Value: 1})
		}
	}
	return p
}

// fieldValues reads fields from a document, as plain Go values: string, time.Time, float64, int64, bool, []any.
func fieldValues(doc bson.Raw, fields []string) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		rv, err := doc.LookupErr(f)
		if err != nil {
			continue
		}
		var v any
		if err := rv.Unmarshal(&v); err == nil {
			out[f] = plain(v)
		}
	}
	return out
}

func plain(v any) any {
	switch t := v.(type) {
	case bson.DateTime:
		return t.Time().UTC()
	case bson.A:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = plain(e)
		}
		return out
	case int32:
		return int64(t)
	case time.Time:
		return t.UTC()
	}
	return v
}

// condFilter translates one condition; a field that is an array matches when any element does.
func condFilter(c store.Cond) bson.D {
	if c.Not {
		c.Not = false
		return bson.D{{Key: "$nor", Value: bson.A{condFilter(c)}}}
	}
	if len(c.Or) > 0 || len(c.And) > 0 {
		op, list := "$or", c.Or
		if len(c.And) > 0 {
			op, list = "$and", c.And
		}
		alts := bson.A{}
		for _, o := range list {
			alts = append(alts, condFilter(o))
		}
		return bson.D{{Key: op, Value: alts}}
	}
	switch c.Op {
	case store.OpEq:
		if len(c.Values) == 1 {
			return bson.D{{Key: c.Field, Value: c.Values[0]}}
		}
		return bson.D{{Key: c.Field, Value: bson.D{{Key: "$in", Value: append(bson.A{}, c.Values...)}}}}
	case store.OpNe:
		return bson.D{{Key: c.Field, Value: bson.D{{Key: "$nin", Value: append(bson.A{}, c.Values...)}}}}
	case store.OpLt, store.OpLe, store.OpGt, store.OpGe:
		op := map[store.Op]string{store.OpLt: "$lt", store.OpLe: "$lte", store.OpGt: "$gt", store.OpGe: "$gte"}[c.Op]
		return bson.D{{Key: c.Field, Value: bson.D{{Key: op, Value: c.Values[0]}}}}
	case store.OpPrefix, store.OpContains, store.OpMatch:
		if len(c.Values) == 0 {
			return bson.D{{Key: "_id", Value: bson.D{{Key: "$exists", Value: false}}}} // no alternative: nothing
		}
		alts := bson.A{}
		for _, v := range c.Values {
			p := fmt.Sprint(v)
			switch c.Op {
			case store.OpPrefix:
				p = "^" + regexp.QuoteMeta(p)
			case store.OpContains:
				p = regexp.QuoteMeta(p)
			}
			alts = append(alts, bson.D{{Key: c.Field, Value: bson.Regex{Pattern: p}}})
		}
		if len(alts) == 1 {
			return alts[0].(bson.D)
		}
		return bson.D{{Key: "$or", Value: alts}}
	case store.OpExists:
		present, _ := c.Values[0].(bool)
		return bson.D{{Key: c.Field, Value: bson.D{{Key: "$exists", Value: present}}}}
	}
	return bson.D{}
}
