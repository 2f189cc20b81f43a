package fhirpath

import (
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
)

// fnExtension returns the extensions of the input items (elements, and primitives through their "_name"
// sibling) whose url is the argument.
func fnExtension(c *evalCtx, in []Value, x *call) ([]Value, error) {
	url, ok, err := c.argString(x, 0, in)
	if err != nil || !ok {
		return nil, err
	}
	var out []Value
	for i := range in {
		if in[i].obj == nil {
			continue
		}
		exts, _ := in[i].obj["extension"].([]any)
		for _, e := range exts {
			if ext, ok := e.(map[string]any); ok && ext["url"] == url {
				out = append(out, c.element(ext, "Extension", nil))
			}
		}
	}
	return out, nil
}

// isFHIRPrimitive reports whether v is a primitive taken from a resource (not a computed System value).
func isFHIRPrimitive(v *Value) bool {
	return v.typ != "" && v.kind != KindElement && !(v.kind == KindQuantity && v.obj != nil)
}

func fnHasValue(_ *evalCtx, in []Value, _ *call) ([]Value, error) {
	return boolColl(len(in) == 1 && isFHIRPrimitive(&in[0]) && in[0].flags&flagNoValue == 0), nil
}

func fnGetValue(_ *evalCtx, in []Value, _ *call) ([]Value, error) {
	if len(in) != 1 || !isFHIRPrimitive(&in[0]) || in[0].flags&flagNoValue != 0 {
		return nil, nil
	}
	v := in[0]
	v.typ, v.obj = "", nil
	return []Value{v}, nil
}

// fnResolve resolves references for indexing: see resolveReference.
func fnResolve(c *evalCtx, in []Value, _ *call) ([]Value, error) {
	var out []Value
	for i := range in {
		ref := referenceOf(&in[i])
		if ref == "" {
			continue
		}
		if v, ok := c.resolveReference(ref); ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// referenceOf returns the reference of a Reference element, or the text of a uri, canonical or string.
func referenceOf(v *Value) string {
	switch {
	case v.kind == KindString && v.flags&flagNoValue == 0:
		return v.str
	case v.kind == KindElement && v.obj != nil:
		s, _ := v.obj["reference"].(string)
		return s
	}
	return ""
}

// resolveReference resolves a reference without fetching anything:
//   - "#id" is the contained resource of %rootResource with that id ("#" is %rootResource itself);
//   - a reference equal to the fullUrl of an entry of %rootResource, when it is a Bundle, is that entry's resource;
//   - a reference whose path ends in Type/id (after any /_history/version, or |version of a canonical), where Type
//     is an R4 resource type and id a valid id, is a stub resource {"resourceType": Type, "id": id}: enough for
//     resolve() is Patient, which is what search parameters ask.
func (c *evalCtx) resolveReference(ref string) (Value, bool) {
	var root fhir.Object
	if len(c.root) == 1 {
		root = c.root[0].obj
	}
	if id, ok := strings.CutPrefix(ref, "#"); ok {
		if root == nil {
			return Value{}, false
		}
		if id == "" {
			return c.root[0], true
		}
		contained, _ := root["contained"].([]any)
		for _, r := range contained {
			if obj, ok := r.(map[string]any); ok && obj["id"] == id {
				return c.element(obj, typeResource, nil), true
			}
		}
		return Value{}, false
	}
	if root != nil && root["resourceType"] == "Bundle" {
		entries, _ := root["entry"].([]any)
		for _, e := range entries {
			entry, _ := e.(map[string]any)
			if res, ok := entry["resource"].(map[string]any); ok && entry["fullUrl"] == ref {
				return c.element(res, typeResource, nil), true
			}
		}
	}
	s, _, _ := strings.Cut(ref, "|")
	s, _, _ = strings.Cut(s, "/_history/")
	i := strings.LastIndexByte(s, '/')
	if i <= 0 {
		return Value{}, false
	}
	id, rest := s[i+1:], s[:i]
	typ := rest[strings.LastIndexByte(rest, '/')+1:]
	if !fhir.IsResourceType(typ) || !validID(id) {
		return Value{}, false
	}
	return c.element(fhir.Object{"resourceType": typ, "id": id}, typ, nil), true
}

func fnHTMLChecks(_ *evalCtx, in []Value, x *call) ([]Value, error) {
	s, ok, err := inputString(x.name, in)
	if err != nil || !ok {
		return nil, err
	}
	return boolColl(checkNarrative(s)), nil
}

// --- current time ----------------------------------------------------------------------------------------------

func fnNow(c *evalCtx, _ []Value, _ *call) ([]Value, error) {
	return []Value{{kind: KindDateTime, str: c.clock().Format("2006-01-02T15:04:05.000Z07:00")}}, nil
}

func fnToday(c *evalCtx, _ []Value, _ *call) ([]Value, error) {
	return []Value{{kind: KindDate, str: c.clock().Format("2006-01-02")}}, nil
}

func fnTimeOfDay(c *evalCtx, _ []Value, _ *call) ([]Value, error) {
	return []Value{{kind: KindTime, str: c.clock().Format("15:04:05.000")}}, nil
}

// clock returns the evaluation's instant: WithNow's, or the time of the first call, so that now() is the same
// throughout an evaluation.
func (c *evalCtx) clock() time.Time {
	if c.now.IsZero() {
		c.now = time.Now()
	}
	return c.now
}

// validID reports whether id is an R4 id: 1 to 64 of A-Z, a-z, 0-9, '-' and '.' (fhir.ValidID, without a regular
// expression: resolve() runs on every reference a search parameter indexes).
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
