package fhirpath

import (
	"math"
	"strings"

	"github.com/gofhir/fhirpath/types"
	"github.com/shopspring/decimal"
)

// --- decimals --------------------------------------------------------------------------------------------------

// toDecimal returns the decimal of an Integer or Decimal (zero when the text is not a number).
func toDecimal(v *Value) decimal.Decimal {
	if v.kind == KindInteger {
		return decimal.NewFromInt(v.num)
	}
	d, _ := decimal.NewFromString(v.str)
	return d
}

// decimalPlaces is the number of digits after the point of an Integer (0) or Decimal.
func decimalPlaces(v *Value) int32 {
	if v.kind != KindDecimal {
		return 0
	}
	if i := strings.IndexByte(v.str, '.'); i >= 0 {
		return int32(len(v.str) - i - 1)
	}
	return 0
}

// decimalText formats a computed decimal, keeping its scale (1.0 + 2 is 3.0).
func decimalText(d decimal.Decimal) string {
	if e := d.Exponent(); e < 0 {
		return d.StringFixed(-e)
	}
	return d.String()
}

// --- quantities ------------------------------------------------------------------------------------------------

// quantityOf returns the value and unit of a quantity: a FHIR Quantity's UCUM code (or its unit) is its unit.
func quantityOf(v *Value) (decimal.Decimal, string, bool) {
	q, ok := v.Quantity()
	if !ok || q.Value == "" {
		return decimal.Decimal{}, "", false
	}
	d, err := decimal.NewFromString(q.Value)
	if err != nil {
		return decimal.Decimal{}, "", false
	}
	unit := q.Unit
	if q.Code != "" && (q.System == "" || q.System == "http://unitsofmeasure.org") {
		unit = q.Code
	}
	return d, canonicalUnit(unit), true
}

// canonicalUnit maps calendar durations to UCUM and the unity unit to "1".
func canonicalUnit(u string) string {
	switch u {
	case "", "'1'":
		return "1"
	case "year", "years":
		return "a"
	case "month", "months":
		return "mo"
	case "week", "weeks":
		return "wk"
	case "day", "days":
		return "d"
	case "hour", "hours":
		return "h"
	case "minute", "minutes":
		return "min"
	case "second", "seconds":
		return "s"
	case "millisecond", "milliseconds":
		return "ms"
	}
	return u
}

// compareQuantities orders two quantities of the same or convertible UCUM units (through gofhir's UCUM table).
func compareQuantities(a, b *Value) (int, bool) {
	da, ua, ok1 := quantityOf(a)
	db, ub, ok2 := quantityOf(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if ua == ub {
		return da.Cmp(db), true
	}
	n, err := types.NewQuantityFromDecimal(da, ua).Compare(types.NewQuantityFromDecimal(db, ub))
	if err != nil {
		return 0, false
	}
	return n, true
}

// --- arithmetic ------------------------------------------------------------------------------------------------

func concat(l, r []Value) ([]Value, error) {
	if len(l) > 1 || len(r) > 1 {
		return nil, errorf("& needs one item on each side, not %d and %d", len(l), len(r))
	}
	var s string
	for _, side := range [2][]Value{l, r} {
		if len(side) == 1 {
			if side[0].kind != KindString {
				return nil, errorf("& needs Strings, not %s", side[0].kind)
			}
			s += side[0].str
		}
	}
	return []Value{StringValue(s)}, nil
}

func (c *evalCtx) arithmetic(op opcode, a, b *Value) ([]Value, error) {
	switch {
	case isNumber(a) && isNumber(b):
		return numberArithmetic(op, a, b)
	case op == opAdd && a.kind == KindString && b.kind == KindString:
		return []Value{StringValue(a.str + b.str)}, nil
	case (op == opAdd || op == opSub) && isTemporal(a) && b.kind == KindQuantity:
		return temporalArithmetic(op, a, b)
	case a.kind == KindQuantity && b.kind == KindQuantity:
		return quantityArithmetic(op, a, b)
	case a.kind == KindQuantity && isNumber(b) && (op == opMul || op == opDiv):
		qa, ua, _ := quantityOf(a)
		return scaleQuantity(op, qa, ua, toDecimal(b))
	case isNumber(a) && b.kind == KindQuantity && op == opMul:
		qb, ub, _ := quantityOf(b)
		return scaleQuantity(op, qb, ub, toDecimal(a))
	}
	return nil, errorf("cannot apply an arithmetic operator to %s and %s", a.kind, b.kind)
}

func numberArithmetic(op opcode, a, b *Value) ([]Value, error) {
	if a.kind == KindInteger && b.kind == KindInteger {
		x, y := a.num, b.num
		switch op {
		case opAdd:
			return []Value{IntegerValue(x + y)}, nil
		case opSub:
			return []Value{IntegerValue(x - y)}, nil
		case opMul:
			return []Value{IntegerValue(x * y)}, nil
		case opIntDiv:
			if y == 0 {
				return nil, nil
			}
			return []Value{IntegerValue(x / y)}, nil
		case opMod:
			if y == 0 {
				return nil, nil
			}
			return []Value{IntegerValue(x % y)}, nil
		}
	}
	x, y := toDecimal(a), toDecimal(b)
	var d decimal.Decimal
	switch op {
	case opAdd:
		d = x.Add(y)
	case opSub:
		d = x.Sub(y)
	case opMul:
		d = x.Mul(y)
	case opDiv:
		if y.IsZero() {
			return nil, nil
		}
		d = x.DivRound(y, 16)
		return []Value{{kind: KindDecimal, str: d.String()}}, nil
	case opIntDiv:
		if y.IsZero() {
			return nil, nil
		}
		return []Value{IntegerValue(x.Div(y).Truncate(0).IntPart())}, nil
	case opMod:
		if y.IsZero() {
			return nil, nil
		}
		d = x.Mod(y)
	default:
		return nil, errorf("unknown arithmetic operator")
	}
	return []Value{{kind: KindDecimal, str: decimalText(d)}}, nil
}

func temporalArithmetic(op opcode, a, b *Value) ([]Value, error) {
	t, err := parseTemporal(a.kind, a.str)
	if err != nil {
		return nil, errorf("invalid %s", a.kind)
	}
	q, unit, ok := quantityOf(b)
	if !ok {
		return nil, nil
	}
	n, _ := q.Float64()
	if op == opSub {
		n = -n
	}
	if math.IsInf(n, 0) || math.IsNaN(n) {
		return nil, errorf("duration out of range")
	}
	out, err := addDuration(t, n, unit)
	if err != nil {
		return nil, err
	}
	return []Value{{kind: a.kind, str: out.String()}}, nil
}

func quantityArithmetic(op opcode, a, b *Value) ([]Value, error) {
	qa, ua, ok1 := quantityOf(a)
	qb, ub, ok2 := quantityOf(b)
	if !ok1 || !ok2 {
		return nil, nil
	}
	switch op {
	case opAdd, opSub:
		if ua != ub {
			return nil, errorf("cannot add quantities of different units")
		}
		d := qa.Add(qb)
		if op == opSub {
			d = qa.Sub(qb)
		}
		return []Value{{kind: KindQuantity, str: decimalText(d), unit: ua}}, nil
	case opMul:
		return []Value{{kind: KindQuantity, str: decimalText(qa.Mul(qb)), unit: productUnit(ua, ub, ".")}}, nil
	case opDiv:
		if qb.IsZero() {
			return nil, nil
		}
		if ua == ub {
			return []Value{{kind: KindQuantity, str: qa.DivRound(qb, 16).String(), unit: "1"}}, nil
		}
		return []Value{{kind: KindQuantity, str: qa.DivRound(qb, 16).String(), unit: productUnit(ua, ub, "/")}}, nil
	}
	return nil, errorf("cannot apply this operator to quantities")
}

func productUnit(a, b, sep string) string {
	if b == "1" {
		return a
	}
	if a == "1" && sep == "." {
		return b
	}
	return a + sep + b
}

func scaleQuantity(op opcode, q decimal.Decimal, unit string, n decimal.Decimal) ([]Value, error) {
	if op == opDiv {
		if n.IsZero() {
			return nil, nil
		}
		return []Value{{kind: KindQuantity, str: q.DivRound(n, 16).String(), unit: unit}}, nil
	}
	return []Value{{kind: KindQuantity, str: decimalText(q.Mul(n)), unit: unit}}, nil
}
