package fhirpath

import (
	"strings"
	"unicode"

	"github.com/shopspring/decimal"

	"github.com/accord-fhir/accord/fhir"
)

// opcode is a binary operator.
type opcode uint8

const (
	opMul opcode = iota + 1
	opDiv
	opIntDiv
	opMod
	opAdd
	opSub
	opConcat
	opUnion
	opLT
	opLE
	opGT
	opGE
	opEq
	opNe
	opEquiv
	opNotEquiv
	opIn
	opContains
	opAnd
	opOr
	opXor
	opImplies
)

// binaryOp returns the opcode of an operator token.
func binaryOp(s string) (opcode, bool) {
	switch s {
	case "*":
		return opMul, true
	case "/":
		return opDiv, true
	case "div":
		return opIntDiv, true
	case "mod":
		return opMod, true
	case "+":
		return opAdd, true
	case "-":
		return opSub, true
	case "&":
		return opConcat, true
	case "|":
		return opUnion, true
	case "<":
		return opLT, true
	case "<=":
		return opLE, true
	case ">":
		return opGT, true
	case ">=":
		return opGE, true
	case "=":
		return opEq, true
	case "!=":
		return opNe, true
	case "~":
		return opEquiv, true
	case "!~":
		return opNotEquiv, true
	case "in":
		return opIn, true
	case "contains":
		return opContains, true
	case "and":
		return opAnd, true
	case "or":
		return opOr, true
	case "xor":
		return opXor, true
	case "implies":
		return opImplies, true
	}
	return 0, false
}

type binary struct {
	op   opcode
	l, r expr
}

func boolColl(b bool) []Value {
	if b {
		return []Value{{kind: KindBoolean, num: 1}}
	}
	return []Value{{kind: KindBoolean}}
}

func (b binary) eval(c *evalCtx, focus []Value) ([]Value, error) {
	if b.op >= opAnd {
		return b.logic(c, focus)
	}
	l, err := b.l.eval(c, focus)
	if err != nil {
		return nil, err
	}
	r, err := b.r.eval(c, focus)
	if err != nil {
		return nil, err
	}
	l, r = withValues(l), withValues(r)
	switch b.op {
	case opUnion:
		return union(l, r), nil
	case opEq, opNe:
		eq, known := equalColl(l, r)
		if !known {
			return nil, nil
		}
		return boolColl(eq == (b.op == opEq)), nil
	case opEquiv, opNotEquiv:
		return boolColl(equivalentColl(l, r) == (b.op == opEquiv)), nil
	case opIn, opContains:
		if b.op == opContains {
			l, r = r, l
		}
		if len(l) == 0 {
			return nil, nil
		}
		if len(l) > 1 {
			return nil, errorf("'in' needs one item on the left, not %d", len(l))
		}
		return boolColl(containsValue(r, &l[0])), nil
	case opConcat:
		return concat(l, r)
	}
	if len(l) == 0 || len(r) == 0 {
		return nil, nil
	}
	if len(l) > 1 || len(r) > 1 {
		return nil, errorf("operator needs one item on each side, not %d and %d", len(l), len(r))
	}
	if b.op >= opLT && b.op <= opGE {
		return compareOp(b.op, &l[0], &r[0])
	}
	return c.arithmetic(b.op, &l[0], &r[0])
}

// withValues drops primitives that have extensions but no value: operators see only values.
func withValues(vals []Value) []Value {
	for i := range vals {
		if vals[i].flags&flagNoValue != 0 {
			out := make([]Value, 0, len(vals)-1)
			for j := range vals {
				if vals[j].flags&flagNoValue == 0 {
					out = append(out, vals[j])
				}
			}
			return out
		}
	}
	return vals
}

// logic evaluates and, or, xor and implies with three-valued logic, skipping the right side when the left side
// decides.
func (b binary) logic(c *evalCtx, focus []Value) ([]Value, error) {
	lv, err := b.l.eval(c, focus)
	if err != nil {
		return nil, err
	}
	l, lk, err := truth(lv)
	if err != nil {
		return nil, err
	}
	switch {
	case b.op == opAnd && lk && !l:
		return boolColl(false), nil
	case b.op == opOr && lk && l:
		return boolColl(true), nil
	case b.op == opImplies && lk && !l:
		return boolColl(true), nil
	}
	rv, err := b.r.eval(c, focus)
	if err != nil {
		return nil, err
	}
	r, rk, err := truth(rv)
	if err != nil {
		return nil, err
	}
	switch b.op {
	case opAnd:
		if rk && !r {
			return boolColl(false), nil
		}
		if lk && rk {
			return boolColl(true), nil
		}
	case opOr:
		if rk && r {
			return boolColl(true), nil
		}
		if lk && rk {
			return boolColl(false), nil
		}
	case opXor:
		if lk && rk {
			return boolColl(l != r), nil
		}
	case opImplies:
		if rk && r {
			return boolColl(true), nil
		}
		if lk {
			if rk {
				return boolColl(r), nil
			}
		}
	}
	return nil, nil
}

// --- equality ---------------------------------------------------------------------------------------------------

// equalColl is FHIRPath =: empty when either side is empty, false when the sizes differ, else item by item.
func equalColl(a, b []Value) (eq, known bool) {
	if len(a) == 0 || len(b) == 0 {
		return false, false
	}
	if len(a) != len(b) {
		return false, true
	}
	known = true
	for i := range a {
		e, k := equal(&a[i], &b[i])
		if k && !e {
			return false, true
		}
		known = known && k
	}
	return true, known
}

// equal is = on two items; known is false when the answer is empty (dates of different precisions).
func equal(a, b *Value) (eq, known bool) {
	switch {
	case a.kind == KindString && b.kind == KindString:
		return a.str == b.str, true
	case a.kind == KindBoolean && b.kind == KindBoolean:
		return a.num == b.num, true
	case isNumber(a) && isNumber(b):
		return compareNumbers(a, b) == 0, true
	case isTemporal(a) && isTemporal(b):
		n, ok := compareTemporals(a, b)
		return ok && n == 0, ok
	case a.kind == KindQuantity && b.kind == KindQuantity && (a.obj == nil || b.obj == nil):
		n, ok := compareQuantities(a, b)
		return ok && n == 0, ok
	case a.obj != nil && b.obj != nil && (a.kind == KindElement || a.kind == KindQuantity) &&
		(b.kind == KindElement || b.kind == KindQuantity):
		return deepEqual(a.obj, b.obj, false), true
	}
	return false, true
}

func isNumber(v *Value) bool { return v.kind == KindInteger || v.kind == KindDecimal }
func isTemporal(v *Value) bool {
	return v.kind == KindDate || v.kind == KindDateTime || v.kind == KindTime
}

// equivalentColl is FHIRPath ~: both empty are equivalent; otherwise each item of a has an equivalent in b.
func equivalentColl(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
	for i := range a {
		found := false
		for j := range b {
			if !used[j] && equivalent(&a[i], &b[j]) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func equivalent(a, b *Value) bool {
	switch {
	case a.kind == KindString && b.kind == KindString:
		return normalizeSpace(a.str) == normalizeSpace(b.str)
	case isNumber(a) && isNumber(b):
		da, db := toDecimal(a), toDecimal(b)
		places := min(decimalPlaces(a), decimalPlaces(b))
		return da.Round(places).Equal(db.Round(places))
	case isTemporal(a) && isTemporal(b):
		n, ok := compareTemporals(a, b)
		return ok && n == 0
	case a.obj != nil && b.obj != nil && a.kind == b.kind:
		return deepEqual(a.obj, b.obj, true)
	}
	eq, known := equal(a, b)
	return eq && known
}

// normalizeSpace folds case and makes every whitespace character a space, for string equivalence (~).
func normalizeSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		return unicode.ToLower(r)
	}, s)
}

// deepEqual compares JSON values; numbers by value, and strings case- and space-insensitively when equiv.
func deepEqual(a, b any, equiv bool) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !deepEqual(v, w, equiv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i], equiv) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		if equiv {
			return ok && normalizeSpace(x) == normalizeSpace(y)
		}
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	xs, ok1 := fhir.NumberText(a)
	ys, ok2 := fhir.NumberText(b)
	if ok1 && ok2 {
		dx, err1 := decimal.NewFromString(xs)
		dy, err2 := decimal.NewFromString(ys)
		return err1 == nil && err2 == nil && dx.Equal(dy)
	}
	return a == nil && b == nil
}

// containsValue reports whether an item of coll equals v.
func containsValue(coll []Value, v *Value) bool {
	for i := range coll {
		if eq, known := equal(&coll[i], v); eq && known {
			return true
		}
	}
	return false
}

// union merges a and b without duplicates, in order.
func union(a, b []Value) []Value {
	out := make([]Value, 0, len(a)+len(b))
	for _, part := range [2][]Value{a, b} {
		for i := range part {
			if !containsValue(out, &part[i]) {
				out = append(out, part[i])
			}
		}
	}
	return out
}

// --- ordering ---------------------------------------------------------------------------------------------------

func compareOp(op opcode, a, b *Value) ([]Value, error) {
	n, known, err := compareValues(a, b)
	if err != nil || !known {
		return nil, err
	}
	switch op {
	case opLT:
		return boolColl(n < 0), nil
	case opLE:
		return boolColl(n <= 0), nil
	case opGT:
		return boolColl(n > 0), nil
	}
	return boolColl(n >= 0), nil
}

// compareValues orders a and b; known is false when FHIRPath's answer is empty.
func compareValues(a, b *Value) (int, bool, error) {
	switch {
	case a.kind == KindString && b.kind == KindString:
		return strings.Compare(a.str, b.str), true, nil
	case isNumber(a) && isNumber(b):
		return compareNumbers(a, b), true, nil
	case isTemporal(a) && isTemporal(b):
		n, ok := compareTemporals(a, b)
		return n, ok, nil
	case a.kind == KindQuantity && b.kind == KindQuantity:
		n, ok := compareQuantities(a, b)
		return n, ok, nil
	}
	return 0, false, errorf("cannot compare %s with %s", a.kind, b.kind)
}

func compareNumbers(a, b *Value) int {
	if a.kind == KindInteger && b.kind == KindInteger {
		return cmpInt64(a.num, b.num)
	}
	return toDecimal(a).Cmp(toDecimal(b))
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareTemporals(a, b *Value) (int, bool) {
	ta, err1 := parseTemporal(a.kind, a.str)
	tb, err2 := parseTemporal(b.kind, b.str)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return compareTemporal(ta, tb)
}
