package fhirpath

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
)

// expr is a node of a compiled expression. eval returns the node's result for focus, the collection the node
// applies to: the input of a path step or function, or the context at the start of an expression or argument.
// Results may share their backing array with the resource's values or with literals: they are never modified.
type expr interface {
	eval(c *evalCtx, focus []Value) ([]Value, error)
}

// evalCtx is the state of one evaluation.
type evalCtx struct {
	m        *model
	resource []Value // %resource
	root     []Value // %rootResource
	context  []Value // %context
	vars     map[string][]Value
	this     []Value // $this
	index    int     // $index
	total    []Value // $total
	now      time.Time
}

// evalError is a failure during evaluation. Its message names types and counts, never resource content.
type evalError struct{ msg string }

func (e *evalError) Error() string { return "fhirpath: " + e.msg }

func errorf(format string, args ...any) error { return &evalError{msg: fmt.Sprintf(format, args...)} }

// --- nodes -------------------------------------------------------------------------------------------------------

type literal struct{ v []Value }

func (l literal) eval(*evalCtx, []Value) ([]Value, error) { return l.v, nil }

type member struct{ name string }

func (m member) eval(c *evalCtx, focus []Value) ([]Value, error) {
	var out []Value
	for i := range focus {
		out = c.child(out, &focus[i], m.name)
	}
	return out, nil
}

type chain struct{ left, right expr }

func (x chain) eval(c *evalCtx, focus []Value) ([]Value, error) {
	in, err := x.left.eval(c, focus)
	if err != nil {
		return nil, err
	}
	return x.right.eval(c, in)
}

type thisRef struct{}

func (thisRef) eval(c *evalCtx, _ []Value) ([]Value, error) { return c.this, nil }

type indexRef struct{}

func (indexRef) eval(c *evalCtx, _ []Value) ([]Value, error) {
	return []Value{IntegerValue(int64(c.index))}, nil
}

type totalRef struct{}

func (totalRef) eval(c *evalCtx, _ []Value) ([]Value, error) { return c.total, nil }

type variable struct{ name string }

func (v variable) eval(c *evalCtx, _ []Value) ([]Value, error) {
	switch v.name {
	case "resource":
		return c.resource, nil
	case "rootResource":
		return c.root, nil
	case "context":
		return c.context, nil
	case "ucum":
		return []Value{StringValue("http://unitsofmeasure.org")}, nil
	case "sct":
		return []Value{StringValue("http://snomed.info/sct")}, nil
	case "loinc":
		return []Value{StringValue("http://loinc.org")}, nil
	}
	if vals, ok := c.vars[v.name]; ok {
		return vals, nil
	}
	if name, ok := strings.CutPrefix(v.name, "vs-"); ok {
		return []Value{StringValue("http://hl7.org/fhir/ValueSet/" + name)}, nil
	}
	if name, ok := strings.CutPrefix(v.name, "ext-"); ok {
		return []Value{StringValue("http://hl7.org/fhir/StructureDefinition/" + name)}, nil
	}
	return nil, errorf("undefined variable %%%s", v.name)
}

type indexer struct{ left, index expr }

func (x indexer) eval(c *evalCtx, focus []Value) ([]Value, error) {
	in, err := x.left.eval(c, focus)
	if err != nil {
		return nil, err
	}
	idx, err := x.index.eval(c, focus)
	if err != nil || len(idx) == 0 {
		return nil, err
	}
	i, ok := singleInt(idx)
	if !ok {
		return nil, errorf("an index must be one Integer")
	}
	if i < 0 || i >= int64(len(in)) {
		return nil, nil
	}
	return in[i : i+1 : i+1], nil
}

type negate struct{ x expr }

func (n negate) eval(c *evalCtx, focus []Value) ([]Value, error) {
	in, err := n.x.eval(c, focus)
	if err != nil || len(in) == 0 {
		return nil, err
	}
	if len(in) > 1 {
		return nil, errorf("unary minus needs one item, not %d", len(in))
	}
	v := in[0]
	switch v.kind {
	case KindInteger:
		return []Value{IntegerValue(-v.num)}, nil
	case KindDecimal:
		return []Value{{kind: KindDecimal, str: negateText(v.str)}}, nil
	case KindQuantity:
		q, _ := v.Quantity()
		unit := q.Unit
		if q.Code != "" {
			unit = q.Code
		}
		return []Value{{kind: KindQuantity, str: negateText(q.Value), unit: unit}}, nil
	}
	return nil, errorf("cannot negate a %s", v.kind)
}

func negateText(s string) string {
	if strings.HasPrefix(s, "-") {
		return s[1:]
	}
	return "-" + strings.TrimPrefix(s, "+")
}

type typeOp struct {
	as bool
	x  expr
	t  typeSpec
}

func (o typeOp) eval(c *evalCtx, focus []Value) ([]Value, error) {
	in, err := o.x.eval(c, focus)
	if err != nil || len(in) == 0 {
		return nil, err
	}
	if o.as {
		return c.ofType(in, o.t), nil
	}
	if len(in) > 1 {
		return nil, errorf("'is' needs one item, not %d", len(in))
	}
	return []Value{BooleanValue(c.isType(&in[0], o.t))}, nil
}

// call is a function invocation; the function gets the unevaluated arguments and evaluates them as it needs.
type call struct {
	name string
	def  *funcDef
	args []expr
	typ  typeSpec       // the type argument of is(), as(), ofType()
	re   *regexp.Regexp // the literal pattern of matches(), replaceMatches()
}

func (x *call) eval(c *evalCtx, focus []Value) ([]Value, error) {
	return x.def.fn(c, focus, x)
}

// --- navigation ------------------------------------------------------------------------------------------------

// child appends to out the children called name of v.
func (c *evalCtx) child(out []Value, v *Value, name string) []Value {
	if v.obj == nil {
		return out
	}
	if v.kind != KindElement && v.kind != KindQuantity {
		return c.primitiveChild(out, v, name) // id and extension of a primitive
	}
	if name[0] >= 'A' && name[0] <= 'Z' && c.m.isResource(v.typ) {
		if c.m.isSubtype(v.typ, name) {
			out = append(out, *v)
		}
		return out
	}
	if d := c.m.child(v.path, v.typ, name); d != nil {
		if d.choice {
			for i, t := range d.types {
				if raw, ok := v.obj[d.keys[i]]; ok {
					return c.appendJSON(out, raw, v.obj["_"+d.keys[i]], t, d)
				}
				if ext, ok := v.obj["_"+d.keys[i]]; ok {
					return c.appendJSON(out, nil, ext, t, d)
				}
			}
			return out
		}
		return c.appendJSON(out, v.obj[name], v.obj[d.extKey], d.types[0], d)
	}
	if ch, ok := c.m.choice(v.path, v.typ, name); ok {
		return c.appendJSON(out, v.obj[name], v.obj["_"+name], ch.typ, ch.def)
	}
	raw, ok := v.obj[name]
	if !ok {
		return out
	}
	return c.appendJSON(out, raw, v.obj["_"+name], "", nil)
}

func (c *evalCtx) primitiveChild(out []Value, v *Value, name string) []Value {
	switch name {
	case "id":
		if s, ok := v.obj["id"].(string); ok {
			out = append(out, Value{kind: KindString, typ: typeSystemS, str: s})
		}
	case "extension":
		out = c.appendJSON(out, v.obj["extension"], nil, "Extension", nil)
	}
	return out
}

// appendJSON appends the values of a JSON element (one value or an array) of FHIR type t, with the "_name"
// sibling ext of a primitive; d is the element's definition (nil when unknown).
func (c *evalCtx) appendJSON(out []Value, raw, ext any, t string, d *elemDef) []Value {
	if arr, ok := raw.([]any); ok {
		exts, _ := ext.([]any)
		for i, item := range arr {
			var e any
			if i < len(exts) {
				e = exts[i]
			}
			out = c.appendOne(out, item, e, t, d)
		}
		return out
	}
	if raw == nil {
		if arr, ok := ext.([]any); ok { // primitives with extensions but no values
			for _, e := range arr {
				out = c.appendOne(out, nil, e, t, d)
			}
			return out
		}
	}
	return c.appendOne(out, raw, ext, t, d)
}

func (c *evalCtx) appendOne(out []Value, raw, ext any, t string, d *elemDef) []Value {
	extObj, _ := ext.(map[string]any)
	switch r := raw.(type) {
	case map[string]any:
		return append(out, c.element(r, t, d))
	case nil:
		if extObj == nil {
			return out
		}
		return append(out, Value{kind: primitiveKind(t), typ: t, obj: extObj, flags: flagNoValue})
	}
	v, ok := primitive(raw, t)
	if !ok {
		return out
	}
	v.obj = extObj
	return append(out, v)
}

// element returns an object of FHIR type t as a Value typed for further navigation.
func (c *evalCtx) element(obj fhir.Object, t string, d *elemDef) Value {
	v := Value{kind: KindElement, obj: obj, typ: t, path: t}
	switch {
	case t == "" || t == typeResource:
		if rt, ok := obj["resourceType"].(string); ok {
			v.typ, v.path = rt, rt
		} else if t == "" {
			v.path = ""
		}
	case t == typeBackbone || t == typeElement:
		if d != nil {
			v.path = d.childPath
		}
	case isQuantityType(t):
		v.kind = KindQuantity
	}
	return v
}

// primitiveKind returns the kind of FHIR primitive type t.
func primitiveKind(t string) Kind {
	switch t {
	case "boolean":
		return KindBoolean
	case "integer", "positiveInt", "unsignedInt":
		return KindInteger
	case "decimal":
		return KindDecimal
	case "date":
		return KindDate
	case "dateTime", "instant":
		return KindDateTime
	case "time":
		return KindTime
	}
	return KindString
}

// primitive converts a JSON scalar to a Value of FHIR primitive type t ("" when unknown).
func primitive(raw any, t string) (Value, bool) {
	if t == "" {
		return untyped(raw)
	}
	v := Value{kind: primitiveKind(t), typ: t}
	switch v.kind {
	case KindBoolean:
		b, ok := raw.(bool)
		if b {
			v.num = 1
		}
		return v, ok
	case KindInteger:
		s, ok := fhir.NumberText(raw)
		if !ok {
			return v, false
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			v.kind, v.str = KindDecimal, s
			return v, true
		}
		v.num = i
		return v, true
	case KindDecimal:
		s, ok := fhir.NumberText(raw)
		v.str = s
		return v, ok
	}
	s, ok := raw.(string)
	v.str = s
	return v, ok
}

// untyped converts a JSON scalar of unknown FHIR type.
func untyped(raw any) (Value, bool) {
	switch r := raw.(type) {
	case string:
		return StringValue(r), true
	case bool:
		return BooleanValue(r), true
	}
	s, ok := fhir.NumberText(raw)
	if !ok {
		return Value{}, false
	}
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return IntegerValue(i), true
		}
	}
	return Value{kind: KindDecimal, str: s}, true
}

// --- types -----------------------------------------------------------------------------------------------------

// isType reports whether v is of type t (or a subtype): FHIR types for values from the resource, System types
// (String, Boolean, Integer, Decimal, Date, DateTime, Time, Quantity) for computed values and for FHIR primitives
// of the matching kind when t is qualified with System.
func (c *evalCtx) isType(v *Value, t typeSpec) bool {
	fhirTyped := v.typ != "" && !strings.HasPrefix(v.typ, "System.")
	if t.ns != "System" && fhirTyped {
		return c.m.isSubtype(v.typ, t.name)
	}
	if t.ns == "FHIR" {
		return false
	}
	if fhirTyped && t.ns == "" {
		return false
	}
	if v.kind == KindElement {
		return false
	}
	return v.kind.String() == t.name
}

// ofType keeps the items of in that are of type t.
func (c *evalCtx) ofType(in []Value, t typeSpec) []Value {
	var out []Value
	for i := range in {
		if c.isType(&in[i], t) {
			out = append(out, in[i])
		}
	}
	return out
}

// --- helpers ---------------------------------------------------------------------------------------------------

// singleInt returns the Integer of a one-item collection.
func singleInt(vals []Value) (int64, bool) {
	if len(vals) != 1 || vals[0].kind != KindInteger {
		return 0, false
	}
	return vals[0].num, true
}

// truth evaluates a collection as a Boolean (FHIRPath singleton evaluation): empty is unknown, one Boolean is
// itself, any other single item is true; several items are an error.
func truth(vals []Value) (value, known bool, err error) {
	switch {
	case len(vals) == 0:
		return false, false, nil
	case len(vals) > 1:
		return false, false, errorf("expected one Boolean, got %d items", len(vals))
	case vals[0].kind == KindBoolean:
		return vals[0].num != 0, true, nil
	}
	return true, true, nil
}
