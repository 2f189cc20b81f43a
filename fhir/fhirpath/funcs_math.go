package fhirpath

import (
	"math"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// --- math ------------------------------------------------------------------------------------------------------

// inputNumber returns the one Integer or Decimal of in.
func inputNumber(name string, in []Value) (*Value, error) {
	v, err := single(name, in)
	if v == nil || err != nil {
		return nil, err
	}
	if !isNumber(v) {
		return nil, errorf("%s() needs a number, not %s", name, v.kind)
	}
	return v, nil
}

func fnAbs(_ *evalCtx, in []Value, x *call) ([]Value, error) {
	v, err := single(x.name, in)
	if v == nil || err != nil {
		return nil, err
	}
	switch v.kind {
	case KindInteger:
		return []Value{IntegerValue(max(v.num, -v.num))}, nil
	case KindDecimal:
		return []Value{{kind: KindDecimal, str: strings.TrimPrefix(v.str, "-")}}, nil
	case KindQuantity:
		d, unit, ok := quantityOf(v)
		if !ok {
			return nil, nil
		}
		return []Value{{kind: KindQuantity, str: decimalText(d.Abs()), unit: unit}}, nil
	}
	return nil, errorf("abs() needs a number, not %s", v.kind)
}

type roundMode int

const (
	roundCeiling roundMode = iota
	roundFloor
	roundTruncate
)

func rounding(mode roundMode) func(*evalCtx, []Value, *call) ([]Value, error) {
	return func(_ *evalCtx, in []Value, x *call) ([]Value, error) {
		v, err := inputNumber(x.name, in)
		if v == nil || err != nil {
			return nil, err
		}
		d := toDecimal(v)
		switch mode {
		case roundCeiling:
			d = d.Ceil()
		case roundFloor:
			d = d.Floor()
		default:
			d = d.Truncate(0)
		}
		return []Value{IntegerValue(d.IntPart())}, nil
	}
}

func fnRound(c *evalCtx, in []Value, x *call) ([]Value, error) {
	v, err := inputNumber(x.name, in)
	if v == nil || err != nil {
		return nil, err
	}
	var places int64
	if len(x.args) == 1 {
		n, ok, err := c.argInt(x, 0, in)
		if err != nil {
			return nil, err
		}
		if ok {
			if n < 0 {
				return nil, errorf("round() precision must not be negative")
			}
			places = n
		}
	}
	d := toDecimal(v).Round(int32(places))
	return []Value{{kind: KindDecimal, str: d.StringFixed(int32(places))}}, nil
}

type floatFn int

const (
	mathExp floatFn = iota
	mathLn
	mathSqrt
)

func floatMath(f floatFn) func(*evalCtx, []Value, *call) ([]Value, error) {
	return func(_ *evalCtx, in []Value, x *call) ([]Value, error) {
		v, err := inputNumber(x.name, in)
		if v == nil || err != nil {
			return nil, err
		}
		n, _ := toDecimal(v).Float64()
		var r float64
		switch f {
		case mathExp:
			r = math.Exp(n)
		case mathLn:
			r = math.Log(n)
		default:
			r = math.Sqrt(n)
		}
		return floatResult(r)
	}
}

func floatResult(r float64) ([]Value, error) {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return nil, nil
	}
	return []Value{{kind: KindDecimal, str: strconv.FormatFloat(r, 'f', -1, 64)}}, nil
}

func fnLog(c *evalCtx, in []Value, x *call) ([]Value, error) {
	v, err := inputNumber(x.name, in)
	if v == nil || err != nil {
		return nil, err
	}
	arg, err := c.arg(x, 0, in)
	if err != nil {
		return nil, err
	}
	base, err := inputNumber(x.name, arg)
	if base == nil || err != nil {
		return nil, err
	}
	n, _ := toDecimal(v).Float64()
	b, _ := toDecimal(base).Float64()
	return floatResult(math.Log(n) / math.Log(b))
}

func fnPower(c *evalCtx, in []Value, x *call) ([]Value, error) {
	v, err := inputNumber(x.name, in)
	if v == nil || err != nil {
		return nil, err
	}
	arg, err := c.arg(x, 0, in)
	if err != nil {
		return nil, err
	}
	exp, err := inputNumber(x.name, arg)
	if exp == nil || err != nil {
		return nil, err
	}
	if v.kind == KindInteger && exp.kind == KindInteger && exp.num >= 0 {
		r := decimal.NewFromInt(v.num).Pow(decimal.NewFromInt(exp.num))
		if r.IsInteger() && r.Abs().LessThan(decimal.NewFromInt(math.MaxInt64)) {
			return []Value{IntegerValue(r.IntPart())}, nil
		}
	}
	n, _ := toDecimal(v).Float64()
	e, _ := toDecimal(exp).Float64()
	return floatResult(math.Pow(n, e))
}
