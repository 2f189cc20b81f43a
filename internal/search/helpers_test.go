package search

import (
	"sync"
	"testing"

	"github.com/accord-fhir/accord/fhir/fhirpath"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/profiles"
)

var registry = sync.OnceValues(func() (*fhirsearch.Registry, error) {
	return fhirsearch.Load(profiles.FS, fhirpath.NewEngine())
})

func testRegistry(t testing.TB) *fhirsearch.Registry {
	t.Helper()
	reg, err := registry()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}
