// Package search runs FHIR searches over the store: it extracts the index fields of each written resource and
// turns search parameters into store queries. See https://hl7.org/fhir/R4/search.html.
package search
