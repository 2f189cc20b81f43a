package search

import (
	"time"

	"github.com/shopspring/decimal"

	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/store"
)

// never is a regular expression that matches nothing (an empty range).
const never = `[^\s\S]`

// incKey and decKey step a fixed-width digit string to the next or previous one, saturating at the ends.
func incKey(k string) string { return stepKey(k, 1) }
func decKey(k string) string { return stepKey(k, -1) }

func stepKey(k string, step int) string {
	b := []byte(k)
	for i := len(b) - 1; i >= 0; i-- {
		d := int(b[i]-'0') + step
		switch {
		case d > 9:
			b[i] = '0'
		case d < 0:
			b[i] = '9'
		default:
			b[i] = byte('0' + d)
			return string(b)
		}
	}
	return k // overflow: saturate
}

// digitInterval matches digit strings from lo to hi inclusive, or nothing when lo > hi.
func digitInterval(lo, hi string) string {
	if lo > hi {
		return never
	}
	return digitRange(lo, hi)
}

var anyInstant = anyDigits(instantWidth)

// dateRegex matches a "start|end" key whose range meets prefix p against the search range r (now for ap).
func dateRegex(p fhirsearch.Prefix, r fhirsearch.Range, now time.Time) string {
	s, e := instantKey(r.Start), instantKey(r.End)
	pair := func(start, end string) string { return start + `\|` + end }
	eq := pair(digitInterval(s, maxInstantKey), digitInterval(minInstantKey, e))
	gt := pair(anyInstant, digitInterval(incKey(e), maxInstantKey))
	lt := pair(digitInterval(minInstantKey, decKey(s)), anyInstant)
	switch p {
	case fhirsearch.PrefixNe:
		return alternatives([]string{lt, gt})
	case fhirsearch.PrefixGt:
		return gt
	case fhirsearch.PrefixLt:
		return lt
	case fhirsearch.PrefixGe:
		return alternatives([]string{gt, eq})
	case fhirsearch.PrefixLe:
		return alternatives([]string{lt, eq})
	case fhirsearch.PrefixSa:
		return pair(digitInterval(e, maxInstantKey), anyInstant)
	case fhirsearch.PrefixEb:
		return pair(anyInstant, digitInterval(minInstantKey, s))
	case fhirsearch.PrefixAp:
		a := fhirsearch.ApproximateRange(r, now)
		return pair(digitInterval(minInstantKey, decKey(instantKey(a.End))), digitInterval(incKey(instantKey(a.Start)), maxInstantKey))
	}
	return eq
}

// dateCond is the condition of a date value on parameter code: plain comparisons where one side of the range
// decides, one regular expression on the "start|end" keys where both do.
func dateCond(code string, v fhirsearch.Value, now time.Time) store.Cond {
	f, end := field(code, ""), field(code, "end")
	s, e := instantKey(v.Range.Start), instantKey(v.Range.End)
	match := store.Cond{Field: f, Op: store.OpMatch, Values: []any{"^" + dateRegex(v.Prefix, v.Range, now) + "$"}}
	switch v.Prefix {
	case fhirsearch.PrefixNe:
		return or(store.Cond{Field: f, Op: store.OpLt, Values: []any{s}}, store.Cond{Field: end, Op: store.OpGt, Values: []any{e}})
	case fhirsearch.PrefixGt:
		return store.Cond{Field: end, Op: store.OpGt, Values: []any{e}}
	case fhirsearch.PrefixLt:
		return store.Cond{Field: f, Op: store.OpLt, Values: []any{s}}
	case fhirsearch.PrefixGe:
		eqv := v
		eqv.Prefix = fhirsearch.PrefixEq
		return or(store.Cond{Field: end, Op: store.OpGt, Values: []any{e}}, dateCond(code, eqv, now))
	case fhirsearch.PrefixLe:
		eqv := v
		eqv.Prefix = fhirsearch.PrefixEq
		return or(store.Cond{Field: f, Op: store.OpLt, Values: []any{s}}, dateCond(code, eqv, now))
	case fhirsearch.PrefixSa:
		return store.Cond{Field: f, Op: store.OpGe, Values: []any{e}}
	case fhirsearch.PrefixEb:
		return store.Cond{Field: end, Op: store.OpLe, Values: []any{s}}
	case fhirsearch.PrefixAp:
		return match
	}
	// eq: the range comparison narrows an index scan; the regular expression decides.
	return and(store.Cond{Field: f, Op: store.OpGe, Values: []any{s}}, match)
}

// instantCond is the condition of a date value on an instant field (_lastUpdated: the store's ts), whose value
// covers one millisecond.
func instantCond(fieldName string, v fhirsearch.Value, now time.Time) store.Cond {
	s, e := v.Range.Start, v.Range.End
	ge := func(t time.Time) store.Cond { return store.Cond{Field: fieldName, Op: store.OpGe, Values: []any{t}} }
	lt := func(t time.Time) store.Cond { return store.Cond{Field: fieldName, Op: store.OpLt, Values: []any{t}} }
	switch v.Prefix {
	case fhirsearch.PrefixNe:
		return or(lt(s), ge(e))
	case fhirsearch.PrefixGt, fhirsearch.PrefixSa:
		return ge(e)
	case fhirsearch.PrefixLt, fhirsearch.PrefixEb:
		return lt(s)
	case fhirsearch.PrefixGe:
		return ge(s)
	case fhirsearch.PrefixLe:
		return lt(e)
	case fhirsearch.PrefixAp:
		a := fhirsearch.ApproximateRange(v.Range, now)
		return and(ge(a.Start), lt(a.End))
	}
	return and(ge(s), lt(e))
}

// numberRegex matches a number key that meets prefix p against v (its value and implicit range).
func numberRegex(p fhirsearch.Prefix, v fhirsearch.Value) string {
	n, lo, hi := numberKey(v.Number), numberKey(v.Low), numberKey(v.High)
	switch p {
	case fhirsearch.PrefixNe:
		return alternatives([]string{digitInterval(minNumberKey, decKey(lo)), digitInterval(hi, maxNumberKey)})
	case fhirsearch.PrefixGt, fhirsearch.PrefixSa:
		return digitInterval(incKey(n), maxNumberKey)
	case fhirsearch.PrefixGe:
		return digitInterval(n, maxNumberKey)
	case fhirsearch.PrefixLt, fhirsearch.PrefixEb:
		return digitInterval(minNumberKey, decKey(n))
	case fhirsearch.PrefixLe:
		return digitInterval(minNumberKey, n)
	case fhirsearch.PrefixAp:
		alo, ahi := approximate(v.Number)
		return digitInterval(numberKey(alo), numberKey(ahi))
	}
	return digitInterval(lo, decKey(hi))
}

// approximate is the range of ap on a number: 10% either side.
func approximate(n decimal.Decimal) (decimal.Decimal, decimal.Decimal) {
	d := n.Abs().Div(decimal.New(10, 0))
	return n.Sub(d), n.Add(d)
}

// numberCond is the condition of a number value on field f (of number keys).
func numberCond(f string, v fhirsearch.Value) store.Cond {
	n, lo, hi := numberKey(v.Number), numberKey(v.Low), numberKey(v.High)
	cmp := func(op store.Op, k string) store.Cond { return store.Cond{Field: f, Op: op, Values: []any{k}} }
	switch v.Prefix {
	case fhirsearch.PrefixNe:
		return or(cmp(store.OpLt, lo), cmp(store.OpGe, hi))
	case fhirsearch.PrefixGt, fhirsearch.PrefixSa:
		return cmp(store.OpGt, n)
	case fhirsearch.PrefixGe:
		return cmp(store.OpGe, n)
	case fhirsearch.PrefixLt, fhirsearch.PrefixEb:
		return cmp(store.OpLt, n)
	case fhirsearch.PrefixLe:
		return cmp(store.OpLe, n)
	case fhirsearch.PrefixAp:
		return store.Cond{Field: f, Op: store.OpMatch, Values: []any{"^" + numberRegex(v.Prefix, v) + "$"}}
	}
	return and(cmp(store.OpGe, lo), store.Cond{Field: f, Op: store.OpMatch, Values: []any{"^" + numberRegex(v.Prefix, v) + "$"}})
}

// quantityCond is the condition of a quantity value on parameter code: on the numbers alone without a unit, on
// the unit keys with one.
func quantityCond(code string, v fhirsearch.Value) store.Cond {
	if v.UnitSystem == "" && v.UnitCode == "" {
		return numberCond(field(code, ""), v)
	}
	return store.Cond{Field: field(code, "unit"), Op: store.OpMatch, Values: []any{"^" + quantityRegex(v) + "$"}}
}

// quantityRegex matches a unit key ("system|code|number") of the value's unit and number.
func quantityRegex(v fhirsearch.Value) string {
	return quote(tokenKey(v.UnitSystem, v.UnitCode)+"|") + numberRegex(v.Prefix, v)
}

func or(cs ...store.Cond) store.Cond  { return store.Cond{Or: cs} }
func and(cs ...store.Cond) store.Cond { return store.Cond{And: cs} }
