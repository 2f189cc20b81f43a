package mongo

import (
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/accord-fhir/accord/fhir"
)

// versionDoc is one version in the "versions" collection.
type versionDoc struct {
	ID      string    `bson:"_id"`
	Type    string    `bson:"type"`
	RID     string    `bson:"rid"`
	VID     int64     `bson:"vid"`
	TS      time.Time `bson:"ts"`
	Method  string    `bson:"method"`
	Deleted bool      `bson:"deleted"`
	Created bool      `bson:"created,omitempty"`
	// Findings are the version's clause-bearing validation warnings (store.Write.Findings).
	Findings []findingDoc `bson:"findings,omitempty"`
	Raw      rawJSON      `bson:"raw,omitempty"`
	Txn      string       `bson:"txn,omitempty"`
	// Scope holds the Options.VersionFields of the resource's current version as of version ScopeVID (for a
	// deletion, of its last live version), so that a restriction on them applies to history. Versions written
	// before the fields were kept have no ScopeVID (backfillScopes gives them one).
	Scope    bson.M `bson:"scope,omitempty"`
	ScopeVID int64  `bson:"scope_vid,omitempty"`
}

// scopePrefix is the path of the VersionFields in a version.
const scopePrefix = "scope."

// currentDoc is the part of a current-view document that reads need.
type currentDoc struct {
	ID      string    `bson:"_id"`
	VID     int64     `bson:"vid"`
	TS      time.Time `bson:"ts"`
	Deleted bool      `bson:"deleted"`
	Raw     rawJSON   `bson:"raw"`
}

// claimDoc is a conditional-create claim.
type claimDoc struct {
	Key string    `bson:"_id"`
	Ref string    `bson:"ref"`
	TS  time.Time `bson:"ts"`
	Txn string    `bson:"txn,omitempty"`
}

// txnDoc records the decision on a multi-resource commit.
type txnDoc struct {
	ID    string    `bson:"_id"`
	State string    `bson:"state"`
	TS    time.Time `bson:"ts"`
}

const (
	txnCommitted = "committed"
	txnAborted   = "aborted"
)

var currentProjection = bson.D{{Key: "vid", Value: 1}, {Key: "ts", Value: 1}, {Key: "deleted", Value: 1}, {Key: "raw", Value: 1}}

func versionKey(typ, id string, vid int64) string {
	return typ + "/" + id + "/" + strconv.FormatInt(vid, 10)
}

func (v versionDoc) resource() fhir.Resource {
	return fhir.Resource{Type: v.Type, ID: v.RID, VersionID: strconv.FormatInt(v.VID, 10), LastUpdated: v.TS.UTC(), Deleted: v.Deleted, JSON: v.Raw.json}
}

func (c currentDoc) resource(typ string) fhir.Resource {
	return fhir.Resource{Type: typ, ID: c.ID, VersionID: strconv.FormatInt(c.VID, 10), LastUpdated: c.TS.UTC(), Deleted: c.Deleted, JSON: c.Raw.json}
}

// currentFields builds the current-view document of a version, with its index fields.
func currentFields(v versionDoc, index map[string]any) bson.D {
	d := bson.D{
		{Key: "_id", Value: v.RID},
		{Key: "vid", Value: v.VID},
		{Key: "ts", Value: v.TS},
		{Key: "deleted", Value: v.Deleted},
	}
	if !v.Deleted {
		d = append(d, bson.E{Key: "raw", Value: v.Raw})
	}
	for k, val := range index {
		d = append(d, bson.E{Key: k, Value: val})
	}
	return d
}

// pick returns the fields of index named in names (nil when it has none of them).
func pick(index map[string]any, names ...string) bson.M {
	var out bson.M
	for _, n := range names {
		if v, ok := index[n]; ok && n != "" {
			if out == nil {
				out = bson.M{}
			}
			out[n] = v
		}
	}
	return out
}

// sameFields reports whether a and b hold equal values (as stored) for each of names.
func sameFields(a, b map[string]any, names ...string) bool {
	for _, n := range names {
		if !sameValue(a[n], b[n]) {
			return false
		}
	}
	return true
}

// sameValue reports whether two field values are stored alike: []string and []any of the same strings are.
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ea, erra := bson.Marshal(bson.D{{Key: "v", Value: a}})
	eb, errb := bson.Marshal(bson.D{{Key: "v", Value: b}})
	return erra == nil && errb == nil && string(ea) == string(eb)
}

// findingDoc is a validation warning kept with a version.
type findingDoc struct {
	Clause     string   `bson:"clause"`
	Code       string   `bson:"code"`
	Details    string   `bson:"details,omitempty"`
	Expression []string `bson:"expression,omitempty"`
}

func findingDocs(issues []fhir.Issue) []findingDoc {
	var out []findingDoc
	for _, is := range issues {
		out = append(out, findingDoc{Clause: is.Clause, Code: string(is.Code), Details: is.Details, Expression: is.Expression})
	}
	return out
}

func (v versionDoc) findings() []fhir.Issue {
	var out []fhir.Issue
	for _, f := range v.Findings {
		out = append(out, fhir.Issue{Severity: fhir.SeverityWarning, Code: fhir.IssueType(f.Code), Clause: f.Clause, Details: f.Details, Expression: f.Expression})
	}
	return out
}
