package validation

import (
	"fmt"
	"io/fs"

	"github.com/accord-fhir/accord/fhir/schema"
	"github.com/accord-fhir/accord/fhir/validate"
)

// SchemaFile is the path of the official R4 JSON schema in the implementation guide.
const SchemaFile = "r4/fhir.schema.json"

// Default builds the pipeline of the implementation guide defs (profiles.FS in production): the R4 JSON schema
// as the structural step, then the base R4 StructureDefinitions (cardinality, required bindings, fixed and
// pattern values).
func Default(defs fs.FS) (*Pipeline, error) {
	raw, err := fs.ReadFile(defs, SchemaFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", SchemaFile, err)
	}
	sv, err := schema.New(raw)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", SchemaFile, err)
	}
	base, err := validate.New(defs, validate.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("load the R4 base definitions: %w", err)
	}
	return New(sv, base), nil
}
