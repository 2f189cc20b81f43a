// Package schema checks FHIR R4 resources against the official R4 JSON schema (fhir.schema.json): known elements
// only, the JSON type of each element, the patterns of the primitive datatypes, the codes of required bindings
// that the schema enumerates, and the few required elements the schema lists. It is step 2 of Accord's validation
// pipeline; cardinality, bindings and invariants from the StructureDefinitions come after it.
//
// It also checks what the R4 datatypes require and the schema's patterns miss (format.go): integer, positiveInt
// and unsignedInt values are JSON numbers without fraction or exponent, in their 32-bit ranges (the patterns
// apply to strings only); the days of date, dateTime and instant values exist in their months; a
// Reference.reference is neither blank nor padded with whitespace. And the arrays of a repeating primitive and of
// its extensions ("given", "_given") pair up item by item, null standing for what an item lacks (aligned.go).
//
// Each resource is checked against the definition of its own resourceType, never through the schema's root oneOf,
// which is slow and gives useless errors. Nested resources (contained resources, Bundle entries and outcomes,
// Parameters resources) are checked the same way, each against its own type, and their issues carry the full
// FHIRPath location from the outer resource.
//
// See https://hl7.org/fhir/R4/json.html#schema.
package schema
