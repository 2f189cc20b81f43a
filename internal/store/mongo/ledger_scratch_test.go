package mongo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestScratchOps(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	raw := make([]byte, 2000)
	d := s.db.Collection("perf")
	time1 := func(name string, N int, f func(i int) error) {
		start := time.Now()
		for i := 0; i < N; i++ {
			if err := f(i); err != nil {
				t.Fatal(name, err)
			}
		}
		t.Logf("%-20s %8.1f µs/op", name, float64(time.Since(start).Microseconds())/float64(N))
	}
	find := func(i int) error { return d.FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("x", i)}}).Err() }
	time1("insert", 1000, func(i int) error {
		_, err := d.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("x", i)}, {Key: "raw", Value: raw}})
		return err
	})
	time1("findone", 300, find)
	time1("insert", 1000, func(i int) error {
		_, err := d.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("y", i)}, {Key: "raw", Value: raw}})
		return err
	})
	time1("findone", 300, find)
	time1("replace-existing", 300, func(i int) error {
		_, err := d.ReplaceOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("x", i)}}, bson.D{{Key: "_id", Value: fmt.Sprint("x", i)}, {Key: "raw", Value: raw}}, options.Replace().SetUpsert(true))
		return err
	})
	time1("findone", 300, find)
	e := s.db.Collection("perf2")
	time1("insert other coll", 300, func(i int) error {
		_, err := e.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("x", i)}, {Key: "raw", Value: raw}})
		return err
	})
	time1("findone other coll", 300, func(i int) error { return e.FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("x", i)}}).Err() })
	time1("findone", 300, find)
}
