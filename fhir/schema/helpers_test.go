package schema

import (
	"os"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

// schemaPath and examplesDir are the committed R4 schema and examples, relative to this package.
const (
	schemaPath  = "../../profiles/r4/fhir.schema.json"
	examplesDir = "../../testdata/r4examples"
)

// newValidator returns a Validator for the committed R4 schema.
func newValidator(tb testing.TB) *Validator {
	tb.Helper()
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		tb.Fatalf("read schema: %v", err)
	}
	v, err := New(data)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return v
}

// readObject decodes the JSON resource in file path as Accord does on input.
func readObject(tb testing.TB, path string) fhir.Object {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	obj, err := fhir.DecodeObject(data, fhir.MaxDepth)
	if err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	return obj
}
