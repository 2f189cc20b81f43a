package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
)

// benchEncounter is an inpatient Encounter: finished, it opens the discharge-summary obligation (clause 2.5);
// in progress, it opens nothing. Both are the same size.
func benchEncounter(status string) []byte {
	e := encounter("x", "IMP", time.Now().Add(-time.Hour))
	delete(e, "id")
	e["status"] = status
	e["text"] = map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml">Admission for community-acquired pneumonia</div>`}
	b, _ := json.Marshal(e)
	return b
}

// BenchmarkObligationOverhead measures, in one run on the embedded database, the throughput of writes that open an
// obligation (a finished inpatient Encounter: its Task and ledger entry) against writes of the same size that open
// none (an Encounter in progress), alternating the two in rounds (ABBA) so that machine drift and the growth of the
// database hit both. A round's time runs until the ledger has processed every write of the round, so the
// obligations' cost is counted in full. It reports the ratio for one client and for four concurrent clients.
//
//	go test ./api -run '^$' -bench ObligationOverhead -benchtime 1x
func BenchmarkObligationOverhead(b *testing.B) {
	s := apitest.Start(b)
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 16
	none, opens := benchEncounter("in-progress"), benchEncounter("finished")
	post := func(body []byte) error {
		resp, err := http.Post(s.URL+"/Encounter", "application/fhir+json", strings.NewReader(string(body)))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST Encounter = %d", resp.StatusCode)
		}
		return nil
	}
	// measure writes body from clients goroutines for the window, then waits for the ledger: writes per second.
	measure := func(body []byte, clients int) float64 {
		const window = 1500 * time.Millisecond
		var n atomic.Int64
		start := time.Now()
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			wg.Go(func() {
				for time.Since(start) < window {
					if err := post(body); err != nil {
						b.Error(err)
						return
					}
					n.Add(1)
				}
			})
		}
		wg.Wait()
		if err := s.Ledger.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		return float64(n.Load()) / time.Since(start).Seconds()
	}
	for i := 0; i < 20; i++ { // warm up: connections, caches, the first collections
		_ = post(none)
		_ = post(opens)
	}
	b.ResetTimer()
	const rounds = 6
	for _, clients := range []int{1, 4} {
		var base, obl []float64
		for r := 0; r < rounds; r++ { // ABBA: neither kind always runs on the larger database
			if r%2 == 0 {
				base = append(base, measure(none, clients))
				obl = append(obl, measure(opens, clients))
			} else {
				obl = append(obl, measure(opens, clients))
				base = append(base, measure(none, clients))
			}
		}
		bm, om := median(base), median(obl)
		b.ReportMetric(om/bm, fmt.Sprintf("ratio-%dclients", clients))
		b.Logf("%d client(s): writes opening no obligation %6.0f/s, writes opening one %6.0f/s (Task + ledger entry included): ratio %.2f",
			clients, bm, om, om/bm)
	}
	v := decode(b, s.Do(b, http.MethodGet, "/ledger/$verify", nil).Body)
	if v["verified"] != true || toString(v["entries"]) == "0" {
		b.Fatalf("after the benchmark the ledger is %v", v)
	}
	b.Logf("ledger: %s entries, chain verified", toString(v["entries"]))
}
