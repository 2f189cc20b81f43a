package main

import (
	"fmt"

	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/validation"
	"github.com/accord-fhir/accord/profiles"
)

// validators builds the validation pipeline from the embedded implementation guide.
func validators() (rest.Validator, error) {
	v, err := validation.Default(profiles.FS)
	if err != nil {
		return nil, fmt.Errorf("load the implementation guide: %w", err)
	}
	return v, nil
}
