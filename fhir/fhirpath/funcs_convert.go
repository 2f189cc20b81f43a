package fhirpath

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// --- conversion ------------------------------------------------------------------------------------------------

// converter converts one item, or says it cannot (ok false).
type converter func(v *Value) (Value, bool)

func convert(f converter) func(*evalCtx, []Value, *call) ([]Value, error) {
	return func(_ *evalCtx, in []Value, x *call) ([]Value, error) {
		v, err := single(x.name, in)
		if v == nil || err != nil {
			return nil, err
		}
		out, ok := f(v)
		if !ok {
			return nil, nil
		}
		return []Value{out}, nil
	}
}

func convertsTo(f converter) func(*evalCtx, []Value, *call) ([]Value, error) {
	return func(_ *evalCtx, in []Value, x *call) ([]Value, error) {
		v, err := single(x.name, in)
		if v == nil || err != nil {
			return nil, err
		}
		_, ok := f(v)
		return boolColl(ok), nil
	}
}

func toBoolean(v *Value) (Value, bool) {
	switch v.kind {
	case KindBoolean:
		return BooleanValue(v.num != 0), true
	case KindInteger:
		if v.num == 0 || v.num == 1 {
			return BooleanValue(v.num == 1), true
		}
	case KindDecimal:
		d := toDecimal(v)
		if d.IsZero() || d.Equal(decimal.NewFromInt(1)) {
			return BooleanValue(!d.IsZero()), true
		}
	case KindString:
		switch strings.ToLower(v.str) {
		case "true", "t", "yes", "y", "1", "1.0":
			return BooleanValue(true), true
		case "false", "f", "no", "n", "0", "0.0":
			return BooleanValue(false), true
		}
	}
	return Value{}, false
}

func toInteger(v *Value) (Value, bool) {
	switch v.kind {
	case KindInteger:
		return IntegerValue(v.num), true
	case KindBoolean:
		return IntegerValue(v.num), true
	case KindString:
		s := v.str
		if s == "" || strings.ContainsAny(s, ".eE") || !isDecimal(s) {
			return Value{}, false
		}
		i, err := strconv.ParseInt(s, 10, 64)
		return IntegerValue(i), err == nil
	}
	return Value{}, false
}

func toDecimalValue(v *Value) (Value, bool) {
	switch v.kind {
	case KindInteger:
		return Value{kind: KindDecimal, str: strconv.FormatInt(v.num, 10)}, true
	case KindDecimal:
		return Value{kind: KindDecimal, str: v.str}, true
	case KindBoolean:
		return Value{kind: KindDecimal, str: strconv.FormatInt(v.num, 10) + ".0"}, true
	case KindString:
		if isDecimal(v.str) && !strings.ContainsAny(v.str, "eE") {
			return Value{kind: KindDecimal, str: v.str}, true
		}
	}
	return Value{}, false
}

func toStringValue(v *Value) (Value, bool) {
	if v.kind == KindElement {
		return Value{}, false
	}
	return StringValue(v.String()), true
}

func toTemporal(k Kind) converter {
	return func(v *Value) (Value, bool) {
		switch {
		case v.kind == k:
			return Value{kind: k, str: v.str}, true
		case v.kind == KindString:
			if _, err := parseTemporal(k, v.str); err == nil {
				return Value{kind: k, str: v.str}, true
			}
		case k == KindDateTime && v.kind == KindDate:
			return Value{kind: k, str: v.str}, true
		case k == KindDate && v.kind == KindDateTime:
			t, err := parseTemporal(KindDateTime, v.str)
			if err != nil {
				return Value{}, false
			}
			t.Kind, t.Precision = KindDate, min(t.Precision, PrecisionDay)
			return Value{kind: k, str: t.String()}, true
		}
		return Value{}, false
	}
}

var quantityText = regexp.MustCompile(`^([+-]?\d+(?:\.\d+)?)\s*(?:'([^']+)'|([a-z]+))?$`)

func toQuantityValue(v *Value) (Value, bool) {
	switch v.kind {
	case KindQuantity:
		d, unit, ok := quantityOf(v)
		return Value{kind: KindQuantity, str: decimalText(d), unit: unit}, ok
	case KindInteger, KindDecimal:
		text, _ := v.Decimal()
		return Value{kind: KindQuantity, str: text, unit: "1"}, true
	case KindString:
		m := quantityText.FindStringSubmatch(strings.TrimSpace(v.str))
		if m == nil {
			return Value{}, false
		}
		unit := m[2]
		if m[3] != "" {
			if _, _, ok := calendarUnit(m[3]); !ok {
				return Value{}, false
			}
			unit = m[3]
		}
		if unit == "" {
			unit = "1"
		}
		return Value{kind: KindQuantity, str: m[1], unit: unit}, true
	}
	return Value{}, false
}

func fnToQuantity(c *evalCtx, in []Value, x *call) ([]Value, error) {
	v, err := single(x.name, in)
	if v == nil || err != nil {
		return nil, err
	}
	q, ok := toQuantityValue(v)
	if !ok {
		return nil, nil
	}
	if len(x.args) == 1 {
		unit, ok, err := c.argString(x, 0, in)
		if err != nil || !ok {
			return nil, err
		}
		if canonicalUnit(unit) != canonicalUnit(q.unit) {
			return nil, nil // unit conversion is not supported: only the same unit converts
		}
	}
	return []Value{q}, nil
}

func fnConvertsToQuantity(c *evalCtx, in []Value, x *call) ([]Value, error) {
	r, err := fnToQuantity(c, in, x)
	if err != nil {
		return nil, err
	}
	if v, _ := single(x.name, in); v == nil {
		return nil, nil
	}
	return boolColl(len(r) == 1), nil
}
