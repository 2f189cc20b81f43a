package fhirpath

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// Kind is the kind of a Value: a FHIRPath System type, or an element.
type Kind uint8

// Value kinds. A FHIR primitive has the kind of its System type (a code is a KindString with FHIRType "code");
// a FHIR Quantity (and Age, Duration, Distance, Count) is a KindQuantity that is also an element.
const (
	KindString Kind = iota + 1
	KindBoolean
	KindInteger
	KindDecimal
	KindDate
	KindDateTime
	KindTime
	KindQuantity
	KindElement
)

var kindNames = [...]string{"", "String", "Boolean", "Integer", "Decimal", "Date", "DateTime", "Time", "Quantity", "Element"}

// String returns the FHIRPath System type name of k ("Element" for elements).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one item of a FHIRPath result. Its zero value is invalid (Kind 0).
//
// A Value holds what Accord needs without knowing the engine: its Kind, its FHIR type when it comes from a
// resource (FHIRType), and the content (AsString, AsBool, AsInt, Decimal, Temporal, Quantity, Object).
type Value struct {
	kind  Kind
	typ   string      // FHIR type code: code, Coding, Task, BackboneElement; "" for a System value
	path  string      // model path of an element: Task, Task.restriction, Period
	str   string      // String; Decimal text; Date, DateTime, Time text; Quantity value text
	num   int64       // Integer; Boolean (0 or 1)
	unit  string      // unit of a System Quantity
	obj   fhir.Object // element content; for a FHIR primitive, its "_name" sibling (id, extension) if any
	flags uint8
}

const (
	flagNoValue uint8 = 1 << iota // a FHIR primitive with id or extension but no value
)

// Kind returns the kind of v.
func (v Value) Kind() Kind { return v.kind }

// FHIRType returns the FHIR type of a value taken from a resource: a primitive type (code, dateTime, uri …), a
// complex type (Coding, Reference, Quantity …), BackboneElement, or a resource type. It is "" for a value the
// expression computed (a System value) and for ids and extension urls, which R4 types as System.String.
func (v Value) FHIRType() string {
	if strings.HasPrefix(v.typ, "System.") {
		return ""
	}
	return v.typ
}

// AsString returns the string of a KindString value.
func (v Value) AsString() (string, bool) { return v.str, v.kind == KindString }

// AsBool returns the boolean of a KindBoolean value.
func (v Value) AsBool() (bool, bool) { return v.num != 0, v.kind == KindBoolean }

// AsInt returns the integer of a KindInteger value.
func (v Value) AsInt() (int64, bool) { return v.num, v.kind == KindInteger }

// Decimal returns the exact decimal text of a KindDecimal value as written in the resource ("1.50" stays "1.50"),
// or the text of a KindInteger value.
func (v Value) Decimal() (string, bool) {
	switch v.kind {
	case KindDecimal:
		return v.str, true
	case KindInteger:
		return strconv.FormatInt(v.num, 10), true
	}
	return "", false
}

// Temporal returns the date, date-time or time of a KindDate, KindDateTime or KindTime value, with its precision.
func (v Value) Temporal() (Temporal, bool) {
	if v.kind != KindDate && v.kind != KindDateTime && v.kind != KindTime {
		return Temporal{}, false
	}
	t, err := parseTemporal(v.kind, v.str)
	if err != nil {
		return Temporal{}, false
	}
	return t, true
}

// Quantity is a quantity: a FHIRPath Quantity (Value and Unit) or a FHIR Quantity (also System and Code).
type Quantity struct {
	Value  string // exact decimal text
	Unit   string // human unit, or the UCUM code of a FHIRPath quantity
	System string // code system of Code (http://unitsofmeasure.org for UCUM)
	Code   string // coded unit
}

// Quantity returns the quantity of a KindQuantity value.
func (v Value) Quantity() (Quantity, bool) {
	if v.kind != KindQuantity {
		return Quantity{}, false
	}
	if v.obj == nil {
		return Quantity{Value: v.str, Unit: v.unit}, true
	}
	q := Quantity{}
	if n, ok := v.obj["value"].(json.Number); ok {
		q.Value = string(n)
	}
	q.Unit, _ = v.obj["unit"].(string)
	q.System, _ = v.obj["system"].(string)
	q.Code, _ = v.obj["code"].(string)
	return q, true
}

// Object returns the content of an element (KindElement, and a FHIR Quantity): a complex value such as a Coding,
// CodeableConcept, Identifier, Reference, Period, HumanName, a backbone element, or a resource. The object is the
// resource's own data: callers must not modify it.
func (v Value) Object() (fhir.Object, bool) {
	if v.kind == KindElement || (v.kind == KindQuantity && v.obj != nil) {
		return v.obj, true
	}
	return nil, false
}

// String returns v as FHIRPath's toString() does for primitives; an element is its JSON.
func (v Value) String() string {
	switch v.kind {
	case KindBoolean:
		return strconv.FormatBool(v.num != 0)
	case KindInteger:
		return strconv.FormatInt(v.num, 10)
	case KindQuantity:
		q, _ := v.Quantity()
		unit := q.Unit
		if q.Code != "" {
			unit = q.Code
		}
		return q.Value + " '" + unit + "'"
	case KindElement:
		b, err := fhir.Marshal(v.obj)
		if err != nil {
			return ""
		}
		return string(b)
	}
	return v.str
}

// typeName is v's type as fhirpath.js names it: FHIR.code, FHIR.Coding, System.String.
func (v Value) typeName() string {
	switch {
	case strings.HasPrefix(v.typ, "System."):
		return v.typ
	case v.typ != "":
		return "FHIR." + v.typ
	}
	return "System." + v.kind.String()
}

// StringValue returns a String value.
func StringValue(s string) Value { return Value{kind: KindString, str: s} }

// BooleanValue returns a Boolean value.
func BooleanValue(b bool) Value {
	if b {
		return Value{kind: KindBoolean, num: 1}
	}
	return Value{kind: KindBoolean}
}

// IntegerValue returns an Integer value.
func IntegerValue(i int64) Value { return Value{kind: KindInteger, num: i} }

// DecimalValue returns a Decimal value of the given text; it fails when text is not a decimal.
func DecimalValue(text string) (Value, error) {
	if !isDecimal(text) {
		return Value{}, fmt.Errorf("fhirpath: %q is not a decimal", text)
	}
	return Value{kind: KindDecimal, str: text}, nil
}

// DateValue returns a Date (2024, 2024-03, 2024-03-15); it fails when text is not one.
func DateValue(text string) (Value, error) { return temporalValue(KindDate, text) }

// DateTimeValue returns a DateTime (from a year to fractions of a second, with an optional time zone); it fails
// when text is not one.
func DateTimeValue(text string) (Value, error) { return temporalValue(KindDateTime, text) }

// TimeValue returns a Time (hh, hh:mm, hh:mm:ss[.fff]); it fails when text is not one.
func TimeValue(text string) (Value, error) { return temporalValue(KindTime, text) }

func temporalValue(k Kind, text string) (Value, error) {
	if _, err := parseTemporal(k, text); err != nil {
		return Value{}, err
	}
	return Value{kind: k, str: text}, nil
}

// QuantityValue returns a FHIRPath Quantity of a decimal value and a unit (a UCUM code, or a calendar duration
// such as "days"); it fails when value is not a decimal.
func QuantityValue(value, unit string) (Value, error) {
	if !isDecimal(value) {
		return Value{}, fmt.Errorf("fhirpath: %q is not a decimal", value)
	}
	return Value{kind: KindQuantity, str: value, unit: unit}, nil
}

// ElementValue returns the element obj of the given FHIR type: a complex type (Period), a resource type (""
// takes obj's resourceType), or, for a backbone element, its element path (Task.restriction). Navigation from
// the value follows the type, so that an invariant evaluated on it sees typed children.
func ElementValue(obj fhir.Object, fhirType string) Value {
	if fhirType == "" {
		fhirType = fhir.ResourceType(obj)
	}
	v := Value{kind: KindElement, obj: obj, typ: fhirType, path: fhirType}
	if strings.Contains(fhirType, ".") {
		v.typ = typeBackbone
	}
	if isQuantityType(fhirType) {
		v.kind = KindQuantity
	}
	return v
}

// PrimitiveValue returns the FHIR primitive of type fhirType (code, dateTime, boolean …) whose JSON value is v
// (a string, bool or json.Number) and whose "_name" sibling (id and extension) is ext, which may be nil. A nil v
// with a non-nil ext is a primitive that has extensions but no value. It fails when v does not suit the type, or
// when both v and ext are nil.
func PrimitiveValue(v any, ext fhir.Object, fhirType string) (Value, error) {
	if v == nil {
		if ext == nil {
			return Value{}, fmt.Errorf("fhirpath: a FHIR %s needs a value or extensions", fhirType)
		}
		return Value{kind: primitiveKind(fhirType), typ: fhirType, obj: ext, flags: flagNoValue}, nil
	}
	out, ok := primitive(v, fhirType)
	if !ok {
		return Value{}, fmt.Errorf("fhirpath: JSON %T is not a FHIR %s", v, fhirType)
	}
	out.obj = ext
	return out, nil
}

// isQuantityType reports whether a FHIR type is Quantity or one of its R4 specialisations.
func isQuantityType(t string) bool {
	switch t {
	case "Quantity", "Age", "Duration", "Distance", "Count", "SimpleQuantity", "MoneyQuantity":
		return true
	}
	return false
}

// isDecimal reports whether s is a FHIRPath/JSON decimal: an optional sign, digits, an optional fraction.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		frac := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == frac {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		exp := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == exp {
			return false
		}
	}
	return i == len(s)
}
