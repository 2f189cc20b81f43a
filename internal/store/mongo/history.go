package mongo

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// History returns versions newest first: of one resource (by reading its versions by key, which every database
// answers without a scan), or of a type or the whole system (by time). The restriction of ctx applies to type
// and system history, in the query, on the VersionFields that versions carry.
func (s *Store) History(ctx context.Context, q store.HistoryQuery) (store.HistoryPage, error) {
	if q.Count <= 0 {
		q.Count = 20
	}
	if q.ID != "" {
		return s.instanceHistory(ctx, q)
	}
	return s.timeHistory(ctx, q, store.RestrictionFrom(ctx))
}

func (s *Store) instanceHistory(ctx context.Context, q store.HistoryQuery) (store.HistoryPage, error) {
	cur, err := s.readCurrent(ctx, q.Type, q.ID)
	if err != nil {
		return store.HistoryPage{}, err
	}
	from := cur.VID
	if q.Cursor != "" {
		n, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || n < 1 || n > cur.VID {
			return store.HistoryPage{}, fhir.Errorf(fhir.IssueInvalid, "_cursor", "the paging cursor is not valid for this history")
		}
		from = n
	}
	page := store.HistoryPage{Total: int(cur.VID)}
	if !q.Since.IsZero() {
		page.Total = -1
	}
	for vid := from; vid >= 1; vid-- {
		if len(page.Entries) == q.Count {
			page.Next = strconv.FormatInt(vid, 10)
			break
		}
		v, err := s.readVersion(ctx, q.Type, q.ID, vid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return store.HistoryPage{}, err
		}
		if !q.Since.IsZero() && v.TS.Before(q.Since) {
			break
		}
		page.Entries = append(page.Entries, store.Entry{Resource: v.resource(), Method: v.Method, Created: v.Created, Findings: v.findings()})
	}
	return page, nil
}

func (s *Store) timeHistory(ctx context.Context, q store.HistoryQuery, r store.Restriction) (store.HistoryPage, error) {
	base := bson.D{}
	if q.Type != "" {
		base = append(base, bson.E{Key: "type", Value: q.Type})
	}
	restrict, err := s.restrictVersions(r, q.Type)
	if err != nil {
		return store.HistoryPage{}, err
	}
	if restrict != nil {
		base = append(base, bson.E{Key: "$and", Value: bson.A{restrict}})
	}
	if !q.Since.IsZero() {
		base = append(base, bson.E{Key: "ts", Value: bson.D{{Key: "$gte", Value: q.Since}}})
	}
	var afterTS time.Time
	var afterID string
	if q.Cursor != "" {
		if afterTS, afterID, err = decodeCursor(q.Cursor); err != nil {
			return store.HistoryPage{}, err
		}
	}
	var colls []*mongo.Collection
	if q.Type != "" {
		colls = []*mongo.Collection{s.versionsOf(q.Type)}
	} else if colls, err = s.allVersions(ctx); err != nil {
		return store.HistoryPage{}, fmt.Errorf("history: %w", err)
	}
	// Each collection gives its newest q.Count after the cursor; the newest q.Count of them all are the page.
	var entries []store.Entry
	more := false
	for _, coll := range colls {
		es, m, err := s.historyOf(ctx, coll, base, afterTS, afterID, q.Count)
		if err != nil {
			return store.HistoryPage{}, err
		}
		entries, more = append(entries, es...), more || m
	}
	if len(colls) > 1 {
		slices.SortFunc(entries, func(a, b store.Entry) int {
			if c := b.LastUpdated.Compare(a.LastUpdated); c != 0 {
				return c
			}
			return strings.Compare(entryKey(b), entryKey(a))
		})
	}
	if len(entries) > q.Count {
		entries, more = entries[:q.Count], true
	}
	page := store.HistoryPage{Total: -1, Entries: entries}
	if more {
		last := entries[len(entries)-1]
		page.Next = encodeCursor(last.LastUpdated, entryKey(last))
	}
	return page, nil
}

// entryKey is the key of the version of a history entry.
func entryKey(e store.Entry) string {
	return versionKey(e.Type, e.ID, mustVID(e.VersionID))
}

// historyOf returns the newest count versions of coll that base matches, older than the cursor (afterTS,
// afterID) when there is one, and whether older ones remain. Versions of undecided commits are skipped, so a
// batch may fall short: it reads on until it has count.
func (s *Store) historyOf(ctx context.Context, coll *mongo.Collection, base bson.D, afterTS time.Time, afterID string, count int) ([]store.Entry, bool, error) {
	opts := options.Find().SetSort(bson.D{{Key: "ts", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(count + 1))
	var entries []store.Entry
	for {
		filter := base
		if afterID != "" {
			filter = append(base[:len(base):len(base)], bson.E{Key: "$or", Value: bson.A{
				bson.D{{Key: "ts", Value: bson.D{{Key: "$lt", Value: afterTS}}}},
				bson.D{{Key: "ts", Value: afterTS}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: afterID}}}},
			}})
		}
		cur, err := coll.Find(ctx, filter, opts)
		if err != nil {
			return nil, false, fmt.Errorf("history: %w", err)
		}
		var vs []versionDoc
		if err := cur.All(ctx, &vs); err != nil {
			return nil, false, fmt.Errorf("history: %w", err)
		}
		for _, v := range vs {
			afterTS, afterID = v.TS, v.ID
			if v.Txn != "" {
				ok, err := s.committed(ctx, v.Txn)
				if err != nil {
					return nil, false, err
				}
				if !ok {
					continue
				}
			}
			if len(entries) == count {
				return entries, true, nil
			}
			entries = append(entries, store.Entry{Resource: v.resource(), Method: v.Method, Created: v.Created, Findings: v.findings()})
		}
		if len(vs) <= count {
			return entries, false, nil
		}
	}
}

// restrictVersions returns the filter keeping the versions, of typ or of every type, that r lets through, on the
// VersionFields they carry (nil when r restricts nothing). For the system history, the types with the same
// conditions are grouped: in practice, the shared types and all the others.
func (s *Store) restrictVersions(r store.Restriction, typ string) (bson.D, error) {
	if r == nil {
		return nil, nil
	}
	types := []string{typ}
	if typ == "" {
		types = fhir.ResourceTypes()
	}
	var open bson.A // the types r does not restrict
	var keys []string
	groups := map[string]bson.D{} // by encoded filter: the filter of its types
	members := map[string]bson.A{}
	for _, t := range types {
		conds := r(t)
		if len(conds) == 0 {
			open = append(open, t)
			continue
		}
		f, err := s.versionFilter(conds)
		if err != nil {
			return nil, err
		}
		enc, err := bson.Marshal(f)
		if err != nil {
			return nil, fmt.Errorf("history restriction: %w", err)
		}
		key := string(enc)
		if _, ok := groups[key]; !ok {
			keys, groups[key] = append(keys, key), f
		}
		members[key] = append(members[key], t)
	}
	switch {
	case len(keys) == 0:
		return nil, nil
	case typ != "":
		return groups[keys[0]], nil
	}
	alts := bson.A{}
	if len(open) > 0 {
		alts = append(alts, bson.D{{Key: "type", Value: bson.D{{Key: "$in", Value: open}}}})
	}
	for _, k := range keys {
		alts = append(alts, bson.D{{Key: "type", Value: bson.D{{Key: "$in", Value: members[k]}}}, {Key: "$and", Value: bson.A{groups[k]}}})
	}
	return bson.D{{Key: "$or", Value: alts}}, nil
}

// versionFilter translates conditions on index fields into a filter on the copies versions carry; a condition
// on a field that versions do not carry is an error.
func (s *Store) versionFilter(conds []store.Cond) (bson.D, error) {
	and := bson.A{}
	for _, c := range conds {
		scoped, err := s.scopeCond(c)
		if err != nil {
			return nil, err
		}
		and = append(and, condFilter(scoped))
	}
	return bson.D{{Key: "$and", Value: and}}, nil
}

// scopeCond returns c on the copies of its fields in versions.
func (s *Store) scopeCond(c store.Cond) (store.Cond, error) {
	if len(c.Or) > 0 || len(c.And) > 0 {
		out := c
		out.Or, out.And = make([]store.Cond, len(c.Or)), make([]store.Cond, len(c.And))
		for i, list := range [][]store.Cond{c.Or, c.And} {
			dst := [][]store.Cond{out.Or, out.And}[i]
			for j, sub := range list {
				var err error
				if dst[j], err = s.scopeCond(sub); err != nil {
					return c, err
				}
			}
		}
		return out, nil
	}
	if !slices.Contains(s.opts.VersionFields, c.Field) {
		return c, fmt.Errorf("history restricted on %q, a field versions do not carry", c.Field)
	}
	c.Field = scopePrefix + c.Field
	return c, nil
}

func mustVID(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func encodeCursor(ts time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(ts.UnixMilli(), 10) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	ms, id, ok := strings.Cut(string(b), "|")
	n, perr := strconv.ParseInt(ms, 10, 64)
	if err != nil || !ok || perr != nil {
		return time.Time{}, "", fhir.Errorf(fhir.IssueInvalid, "_cursor", "the paging cursor is not valid")
	}
	return time.UnixMilli(n).UTC(), id, nil
}
