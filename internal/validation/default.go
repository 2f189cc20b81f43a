package validation

import (
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
	"github.com/accord-fhir/accord/fhir/schema"
	"github.com/accord-fhir/accord/fhir/validate"
)

// SchemaFile is the path of the official R4 JSON schema in the implementation guide.
const SchemaFile = "r4/fhir.schema.json"

// GuideFiles are the fs.Glob patterns of the Accord implementation guide's conformance resources in profiles.FS.
var GuideFiles = []string{"ig/StructureDefinition-*.json", "ig/ValueSet-*.json", "ig/CodeSystem-*.json"}

// ClauseFile is the clause CodeSystem of the guide; rule levels may name only its codes.
const ClauseFile = "ig/CodeSystem-consensus-clause.json"

// Options configure Load.
type Options struct {
	// Levels overrides the enforcement level of Consensus clauses (keys are clause ids such as "2.4"); the
	// clauses it does not name keep the severity the guide gives their rules.
	Levels Levels
	// BestPractice reports the best-practice constraints of the base definitions (dom-6: a resource should have
	// narrative) as warnings. Off for the service, where they would be in the response to every write; on for
	// `accord validate`, which advises vendors.
	BestPractice bool
}

// Default builds the pipeline of the implementation guide defs (profiles.FS in production) with the levels of
// the guide: Load with no options.
func Default(defs fs.FS) (*Pipeline, error) {
	return Load(defs, Options{})
}

// Load builds the validation pipeline of defs: the R4 JSON schema as the structural step, then the base R4
// StructureDefinitions (cardinality, required bindings, fixed and pattern values, FHIRPath invariants) with the
// NHS number and ODS code formats on every Identifier (identifier.go), then the Accord profiles that apply to
// the resource, with the rule levels of opts. It returns an error when a definition cannot be loaded, or when
// opts names a clause that the guide does not define.
func Load(defs fs.FS, opts Options) (*Pipeline, error) {
	raw, err := fs.ReadFile(defs, SchemaFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", SchemaFile, err)
	}
	sv, err := schema.New(raw)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", SchemaFile, err)
	}
	if err := checkClauses(defs, opts.Levels); err != nil {
		return nil, err
	}
	vopts := validate.DefaultOptions()
	vopts.Files = append(vopts.Files, GuideFiles...)
	vopts.Invariants = validate.NewFHIRPath(fhirpath.NewEngine())
	vopts.BestPractice = opts.BestPractice
	vopts.TypeChecks = typeChecks()
	v, err := validate.New(defs, vopts)
	if err != nil {
		return nil, fmt.Errorf("load the R4 base definitions and the implementation guide: %w", err)
	}
	p := New(structure(sv), StepFunc(v.Validate)).WithProfiles(v, opts.Levels)
	p.terms = v.Terminology()
	return p, nil
}

// checkClauses fails when levels names a clause that the clause CodeSystem of defs does not define.
func checkClauses(defs fs.FS, levels Levels) error {
	if len(levels) == 0 {
		return nil
	}
	raw, err := fs.ReadFile(defs, ClauseFile)
	if err != nil {
		return fmt.Errorf("read %s: %w", ClauseFile, err)
	}
	var cs struct {
		Concept []struct{ Code string } `json:"concept"`
	}
	if err := json.Unmarshal(raw, &cs); err != nil {
		return fmt.Errorf("read %s: %w", ClauseFile, err)
	}
	known := map[string]bool{}
	for _, c := range cs.Concept {
		known[c.Code] = true
	}
	for clause := range levels {
		if !known[clause] {
			return fmt.Errorf("rule levels: %q is not a clause of the Consensus (%s)", clause, ClauseFile)
		}
	}
	return nil
}

// structure is the structural step: the R4 JSON schema, and the rules of FHIR's JSON representation that the
// schema does not state (no empty arrays or objects, null only to align a primitive array with its extensions).
func structure(sv *schema.Validator) Step {
	return StepFunc(func(obj fhir.Object) []fhir.Issue {
		return append(sv.Validate(obj), fhir.CheckJSON(obj)...)
	})
}
