// Package validate checks resources against FHIR R4 (4.0.1) StructureDefinitions: the cardinality of every
// element (min and max, through backbone elements, datatypes, choice types and nested resources), required
// bindings to value sets expanded from their CodeSystems, fixed[x] and pattern[x] values, and the FHIRPath
// constraints (invariants) through an InvariantEvaluator supplied by the caller.
//
// New loads the official definitions (StructureDefinition, ValueSet and CodeSystem resources, as published)
// from an fs.FS and builds an index per type once; Validate then walks a decoded resource against it and
// reports every issue with its FHIRPath location. Profiles (StructureDefinitions with derivation constraint,
// given as a snapshot or as a differential on a base type) go through the same engine with ValidateProfile.
//
// It is step 3 (and the engine of step 4) of Accord's validation pipeline; the JSON schema is step 2.
//
// See https://hl7.org/fhir/R4/validation.html, https://hl7.org/fhir/R4/elementdefinition.html and
// https://hl7.org/fhir/R4/terminologies.html#strength.
package validate
