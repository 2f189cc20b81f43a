package validate

import (
	"os"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

func BenchmarkDevTask(b *testing.B) {
	v, err := New(os.DirFS("../../profiles"), DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	data, _ := os.ReadFile("../../testdata/validate/task-test-result.json")
	obj, _ := fhir.DecodeObject(data, 64)
	if is := v.Validate(obj); len(is) > 0 {
		b.Fatal(is)
	}
	b.ReportAllocs()
	for b.Loop() {
		v.Validate(obj)
	}
}

func BenchmarkDevNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(os.DirFS("../../profiles"), DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}
