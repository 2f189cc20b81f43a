package main

import (
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/validation"
)

// validators builds the validation pipeline from the embedded implementation guide.
func validators() rest.Validator {
	return validation.New(nil)
}
