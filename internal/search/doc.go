// Package search runs FHIR searches over the store: its Indexer extracts the index fields of each written
// resource (fhir/search evaluates the R4 parameter expressions; this package encodes the values), and its
// Searcher turns a search request into store queries: criteria, chains and reverse chains, sorting, keyset
// paging, _include and _revinclude (whose accepted values it lists for the CapabilityStatement: Includes,
// RevIncludes).
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
// # Queries
//
// A search makes one find (and one count with _total=accurate or estimate), one more per chain level and target
// type and per reverse chain (which return at most Options.MaxChainMatches ids each, or fail with too-costly),
// and one per included type and per _revinclude in each include round. None grows with the collection. The
// token modifiers that need terminology make none: value sets and hierarchies are resolved in memory
// (Options.Terminology) into the codes the criterion's keys must hold. Pages are keyset-paged: the _cursor of a
// link holds the sort values and id of the page's last (or first) resource, so that resources added or removed
// elsewhere in the order neither shift nor repeat later pages. Without _sort the order is _lastUpdated
// ascending; ties are broken by id.
//
// # Choices and limits
//
//   - Dates and date-times without a time zone are read as UTC; instants are keyed to the millisecond.
//   - Numbers and quantities are keyed with 9 decimals within ±10^18; ap is ±10%; sa and eb on numbers are gt
//     and lt. Quantities match by unit as written (system|code, or code or unit text): no UCUM conversion.
//   - A token on a code element has no system (R4's implied system of its binding is not looked up), so
//     status=requested and status=|requested match, a system|requested does not.
//   - Token :in and :not-in take a value set the server knows: a canonical URL (with an optional |version, which
//     must be the loaded one) of R4's or the guide's value sets, or ValueSet/id of one the server serves (the
//     guide's). Its expansion from the loaded code systems becomes system|code keys, and |code keys, so that
//     elements of type code, whose system is implied by their binding, match too. :not-in, like :not, matches
//     the resources with no such code, those without the element included.
//   - Token :below and :above take system|code and follow the hierarchy of the loaded complete CodeSystems
//     (nested concepts; the parent, child and subsumedBy properties), the code included; they match as :in
//     does. SNOMED CT, LOINC and the other systems that are not loaded have no known hierarchy.
//   - What the terminology cannot answer is a 400 naming the parameter: an unknown value set (invalid), a value
//     set that cannot be expanded (it includes SNOMED CT, UCUM …, or unsupported filters) or a code system
//     without a known hierarchy (not-supported), more than Options.MaxCodes codes (too-costly).
//   - :in, :not-in, :below and :above on other types than token (uri takes :below and :above) are refused
//     (not-supported); _text, _content, _query, _filter, _list and near too; _contained=true or both and
//     _containedType=contained as well: contained resources are not searched (_contained=false and
//     _containedType=container, the defaults, are accepted).
//   - References are indexed as written. A reference to one of the server's own resources is the same written
//     relative (Patient/x) or absolute under the server's base ([base]/Patient/x): a value in either form matches
//     both, :Patient takes either, and _include, _revinclude, chains and _has follow both. The base is applied
//     at query time (the request's, rest.WithBaseURL, else Options.BaseURL): it is not known at index time when
//     derived from each request, and indexing under it would go stale if it changed.
//   - Chains and _has look at the referenced resources without the caller's organisation scoping (which applies
//     to the searched type and to included resources).
//   - _summary and _elements apply to the matches, not to included resources. The total is given without
//     _total only when the whole result is the first page; estimate counts as accurate does.
//   - A search of several types (Searcher.SearchTypes) takes only parameters common to all of them.
//
// See https://hl7.org/fhir/R4/search.html.
package search
