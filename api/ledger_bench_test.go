package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
)

// benchEncounter is a finished Encounter of class: an inpatient stay (IMP) opens the discharge-summary obligation
// (clause 2.5), an emergency attendance (EMER) opens nothing. Both are the same size.
func benchEncounter(class string) []byte {
	e := encounter("x", class, time.Now().Add(-time.Hour))
	delete(e, "id")
	e["text"] = map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml">Admission for community-acquired pneumonia</div>`}
	b, _ := json.Marshal(e)
	return b
}

// BenchmarkObligationOverhead measures, in one run on the embedded database, the throughput of writes that open an
// obligation (a finished inpatient Encounter: its Task and ledger entry) against writes of the same size that open
// none (a finished emergency attendance). Each window is measured in steady state: the clients write for a
// warm-up first, so that the ledger is already at work on earlier obligations when counting starts (as it always
// is under sustained load), and the window's time runs until the ledger has processed every write made, so the
// obligations' cost is counted in full (the warm-up's included). The ledger works in batches (up to 128 versions,
// gathered for up to 250 ms), so a window ends with up to one batch still to process, and that tail no longer
// overlaps any write: about 60 ms with four clients. The windows last 2.5 s, so that this end effect, which
// sustained load does not have, costs the obligations' rate about 2% rather than the 8% it cost 0.7 s windows.
// Rounds rotate the order of three windows — none, one, and none again as a control whose ratio to the first
// shows the noise of the machine — so that drift and the growth of the database hit all alike. Each round gives a
// ratio of rates measured seconds apart, and the median of the rounds' ratios is reported (pairing within a round
// keeps the machine's slower drift out of it), for one client and for four at once.
//
//	go test ./api -run '^$' -bench ObligationOverhead -benchtime 1x
func BenchmarkObligationOverhead(b *testing.B) {
	apitest.RunAsServed(b)
	s := apitest.Start(b)
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 16
	none, opens := benchEncounter("EMER"), benchEncounter("IMP")
	post := func(body []byte) error {
		resp, err := http.Post(s.URL+"/Encounter", "application/fhir+json", bytes.NewReader(body))
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
	// measure writes body from clients goroutines for a warm-up and then the window, then waits for the ledger:
	// the writes of the window per second, from the window's start until the ledger is done.
	measure := func(body []byte, clients int) float64 {
		const warmUp, window = 300 * time.Millisecond, 2500 * time.Millisecond
		var n atomic.Int64
		begin := time.Now()
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			wg.Go(func() {
				for time.Since(begin) < warmUp+window {
					if err := post(body); err != nil {
						b.Error(err)
						return
					}
					n.Add(1)
				}
			})
		}
		time.Sleep(warmUp)
		start, before := time.Now(), n.Load()
		wg.Wait()
		if err := s.Ledger.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		return float64(n.Load()-before) / time.Since(start).Seconds()
	}
	// The patient the Encounters are about, registered with a practice, as in real use.
	pat := `{"resourceType":"Patient","id":"9000000009","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],` +
		`"generalPractitioner":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"G85001"}}]}`
	if r := s.Do(b, http.MethodPut, "/Patient/9000000009", []byte(pat)); r.Status != http.StatusCreated {
		b.Fatalf("PUT Patient = %d: %s", r.Status, r.Body)
	}
	for i := 0; i < 20; i++ { // warm up: connections, caches, the first collections
		_ = post(none)
		_ = post(opens)
	}
	// Index the collections' _id as `accord serve` does at start and every minute (embeddb.IndexIDs).
	if err := s.DB.IndexIDs(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	const rounds = 12
	bodies := [][]byte{none, opens, none}
	for _, clients := range []int{1, 4} {
		rates := make([][]float64, len(bodies))
		var ratios, controls []float64
		for r := 0; r < rounds; r++ {
			round := make([]float64, len(bodies))
			for k := range bodies {
				arm := (r + k) % len(bodies)
				round[arm] = measure(bodies[arm], clients)
				rates[arm] = append(rates[arm], round[arm])
			}
			ratios, controls = append(ratios, round[1]/round[0]), append(controls, round[2]/round[0])
		}
		ratio, control := median(ratios), median(controls)
		b.ReportMetric(ratio, fmt.Sprintf("ratio-%dclients", clients))
		b.ReportMetric(control, fmt.Sprintf("control-%dclients", clients))
		b.Logf("%d client(s): writes opening no obligation %5.0f/s, opening one %5.0f/s (Task and ledger entry included): ratio %.2f (control: the same writes again %.2f)",
			clients, median(rates[0]), median(rates[1]), ratio, control)
	}
	v := decode(b, s.Do(b, http.MethodGet, "/ledger/$verify", nil).Body)
	if v["verified"] != true || toString(v["entries"]) == "0" {
		b.Fatalf("after the benchmark the ledger is %v", v)
	}
	b.Logf("ledger: %s entries, chain verified", toString(v["entries"]))
}
