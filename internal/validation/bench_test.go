package validation_test

import (
	"context"
	"os"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

// benchmarkFile validates a resource of testdata/ig through the full pipeline (JSON schema, base definitions
// with their FHIRPath invariants, the Accord profiles that apply); go test -bench . -cpu 1 gives µs per resource
// on one core. Decoding the JSON is not included.
func benchmarkFile(b *testing.B, name string) {
	p := newPipeline(b)
	data, err := os.ReadFile("../../testdata/ig/" + name)
	if err != nil {
		b.Fatal(err)
	}
	obj, err := fhir.DecodeObject(data, fhir.MaxDepth)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if issues := p.Validate(ctx, obj); len(issues) > 0 {
		b.Fatalf("%s is not valid:\n%s", name, describe(issues))
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		p.Validate(ctx, obj)
	}
	// CPU time per resource: on a shared machine, wall time per op also counts the time other processes
	// hold the core.
	if used := cpuTime() - start; used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N)/1e3, "cpu-µs/op")
	}
}

// BenchmarkValidate_Task3K: a 3 KB test Task (Accord Task and test follow-up profiles). Target: under 150 µs.
func BenchmarkValidate_Task3K(b *testing.B) { benchmarkFile(b, "Task-3k.json") }

// BenchmarkValidate_DischargeSummary10K: a 10 KB discharge summary Communication (letter and discharge
// summary profiles).
func BenchmarkValidate_DischargeSummary10K(b *testing.B) {
	benchmarkFile(b, "Communication-discharge-10k.json")
}
