package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accord-fhir/accord/api/apitest"
)

// BenchmarkMemoryFlat checks design.md's target that memory stays flat under sustained load (no growth with the
// number of requests). In one run on the embedded database it stores a fixed set of Tasks and of Encounters that
// open obligations, then makes phases of the same mixed work on them — updates (new versions, obligations updated),
// reads by id, instance history, searches with paging, pending actions — and after each phase collects garbage and
// records the live Go heap, what the Go runtime holds, and the process's resident memory (which also holds
// SQLite's page caches, outside the Go heap). It reports the growth from the second phase (caches warm) to the last:
// flat is a ratio near 1.
//
//	go test ./api -run '^$' -bench MemoryFlat -benchtime 1x
func BenchmarkMemoryFlat(b *testing.B) {
	apitest.RunAsServed(b)
	s := apitest.Start(b)
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 16
	requests := 0
	do := func(method, path string, body []byte) []byte {
		requests++
		req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/fhir+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			b.Fatalf("%s %s = %d: %.300s", method, path, resp.StatusCode, out)
		}
		return out
	}
	pat := `{"resourceType":"Patient","id":"9000000009","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],` +
		`"generalPractitioner":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"G85001"}}]}`
	do(http.MethodPut, "/Patient/9000000009", []byte(pat))
	const size, phases, perPhase = 1000, 6, 600
	task := func(i, version int) []byte {
		status := []string{"requested", "requested", "cancelled"}[(i+version)%3]
		return []byte(strings.Replace(benchTask(fmt.Sprint("mem-", i)), `"status":"requested"`, `"status":"`+status+`"`, 1))
	}
	encounter := func(i int, end time.Time) []byte {
		e := encounter(fmt.Sprint("mem-", i), "IMP", end)
		body, _ := json.Marshal(e)
		return body
	}
	for i := 0; i < size; i++ {
		do(http.MethodPut, fmt.Sprint("/Task/mem-", i), task(i, 0))
		do(http.MethodPut, fmt.Sprint("/Encounter/mem-", i), encounter(i, time.Now().Add(-time.Hour)))
	}
	if err := s.Ledger.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	// Index the collections' _id as `accord serve` does at start and every minute (embeddb.IndexIDs).
	if err := s.DB.IndexIDs(context.Background()); err != nil {
		b.Fatal(err)
	}
	heap, held, rss := make([]float64, phases), make([]float64, phases), make([]float64, phases)
	n := 0
	for p := 0; p < phases; p++ {
		for k := 0; k < perPhase; k++ {
			n++
			i := n % size
			do(http.MethodPut, fmt.Sprint("/Task/mem-", i), task(i, n))
			do(http.MethodPut, fmt.Sprint("/Encounter/mem-", i), encounter(i, time.Now().Add(-time.Duration(n)*time.Second)))
			do(http.MethodGet, fmt.Sprint("/Task/mem-", i), nil)
			if k%10 == 0 {
				do(http.MethodGet, fmt.Sprint("/Task/mem-", i, "/_history?_count=5"), nil)
			}
			if k%100 == 0 { // each a scan of the collection on the embedded database
				do(http.MethodGet, "/Task?owner=Organization/g85001&status=requested&_count=20&_sort=-_lastUpdated", nil)
				do(http.MethodGet, "/Organization/R9Z/$pending-actions?_count=20", nil)
			}
		}
		if err := s.Ledger.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap[p], rss[p] = float64(ms.HeapAlloc)/(1<<20), residentMB()
		held[p] = float64(ms.HeapSys-ms.HeapReleased+ms.StackSys+ms.MSpanSys+ms.MCacheSys+ms.GCSys+ms.OtherSys) / (1 << 20)
		b.Logf("phase %d (%5d requests in all): live heap %6.1f MB; Go holds %6.1f MB; resident %6.1f MB (the rest, SQLite's page caches and code: %5.1f MB)",
			p+1, requests, heap[p], held[p], rss[p], rss[p]-held[p])
	}
	b.ReportMetric(heap[phases-1]/heap[1], "heap-growth")
	b.ReportMetric(held[phases-1]/held[1], "go-held-growth")
	if rss[1] > 0 {
		b.ReportMetric(rss[phases-1]/rss[1], "resident-growth")
	}
}

// residentMB is the process's resident memory in MB, from /proc (0 where there is none).
func residentMB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseFloat(f[1], 64)
	return pages * float64(os.Getpagesize()) / (1 << 20)
}
