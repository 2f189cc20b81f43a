package store

import "github.com/accord-fhir/accord/fhir"

// Op is a comparison on an index field.
type Op int

// Comparisons. Values of one Cond are alternatives (OR); the Conds of a Query all apply (AND). On a field that
// holds an array, a comparison matches when any element matches; two Conds on the same array field may be met by
// different elements, so a condition that needs one element to meet two comparisons is written as one OpMatch.
const (
	// OpEq: the field (or any element of it) equals one of Values.
	OpEq Op = iota
	// OpNe: the field equals none of Values (an absent field matches).
	OpNe
	// OpLt, OpLe, OpGt, OpGe compare the field with Values[0] (of the same type: string, time.Time, number).
	OpLt
	OpLe
	OpGt
	OpGe
	// OpPrefix: a string field starts with one of Values.
	OpPrefix
	// OpContains: a string field contains one of Values.
	OpContains
	// OpExists: the field is present (Values[0] true) or absent (false).
	OpExists
	// OpMatch: a string field matches one of Values, regular expressions in the syntax RE2 and PCRE share
	// (anchors, (?:…) groups, alternation, classes such as [0-9], counted repetition {n}); the caller anchors them.
	OpMatch
)

// Cond is one condition on an index field.
type Cond struct {
	Field  string
	Op     Op
	Values []any
	// Or, when not empty, replaces Field/Op/Values: any of these conditions.
	Or []Cond
	// And, when not empty, replaces Field/Op/Values: all of these conditions.
	And []Cond
	// Not negates the condition: a resource matches when the condition does not (an absent field included).
	Not bool
}

// SortKey orders results by an index field, which must hold one value (not an array) or be absent; an absent
// value sorts before every value (ascending) or after (descending).
type SortKey struct {
	Field      string
	Descending bool
}

// Position is the place of a resource in a query's order: the values of its sort fields (nil for an absent one)
// and its id. Keyset paging starts a page after (or ends it before) a position, so that resources added or
// removed elsewhere in the order neither shift nor repeat the following pages.
type Position struct {
	Values []any
	ID     string
}

// Query selects current resources of one type.
type Query struct {
	Conds []Cond
	// Sort orders the results; ties are broken by id, in the direction of the first key (ascending without keys).
	Sort  []SortKey
	Count int // page size; 0 means no limit
	// Offset skips results; After and Before are preferred (keyset paging).
	Offset int
	// After starts the page just after this position; Before ends it just before (the page is the last Count
	// resources before the position, returned in the query's order). At most one is set.
	After, Before *Position
	// CountTotal asks for the total number of matches; CountOnly asks for the total alone, without resources.
	CountTotal, CountOnly bool
	// Fields lists index fields to return with each resource, in FindPage.Fields.
	Fields []string
	// OmitJSON leaves out the resources' JSON (when only their ids or Fields are needed).
	OmitJSON bool
}

// FindPage is one page of matches.
type FindPage struct {
	Resources []fhir.Resource
	// Fields holds, for each resource, the Query.Fields it has (absent ones are left out); nil without Fields.
	Fields []map[string]any
	Total  int // -1 when not counted
}
