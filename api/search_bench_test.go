package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
	"github.com/accord-fhir/accord/internal/store/mongo"
)

// queryCounter counts the database queries (find, and aggregate for counts) the store sends, with the fields
// they filter on.
type queryCounter struct {
	mu      sync.Mutex
	queries int
	fields  map[string]bool
}

func (c *queryCounter) observe(cmd mongo.Command) {
	if cmd.Name != "find" && cmd.Name != "aggregate" && cmd.Name != "count" {
		return
	}
	if slices.Contains(cmd.Fields, "obligation_state") { // the ledger's background sweep, not the searches
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries++
	for _, f := range cmd.Fields {
		c.fields[f] = true
	}
}

func (c *queryCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries, c.fields = 0, map[string]bool{}
}

func (c *queryCounter) read() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var fields []string
	for f := range c.fields {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	return c.queries, fields
}

const (
	benchOrgs  = 60
	benchTasks = 10000
)

// loadBenchTasks writes 60 Organizations and 10,000 Tasks straight to the store (with the embedded database's
// _id index, as accord serve keeps it): owners skewed as in a real region (a few trusts own most Tasks), statuses
// mostly completed, authoredOn over 2025.
func loadBenchTasks(b *testing.B, s *apitest.Server) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	write := func(obj fhir.Object) {
		id, _ := obj["id"].(string)
		w := store.Write{Type: fhir.ResourceType(obj), ID: id, Object: obj, Method: "POST", New: true}
		if _, err := s.Store.Commit(ctx, []store.Write{w}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range benchOrgs {
		write(fhir.Object{"resourceType": "Organization", "id": fmt.Sprintf("org-%02d", i), "name": fmt.Sprintf("Trust %02d", i),
			"identifier": []any{map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": fmt.Sprintf("R%02d", i)}}})
	}
	statuses := []string{"requested", "requested", "accepted", "in-progress", "completed", "completed", "completed", "completed", "cancelled", "rejected"}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range benchTasks {
		if i == 1 { // the Task collections exist: give them the _id index that accord serve maintains
			if err := s.DB.IndexIDs(ctx); err != nil {
				b.Fatal(err)
			}
		}
		obj, err := fhir.DecodeObject([]byte(benchTask(fmt.Sprintf("task-%05d", i))), fhir.MaxDepth)
		if err != nil {
			b.Fatal(err)
		}
		owner := int(rng.ExpFloat64()*8) % benchOrgs // org-00 … org-07 own most
		obj["owner"] = map[string]any{"reference": fmt.Sprintf("Organization/org-%02d", owner)}
		obj["status"] = statuses[rng.IntN(len(statuses))]
		obj["authoredOn"] = start.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))).Format(time.RFC3339)
		obj["for"] = map[string]any{"reference": fmt.Sprintf("Patient/p-%04d", rng.IntN(2000))}
		write(obj)
	}
}

// BenchmarkSearch_Tasks runs three searches on 10,000 Tasks in the embedded database, in one run: a GP system's
// pending Tasks of one owner, newest first; the same through a chain on the owner's name; and with the owners
// included. It reports requests per second and the database queries per request (counted with the store's
// command monitor), and lists the fields the queries filter on.
//
//	go test ./api -run '^$' -bench Search_Tasks -benchtime 20x
func BenchmarkSearch_Tasks(b *testing.B) {
	apitest.RunAsServed(b)
	counter := &queryCounter{fields: map[string]bool{}}
	s := apitest.Start(b, apitest.Options{Store: func(o *mongo.Options) { o.Monitor = counter.observe }})
	began := time.Now()
	loadBenchTasks(b, s)
	b.Logf("loaded %d Tasks and %d Organizations in %s", benchTasks, benchOrgs, time.Since(began).Round(time.Second))
	for _, bc := range []struct{ name, query string }{
		{"owner-status-sort", "/Task?owner=Organization/org-03&status=requested&_sort=-_lastUpdated&_count=20"},
		{"chained", "/Task?owner:Organization.name=" + url.QueryEscape("Trust 03") + "&status=requested&_sort=-_lastUpdated&_count=20"},
		{"include", "/Task?owner=Organization/org-03&status=requested&_sort=-_lastUpdated&_count=20&_include=Task:owner"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ss := parseSearchSet(b, s.Do(b, http.MethodGet, bc.query, nil)) // warm, and check
			if len(ss.matches) != 20 {
				b.Fatalf("%s: %d matches, want a full page of 20", bc.query, len(ss.matches))
			}
			counter.reset()
			b.ResetTimer()
			t0 := time.Now()
			for range b.N {
				if r := s.Do(b, http.MethodGet, bc.query, nil); r.Status != http.StatusOK {
					b.Fatalf("status %d", r.Status)
				}
			}
			elapsed := time.Since(t0)
			b.StopTimer()
			queries, fields := counter.read()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(queries)/float64(b.N), "queries/req")
			for _, f := range fields {
				if f == "raw" || f == "vid" {
					b.Errorf("a query filters on %s, which the search index leaves out", f)
				}
			}
			b.Logf("%s: %.1f req/s, %.1f queries/req, filtering on %s", bc.name, float64(b.N)/elapsed.Seconds(),
				float64(queries)/float64(b.N), strings.Join(fields, ", "))
		})
	}
}
