package search

import (
	"github.com/shopspring/decimal"

	"github.com/accord-fhir/accord/fhir"
)

// Query is a parsed search request on one resource type.
type Query struct {
	Type string
	// Criteria all apply (AND); each has alternatives (OR).
	Criteria []Criterion
	// Sort are the _sort keys, in order.
	Sort []SortKey
	// Count is _count, -1 when absent.
	Count int
	// Cursor is _cursor, the opaque position of a page.
	Cursor string
	// Total is _total: "", "none", "estimate" or "accurate".
	Total string
	// Summary is _summary: "", "true", "false", "text", "data" or "count".
	Summary string
	// Elements is _elements: the top-level elements to return.
	Elements []string
	// Includes and RevIncludes are _include and _revinclude.
	Includes, RevIncludes []Include
	// Params are the parameters as understood, without the ignored ones and without _cursor: for the links of
	// the result pages.
	Params map[string][]string
	// Issues are warnings about the request: the parameters ignored.
	Issues []fhir.Issue
}

// Criterion is one search parameter of a request with its alternatives.
type Criterion struct {
	// Name is the parameter as written, with its modifier and chain: for error messages.
	Name string
	// Type is the resource type the criterion applies to.
	Type string
	// Param is the search parameter (nil for _has).
	Param *Param
	// Modifier is the modifier without its colon; for a reference's resource type modifier it is "type".
	Modifier string
	// Target is the resource type of a reference's :Type modifier.
	Target string
	// Chain holds, for a chained parameter, the criterion on each resource type the reference may point to.
	Chain []Criterion
	// Has is a reverse chain (_has).
	Has *Has
	// Values are the alternatives; a criterion matches when any matches.
	Values []Value
}

// Has is a reverse chain, _has:Type:ref:criterion: resources that resources of Type refer to through the reference
// parameter Ref and that match Criterion.
type Has struct {
	Type      string
	Ref       *Param
	Criterion Criterion
}

// Prefix is the comparison of a number, date or quantity value. See https://hl7.org/fhir/R4/search.html#prefix.
type Prefix string

// Prefixes.
const (
	PrefixEq Prefix = "eq"
	PrefixNe Prefix = "ne"
	PrefixGt Prefix = "gt"
	PrefixLt Prefix = "lt"
	PrefixGe Prefix = "ge"
	PrefixLe Prefix = "le"
	PrefixSa Prefix = "sa"
	PrefixEb Prefix = "eb"
	PrefixAp Prefix = "ap"
)

// Value is one parsed value of a criterion. Which fields are set depends on the parameter's type and modifier.
type Value struct {
	// Raw is the value as written (escapes removed).
	Raw string
	// Missing is the value of :missing.
	Missing bool
	// Prefix is the comparison of a number, date or quantity (eq when none is written).
	Prefix Prefix
	// System and Code are a token's parts; HasSystem says a | was written ("|code" searches values without a
	// system, "system|" any code of the system). Code is also an identifier's value for :of-type and
	// :identifier.
	System, Code string
	HasSystem    bool
	// TypeSystem and TypeCode are the identifier type of :of-type.
	TypeSystem, TypeCode string
	// Text is the string of a string, uri, or token :text value.
	Text string
	// Range is the period of a date value.
	Range Range
	// Number is a number's or quantity's value; Low and High are the bounds of its implicit range (the precision
	// it is written with: 100 is [99.5, 100.5)).
	Number, Low, High decimal.Decimal
	// UnitSystem and UnitCode are a quantity value's unit (number|system|code, or number||code).
	UnitSystem, UnitCode string
	// Refs are the index keys a reference value equals (several for an id without a type).
	Refs []string
	// Parts are the values of a composite's components.
	Parts []Value
}

// SortKey is one _sort key.
type SortKey struct {
	Param      *Param
	Descending bool
}

// Include is an _include or _revinclude: resources of Type referred to by (or referring through) Param.
// Param nil means every reference parameter (*). Target narrows the referred type.
type Include struct {
	Type    string
	Param   *Param
	Target  string
	Iterate bool
	// Raw is the value as written.
	Raw string
}
