package validate_test

import (
	"os"
	"testing"

	"github.com/accord-fhir/accord/fhir/fhirpath"
	"github.com/accord-fhir/accord/fhir/validate"
)

// BenchmarkValidateTask validates a realistic 3 KB Task (testdata/validate/task-test-result.json) against the
// base definitions, without invariants. Target: well under 50 µs on one core (go test -bench . -cpu 1).
func BenchmarkValidateTask(b *testing.B) {
	v := newCore(b)
	obj := readObject(b, taskFile)
	if issues := v.Validate(obj); len(issues) > 0 {
		b.Fatalf("the benchmark Task is not valid:\n%s", describe(issues))
	}
	b.ReportAllocs()
	for b.Loop() {
		v.Validate(obj)
	}
}

// BenchmarkNew loads and indexes the R4 base definitions and terminology in profiles/r4. Target: under 1 s.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := validate.New(os.DirFS(profilesDir), validate.DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateTask_Invariants is BenchmarkValidateTask with the FHIRPath invariants evaluated by the
// fhirpath engine, as in production (without the best-practice dom-6, as the service runs).
func BenchmarkValidateTask_Invariants(b *testing.B) {
	opts := validate.DefaultOptions()
	opts.Invariants, opts.BestPractice = validate.NewFHIRPath(fhirpath.NewEngine()), false
	v, err := validate.New(os.DirFS(profilesDir), opts)
	if err != nil {
		b.Fatal(err)
	}
	obj := readObject(b, taskFile)
	if issues := v.Validate(obj); len(issues) > 0 {
		b.Fatalf("the benchmark Task is not valid:\n%s", describe(issues))
	}
	b.ReportAllocs()
	for b.Loop() {
		v.Validate(obj)
	}
}
