// Package search runs FHIR searches over the store: its Indexer extracts the index fields of each written
// resource (fhir/search evaluates the R4 parameter expressions; this package encodes the values), and its
// Searcher turns a search request into store queries: criteria, chains and reverse chains, sorting, keyset
// paging, _include and _revinclude.
//
// # Index fields
//
// Every parameter's values become top-level fields of the current-view document, named after the parameter's
// code, so that no query needs $elemMatch or collation (see shared/design.md, Storage):
//
//	sp_<code>             token: "system|code" and the bare "code" (| and \ escaped as \| and \\)
//	                      string: folded (lower case, no accents, white space collapsed)
//	                      reference: "Type/id", absolute URL, canonical url and url|version
//	                      date: "start|end", two 17-digit UTC instants yyyymmddhhmmssSSS, end exclusive
//	                      number, quantity: the value as a 28-digit fixed-point number (value + 10^18, 9 decimals)
//	                      uri: as written
//	                      composite: the components' keys joined by $
//	sp_<code>:text        token: folded texts (CodeableConcept.text, Coding.display, Identifier.type.text)
//	sp_<code>:of-type     token: "type-system|type-code|value" of typed identifiers
//	sp_<code>:exact       string: as written
//	sp_<code>:identifier  reference: Reference.identifier tokens
//	sp_<code>:end         date: the end instants alone
//	sp_<code>:unit        quantity: "system|code|number", "|code|number", "|unit|number"
//	sp_<code>:sort        the value _sort orders by: the smallest key (a single value, not an array)
//
// # Dates with several values
//
// A condition that one value must meet on both its start and its end (eq, ge, le, ap) is one regular expression
// over the "start|end" keys: a regular expression matches array elements one at a time, so the start and the end
// it sees belong to the same value. Fixed-width digits make "at least" and "at most" expressible as regular
// expressions. Conditions on one side only (lt, gt, sa, eb, ne) are plain string comparisons: "start|end" sorts
// by start, and sp_<code>:end holds the ends. Numbers and quantities use the same fixed-width technique, so that
// an implicit range (100 is [99.5, 100.5)) and a unit are met by one value.
//
// See https://hl7.org/fhir/R4/search.html.
package search
