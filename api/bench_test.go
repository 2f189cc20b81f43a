package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/api/apitest"
)

// benchTask is a realistic ~2 KB Task: a referral response with owner, requester, focus, dates and notes.
func benchTask(id string) string {
	return `{"resourceType":"Task","id":"` + id + `","meta":{"profile":["https://accord-fhir.github.io/ig/StructureDefinition/accord-task-referral-response"]},
"identifier":[{"system":"https://fhir.example-trust.nhs.uk/Id/task","value":"T-` + id + `"}],
"basedOn":[{"reference":"ServiceRequest/sr-1","display":"Referral to cardiology"}],
"status":"requested","businessStatus":{"coding":[{"system":"https://accord-fhir.github.io/ig/CodeSystem/event-category","code":"referral-response"}]},
"intent":"order","priority":"routine",
"code":{"coding":[{"system":"https://accord-fhir.github.io/ig/CodeSystem/event-category","code":"referral-response"}]},
"reasonCode":{"coding":[{"system":"http://snomed.info/sct","code":"183561008","display":"Referral to cardiologist"}]},
"description":"Please review the enclosed results and confirm the appointment date with the patient.",
"focus":{"reference":"ServiceRequest/sr-1"},"for":{"reference":"Patient/p-1","identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}},
"encounter":{"reference":"Encounter/e-1"},"authoredOn":"2026-11-20T09:30:00Z","lastModified":"2026-11-20T09:30:00Z",
"requester":{"reference":"Organization/rj1","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}},
"owner":{"reference":"Organization/g85001","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"G85001"}},
"restriction":{"period":{"start":"2026-11-20T09:30:00Z","end":"2026-12-04T09:30:00Z"}},
"note":[{"authorString":"Dr A Consultant","time":"2026-11-20T09:30:00Z","text":"Echo shows moderate aortic stenosis. Repeat in six months; GP to continue statin. Patient informed of the plan and of whom to contact if symptoms worsen."}],
"input":[{"type":{"text":"clinic letter"},"valueReference":{"reference":"Communication/c-1"}},{"type":{"text":"result"},"valueReference":{"reference":"DiagnosticReport/dr-1"}}],
"output":[{"type":{"text":"appointment"},"valueReference":{"reference":"Appointment/a-1"}}]}`
}

// op is one measured operation.
type op func(i int) error

// BenchmarkLayerOverhead measures, in one run on the embedded database, create, read by id and instance history
// through HTTP (Gin, FHIR handling, validation, store) and the same database operations made directly through the
// driver, alternating the two in rounds so that machine drift hits both; it reports throughput and ratios.
//
//	go test ./api -run '^$' -bench LayerOverhead -benchtime 1x
func BenchmarkLayerOverhead(b *testing.B) {
	apitest.RunAsServed(b)
	srv := apitest.Start(b)
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(srv.DBURI))
	if err != nil {
		b.Fatal(err)
	}
	defer client.Disconnect(ctx)
	// The direct side works on exact copies of the documents the store keeps (the current view with its search
	// index fields, and the versions), in a database of its own as the store keeps each type: the same operations
	// on the same data.
	db := client.Database("accord_direct")
	versions, current := db.Collection("versions"), db.Collection("Task")
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 8

	// Fixtures: the patient the Tasks are for, and a resource with 5 versions on each side, for reads and history.
	patient := `{"resourceType":"Patient","id":"p-1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],` +
		`"generalPractitioner":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"G85001"}}]}`
	if r := srv.Do(b, "PUT", "/Patient/p-1", patient); r.Status >= 300 {
		b.Fatalf("fixture Patient = %d %s", r.Status, r.Body)
	}
	const histID = "hist"
	for v := 1; v <= 5; v++ {
		if r := srv.Do(b, "PUT", "/Task/"+histID, benchTask(histID)); r.Status >= 300 {
			b.Fatalf("fixture PUT = %d %s", r.Status, r.Body)
		}
	}
	storeDB := client.Database("accord_Task") // the embedded database keeps each type in a database of its own
	var curDoc bson.D
	if err := storeDB.Collection("Task").FindOne(ctx, bson.D{{Key: "_id", Value: histID}}).Decode(&curDoc); err != nil {
		b.Fatal(err)
	}
	var verDocs []bson.D
	for v := 1; v <= 5; v++ {
		var d bson.D
		if err := storeDB.Collection("versions").FindOne(ctx, bson.D{{Key: "_id", Value: "Task/" + histID + "/" + strconv.Itoa(v)}}).Decode(&d); err != nil {
			b.Fatal(err)
		}
		verDocs = append(verDocs, d)
		if _, err := versions.InsertOne(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := current.InsertOne(ctx, curDoc); err != nil {
		b.Fatal(err)
	}
	withID := func(d bson.D, id string) bson.D {
		out := make(bson.D, len(d))
		copy(out, d)
		out[0] = bson.E{Key: "_id", Value: id}
		return out
	}
	raw := []byte(benchTask("x"))

	get := func(path string) error {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s = %d", path, resp.StatusCode)
		}
		return nil
	}
	pairs := []struct {
		name       string
		http, drv  op
		plainWrite op
		settle     func() error // work a window caused that must be done before it ends
	}{
		{
			name: "create",
			http: func(int) error {
				resp, err := http.Post(srv.URL+"/Task", "application/fhir+json", strings.NewReader(benchTask("ignored")))
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				_, _ = io.Copy(io.Discard, resp.Body)
				if resp.StatusCode != 201 {
					return fmt.Errorf("POST = %d", resp.StatusCode)
				}
				return nil
			},
			// What the store writes for a create: the version, then the current view (with its index fields).
			drv: func(int) error {
				id := uuid.NewString()
				if _, err := versions.InsertOne(ctx, withID(verDocs[0], "Task/"+id+"/1")); err != nil {
					return err
				}
				_, err := current.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, withID(curDoc, id), options.Replace().SetUpsert(true))
				return err
			},
			// The accountability ledger processes every committed version in the background: a window of creates
			// ends when it has caught up, so that the work creates cause is counted against them.
			settle: func() error { return srv.Ledger.Flush(ctx) },
			// One plain insert of the same bytes: the least any create could cost.
			plainWrite: func(int) error {
				_, err := db.Collection("plain").InsertOne(ctx, bson.D{{Key: "_id", Value: uuid.NewString()}, {Key: "raw", Value: raw}})
				return err
			},
		},
		{
			name: "read",
			http: func(int) error { return get("/Task/" + histID) },
			drv: func(int) error {
				return current.FindOne(ctx, bson.D{{Key: "_id", Value: histID}}, readProjection).Err()
			},
		},
		{
			name: "history",
			http: func(int) error { return get("/Task/" + histID + "/_history") },
			// What the store reads for an instance history: the current view, then each version by key.
			drv: func(int) error {
				if err := current.FindOne(ctx, bson.D{{Key: "_id", Value: histID}}, readProjection).Err(); err != nil {
					return err
				}
				for v := 5; v >= 1; v-- {
					if err := versions.FindOne(ctx, bson.D{{Key: "_id", Value: "Task/" + histID + "/" + strconv.Itoa(v)}}).Err(); err != nil {
						return err
					}
				}
				return nil
			},
		},
	}
	// Warm up every operation once (creating its collections), then give all collections the _id index that
	// `accord serve` maintains (embeddb.IndexIDs), so that both sides run as in production.
	for _, p := range pairs {
		for _, f := range []op{p.http, p.drv, p.plainWrite} {
			if f != nil {
				if err := f(0); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if err := srv.DB.IndexIDs(ctx); err != nil {
		b.Fatal(err)
	}
	const rounds = 5
	measure := func(f op, settle func() error) float64 {
		const window = 400 * time.Millisecond
		start, n := time.Now(), 0
		for time.Since(start) < window {
			if err := f(n); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if settle != nil {
			if err := settle(); err != nil {
				b.Fatal(err)
			}
		}
		return float64(n) / time.Since(start).Seconds()
	}
	b.ResetTimer()
	for _, p := range pairs {
		var h, d, plain []float64
		for r := 0; r < rounds; r++ {
			h = append(h, measure(p.http, p.settle))
			d = append(d, measure(p.drv, nil))
			if p.plainWrite != nil {
				plain = append(plain, measure(p.plainWrite, nil))
			}
		}
		hm, dm := median(h), median(d)
		b.ReportMetric(hm/dm, p.name+"-ratio")
		line := fmt.Sprintf("%-8s HTTP %7.0f/s   driver (same DB operations) %7.0f/s   ratio %.2f", p.name, hm, dm, hm/dm)
		if plain != nil {
			line += fmt.Sprintf("   (one plain insert %7.0f/s, ratio %.2f)", median(plain), hm/median(plain))
		}
		b.Log(line)
	}
}

// readProjection is the projection the store reads the current view with.
var readProjection = options.FindOne().SetProjection(bson.D{{Key: "vid", Value: 1}, {Key: "ts", Value: 1}, {Key: "deleted", Value: 1}, {Key: "raw", Value: 1}})

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
