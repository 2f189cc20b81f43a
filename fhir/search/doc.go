// Package search is FHIR R4 search without storage: the R4 SearchParameter definitions (Registry), the parsing of
// search requests into typed criteria (Parse), the extraction of a resource's values for each parameter by
// evaluating the parameter's FHIRPath expression (Extract), and the result transformations of _summary and
// _elements. internal/search turns extracted values into index fields and criteria into store queries.
//
// Values are normalised here, once, so that the index and the query agree: strings are folded (lower case, accents
// removed, white space collapsed), dates become ranges of instants at the precision they are written in, numbers
// and quantities keep their exact decimal text, references become "Type/id" or the absolute URL.
//
// See https://hl7.org/fhir/R4/search.html and https://hl7.org/fhir/R4/searchparameter.html.
package search
