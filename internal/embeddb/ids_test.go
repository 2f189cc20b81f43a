package embeddb

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestIndexIDs_PointLookupsStopScanning checks that after IndexIDs a lookup by _id no longer reads the whole
// table: FerretDB's explain names the SQLite plan, which says SEARCH with an index instead of SCAN.
func TestIndexIDs_PointLookupsStopScanning(t *testing.T) {
	s, err := Start(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ctx := context.Background()
	c, err := mongo.Connect(options.Client().ApplyURI(s.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	db := c.Database("accord")
	docs := make([]any, 2000)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprint("id-", i)}, {Key: "n", Value: i}}
	}
	if _, err := db.Collection("things").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	plan := func() string {
		var out bson.M
		cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: "things"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: "id-1500"}}}}}}
		if err := db.RunCommand(ctx, cmd).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(out["queryPlanner"])
	}
	before := plan()
	if err := s.IndexIDs(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.IndexIDs(ctx); err != nil {
		t.Fatalf("second IndexIDs: %v", err)
	}
	// SQLite connections notice a new index at their next statement: let the pooled ones run one first.
	for i := 0; i < 4; i++ {
		_ = db.Collection("things").FindOne(ctx, bson.D{{Key: "_id", Value: "id-1"}}).Err()
	}
	after := plan()
	t.Logf("plan before: %s; after: %s", before, after)
	if !containsAll(after, "SEARCH", "_accord_uid") || containsAll(after, "SCAN") {
		t.Errorf("after IndexIDs the lookup plan is %q, want a SEARCH using the _accord_uid index", after)
	}
	// FerretDB's own index on _id is replaced, and _id stays unique: an insert of a taken _id is a duplicate.
	_, err = db.Collection("things").InsertOne(ctx, bson.D{{Key: "_id", Value: "id-7"}, {Key: "n", Value: -1}})
	if !mongo.IsDuplicateKeyError(err) {
		t.Errorf("insert of a taken _id after IndexIDs: %v, want a duplicate key error", err)
	}
	if _, err := db.Collection("things").InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "new-1"}}, bson.D{{Key: "_id", Value: "id-8"}}}); !mongo.IsDuplicateKeyError(err) {
		t.Errorf("insert of a batch holding a taken _id after IndexIDs: %v, want a duplicate key error", err)
	}
	var got bson.M
	if err := db.Collection("things").FindOne(ctx, bson.D{{Key: "_id", Value: "id-1500"}}).Decode(&got); err != nil || got["n"] != int32(1500) {
		t.Errorf("lookup after IndexIDs = %v, %v", got, err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
