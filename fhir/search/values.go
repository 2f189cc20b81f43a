package search

import (
	"time"
)

// Values are the values of one search parameter in one resource, normalised for indexing. Which fields are set
// depends on the parameter's type.
type Values struct {
	// Tokens are the codes of a token parameter (Coding, CodeableConcept, Identifier, ContactPoint, code,
	// boolean, string …); System is "" when the value has none.
	Tokens []Token
	// Texts are the texts a token's :text modifier matches: CodeableConcept.text, Coding.display,
	// Identifier.type.text.
	Texts []string
	// OfType are the identifiers with a type, for the :of-type modifier.
	OfType []OfType
	// Strings are the strings of a string parameter, as written.
	Strings []string
	// Refs are the references of a reference parameter: "Type/id" for relative references (without version),
	// the absolute URL otherwise, and for canonicals both "url|version" and "url".
	Refs []string
	// RefIDs are the identifiers of references (Reference.identifier), for the :identifier modifier.
	RefIDs []Token
	// Ranges are the periods a date parameter's values cover.
	Ranges []Range
	// Numbers are the exact decimal texts of a number parameter.
	Numbers []string
	// Quantities are the values of a quantity parameter.
	Quantities []Quantity
	// URIs are the values of a uri parameter.
	URIs []string
	// Nodes are the values of a composite parameter: for each node its expression selects, the values of each
	// component (in the order of Param.Components).
	Nodes [][]Values
}

// Empty reports whether v holds no value.
func (v Values) Empty() bool {
	return len(v.Tokens) == 0 && len(v.Texts) == 0 && len(v.OfType) == 0 && len(v.Strings) == 0 && len(v.Refs) == 0 &&
		len(v.RefIDs) == 0 && len(v.Ranges) == 0 && len(v.Numbers) == 0 && len(v.Quantities) == 0 &&
		len(v.URIs) == 0 && len(v.Nodes) == 0
}

// Token is a coded value: a system (empty when the value has none) and a code.
type Token struct {
	System, Code string
}

// OfType is an identifier with its type: Identifier.type.coding's system and code, and Identifier.value.
type OfType struct {
	TypeSystem, TypeCode, Value string
}

// Range is the period a date value covers, from Start (inclusive) to End (exclusive), in UTC: 2024-03 is
// [2024-03-01T00:00Z, 2024-04-01T00:00Z). An open end is MinInstant or MaxInstant.
type Range struct {
	Start, End time.Time
}

// The instants that stand for an open start or end.
var (
	MinInstant = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxInstant = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)
)

// Quantity is a quantity value: its exact decimal text, and its unit as code system and code, and as text.
type Quantity struct {
	Value, System, Code, Unit string
}
