package search

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
)

// Extracted is one parameter's values in a resource.
type Extracted struct {
	Param  *Param
	Values Values
}

// Extract evaluates the expression of every search parameter of typ on obj and returns the values of those that
// have any. _id and _lastUpdated are not extracted: the store keeps them. An expression that fails on obj is
// skipped and reported in the error (which names the parameter, never resource content), so that one failing
// expression does not stop the others.
func (r *Registry) Extract(typ string, obj fhir.Object) ([]Extracted, error) {
	var out []Extracted
	var errs []error
	for _, p := range r.byType[typ] {
		if p.expr == nil || p.Code == "_id" || p.Code == "_lastUpdated" {
			continue
		}
		v, err := p.extract(obj)
		if err != nil {
			errs = append(errs, fmt.Errorf("search parameter %s of %s: %w", p.Code, typ, err))
			continue
		}
		if !v.Empty() {
			out = append(out, Extracted{Param: p, Values: v})
		}
	}
	return out, errors.Join(errs...)
}

func (p *Param) extract(obj fhir.Object) (Values, error) {
	items, err := p.expr.Evaluate(obj)
	if err != nil {
		return Values{}, err
	}
	var v Values
	if p.Type != TypeComposite {
		collect(p.Type, items, &v)
		return v, nil
	}
	for _, node := range items {
		parts := make([]Values, len(p.Components))
		complete := true
		for i, c := range p.Components {
			vals, err := c.expr.Evaluate(obj, fhirpath.WithContext(node))
			if err != nil {
				return Values{}, err
			}
			collect(c.Param.Type, vals, &parts[i])
			complete = complete && !parts[i].Empty()
		}
		if complete {
			v.Nodes = append(v.Nodes, parts)
		}
	}
	return v, nil
}

// collect adds the values of items, the result of a parameter of type t, to v.
func collect(t Type, items []fhirpath.Value, v *Values) {
	for _, it := range items {
		switch t {
		case TypeToken:
			collectToken(it, v)
		case TypeString:
			collectString(it, v)
		case TypeReference:
			collectReference(it, v)
		case TypeDate:
			collectDate(it, v)
		case TypeNumber:
			if d, ok := it.Decimal(); ok {
				v.Numbers = append(v.Numbers, d)
			}
		case TypeQuantity:
			collectQuantity(it, v)
		case TypeURI:
			if s, ok := it.AsString(); ok && s != "" {
				v.URIs = append(v.URIs, s)
			}
		}
	}
}

func str(m fhir.Object, key string) string {
	s, _ := m[key].(string)
	return s
}

func objects(v any) []fhir.Object {
	switch t := v.(type) {
	case map[string]any:
		return []fhir.Object{t}
	case []any:
		out := make([]fhir.Object, 0, len(t))
		for _, e := range t {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// Strings reads a JSON value that is a string or an array of strings (other elements are skipped), or a []string;
// anything else gives nil. Index fields and some FHIR elements have this shape.
func Strings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []string:
		return t
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func collectToken(it fhirpath.Value, v *Values) {
	if b, ok := it.AsBool(); ok {
		v.Tokens = append(v.Tokens, Token{Code: fmt.Sprint(b)})
		return
	}
	if s, ok := it.AsString(); ok {
		if s != "" {
			v.Tokens = append(v.Tokens, Token{Code: s})
		}
		return
	}
	if d, ok := it.Decimal(); ok { // an integer such as a sequence number
		v.Tokens = append(v.Tokens, Token{Code: d})
		return
	}
	obj, ok := it.Object()
	if !ok {
		return
	}
	switch it.FHIRType() {
	case "Coding":
		addCoding(obj, v)
	case "CodeableConcept":
		for _, c := range objects(obj["coding"]) {
			addCoding(c, v)
		}
		addText(str(obj, "text"), v)
	case "Identifier":
		addIdentifier(obj, v)
	case "ContactPoint":
		if val := str(obj, "value"); val != "" {
			v.Tokens = append(v.Tokens, Token{System: str(obj, "system"), Code: val})
		}
	}
}

func addCoding(c fhir.Object, v *Values) {
	if code := str(c, "code"); code != "" {
		v.Tokens = append(v.Tokens, Token{System: str(c, "system"), Code: code})
	}
	addText(str(c, "display"), v)
}

func addText(s string, v *Values) {
	if s != "" {
		v.Texts = append(v.Texts, s)
	}
}

func addIdentifier(id fhir.Object, v *Values) {
	val := str(id, "value")
	if val == "" {
		return
	}
	v.Tokens = append(v.Tokens, Token{System: str(id, "system"), Code: val})
	for _, typ := range objects(id["type"]) {
		for _, c := range objects(typ["coding"]) {
			if code := str(c, "code"); code != "" {
				v.OfType = append(v.OfType, OfType{TypeSystem: str(c, "system"), TypeCode: code, Value: val})
			}
		}
		addText(str(typ, "text"), v)
	}
}

// stringParts are the parts of complex types that a string parameter matches.
var stringParts = map[string][]string{
	"HumanName": {"family", "given", "prefix", "suffix", "text"},
	"Address":   {"line", "city", "district", "state", "postalCode", "country", "text"},
}

func collectString(it fhirpath.Value, v *Values) {
	if s, ok := it.AsString(); ok {
		if s != "" {
			v.Strings = append(v.Strings, s)
		}
		return
	}
	obj, ok := it.Object()
	if !ok {
		return
	}
	parts, known := stringParts[it.FHIRType()]
	if !known { // another complex type: its string children
		for k := range obj {
			if k != "id" && k != "url" && k != "system" && k != "resourceType" {
				parts = append(parts, k)
			}
		}
	}
	for _, k := range parts {
		for _, s := range Strings(obj[k]) {
			if s != "" {
				v.Strings = append(v.Strings, s)
			}
		}
	}
}

func collectReference(it fhirpath.Value, v *Values) {
	if s, ok := it.AsString(); ok { // canonical, uri
		addCanonical(s, v)
		return
	}
	obj, ok := it.Object()
	if !ok {
		return
	}
	if rt := fhir.ResourceType(obj); rt != "" { // a resource, such as Bundle.entry[0].resource
		if id := str(obj, "id"); id != "" {
			v.Refs = append(v.Refs, rt+"/"+id)
		}
		return
	}
	if ref := NormalizeReference(str(obj, "reference")); ref != "" {
		v.Refs = append(v.Refs, ref)
	}
	if id, ok := obj["identifier"].(map[string]any); ok {
		if val := str(id, "value"); val != "" {
			v.RefIDs = append(v.RefIDs, Token{System: str(id, "system"), Code: val})
		}
	}
}

func addCanonical(s string, v *Values) {
	if s == "" {
		return
	}
	v.Refs = append(v.Refs, s)
	if url, _, versioned := strings.Cut(s, "|"); versioned {
		v.Refs = append(v.Refs, url)
	}
}

// NormalizeReference returns the form in which a literal reference is indexed and searched: "Type/id" without a
// version for a relative reference, the URL without "/_history/…" for an absolute one, and "" for a reference to
// a contained resource ("#id") or an empty one.
func NormalizeReference(ref string) string {
	if ref == "" || strings.HasPrefix(ref, "#") {
		return ""
	}
	if i := strings.Index(ref, "/_history/"); i > 0 {
		ref = ref[:i]
	}
	return ref
}

func collectDate(it fhirpath.Value, v *Values) {
	if t, ok := it.Temporal(); ok {
		if t.Kind != fhirpath.KindTime {
			v.Ranges = append(v.Ranges, Range{Start: t.Start(time.UTC).UTC(), End: t.End(time.UTC).UTC()})
		}
		return
	}
	obj, ok := it.Object()
	if !ok {
		return
	}
	switch it.FHIRType() {
	case "Period":
		if r, ok := periodRange(obj); ok {
			v.Ranges = append(v.Ranges, r)
		}
	case "Timing":
		for _, e := range Strings(obj["event"]) {
			if r, ok := instantRange(e); ok {
				v.Ranges = append(v.Ranges, r)
			}
		}
		if rep, ok := obj["repeat"].(map[string]any); ok {
			if bp, ok := rep["boundsPeriod"].(map[string]any); ok {
				if r, ok := periodRange(bp); ok {
					v.Ranges = append(v.Ranges, r)
				}
			}
		}
	}
}

// periodRange is the range of a Period: from the start of its start to the end of its end (2024-03-15 as an end
// runs to the end of that day); a missing start or end is open.
func periodRange(p fhir.Object) (Range, bool) {
	r := Range{Start: MinInstant, End: MaxInstant}
	s, e := str(p, "start"), str(p, "end")
	if s == "" && e == "" {
		return r, false
	}
	if s != "" {
		sr, ok := instantRange(s)
		if !ok {
			return r, false
		}
		r.Start = sr.Start
	}
	if e != "" {
		er, ok := instantRange(e)
		if !ok {
			return r, false
		}
		r.End = er.End
	}
	return r, true
}

// instantRange is the range a date, dateTime or instant text covers at its precision, in UTC (a value without a
// time zone is read as UTC).
func instantRange(text string) (Range, bool) {
	val, err := fhirpath.DateTimeValue(text)
	if err != nil {
		return Range{}, false
	}
	t, ok := val.Temporal()
	if !ok {
		return Range{}, false
	}
	return Range{Start: t.Start(time.UTC).UTC(), End: t.End(time.UTC).UTC()}, true
}

func collectQuantity(it fhirpath.Value, v *Values) {
	if q, ok := it.Quantity(); ok {
		if q.Value != "" {
			v.Quantities = append(v.Quantities, Quantity{Value: q.Value, System: q.System, Code: q.Code, Unit: q.Unit})
		}
		return
	}
	if d, ok := it.Decimal(); ok {
		v.Quantities = append(v.Quantities, Quantity{Value: d})
		return
	}
	obj, ok := it.Object()
	if !ok {
		return
	}
	switch it.FHIRType() {
	case "Range": // both ends, each as a quantity
		for _, k := range []string{"low", "high"} {
			if q, ok := obj[k].(map[string]any); ok {
				addQuantity(q, v)
			}
		}
	case "Money":
		if n := number(obj["value"]); n != "" {
			v.Quantities = append(v.Quantities, Quantity{Value: n, System: "urn:iso:std:iso:4217", Code: str(obj, "currency"), Unit: str(obj, "currency")})
		}
	}
}

func addQuantity(q fhir.Object, v *Values) {
	if n := number(q["value"]); n != "" {
		v.Quantities = append(v.Quantities, Quantity{Value: n, System: str(q, "system"), Code: str(q, "code"), Unit: str(q, "unit")})
	}
}

func number(v any) string {
	if n, ok := v.(interface{ String() string }); ok {
		return n.String()
	}
	return ""
}
