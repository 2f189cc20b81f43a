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
	Raw      []byte       `bson:"raw,omitempty"`
	Txn      string       `bson:"txn,omitempty"`
}

// currentDoc is the part of a current-view document that reads need.
type currentDoc struct {
	ID      string    `bson:"_id"`
	VID     int64     `bson:"vid"`
	TS      time.Time `bson:"ts"`
	Deleted bool      `bson:"deleted"`
	Raw     []byte    `bson:"raw"`
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
	return fhir.Resource{Type: v.Type, ID: v.RID, VersionID: strconv.FormatInt(v.VID, 10), LastUpdated: v.TS.UTC(), Deleted: v.Deleted, JSON: v.Raw}
}

func (c currentDoc) resource(typ string) fhir.Resource {
	return fhir.Resource{Type: typ, ID: c.ID, VersionID: strconv.FormatInt(c.VID, 10), LastUpdated: c.TS.UTC(), Deleted: c.Deleted, JSON: c.Raw}
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
