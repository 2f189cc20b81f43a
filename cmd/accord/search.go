package main

import (
	"fmt"

	"github.com/accord-fhir/accord/fhir/fhirpath"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/config"
	"github.com/accord-fhir/accord/internal/conformance"
	"github.com/accord-fhir/accord/internal/search"
	"github.com/accord-fhir/accord/internal/validation"
	"github.com/accord-fhir/accord/profiles"
)

// searchParameters loads the R4 search parameters, which both the store's indexer and the searcher use.
func searchParameters() (*fhirsearch.Registry, error) {
	reg, err := fhirsearch.Load(profiles.FS, fhirpath.NewEngine())
	if err != nil {
		return nil, fmt.Errorf("load the search parameters: %w", err)
	}
	return reg, nil
}

// searchOptions are the searcher's options under cfg, with the terminology that validation loaded (the token
// modifiers :in, :not-in, :below and :above use it) and the value set ids of the guide.
func searchOptions(cfg config.Config, v *validation.Pipeline, guide *conformance.Catalog) search.Options {
	o := search.DefaultOptions()
	o.BaseURL, o.MaxCount = cfg.BaseURL, cfg.SearchMaxCount
	o.Terminology = conformance.NewTerminology(guide, v.Terminology())
	return o
}
