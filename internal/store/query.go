package store

import "github.com/accord-fhir/accord/fhir"

// Op is a comparison on an index field.
type Op int

// Comparisons. Values of one Cond are alternatives (OR); the Conds of a Query all apply (AND).
const (
	// OpEq: the field (or any element of it) equals one of Values.
	OpEq Op = iota
	// OpNe: the field equals none of Values.
	OpNe
	// OpLt, OpLe, OpGt, OpGe compare the field with Values[0].
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
)

// Cond is one condition on an index field.
type Cond struct {
	Field  string
	Op     Op
	Values []any
	// Or, when not empty, replaces Field/Op/Values: any of these conditions.
	Or []Cond
}

// SortKey orders results by an index field.
type SortKey struct {
	Field      string
	Descending bool
}

// Query selects current resources of one type.
type Query struct {
	Conds  []Cond
	Sort   []SortKey // after the keys, ties are broken by id
	Count  int       // page size; 0 means no limit
	Offset int
	// CountTotal asks for the total number of matches.
	CountTotal bool
}

// FindPage is one page of matches.
type FindPage struct {
	Resources []fhir.Resource
	Total     int // -1 when not counted
}
