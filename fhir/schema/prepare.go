package schema

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// resourceList is the definition through which the R4 schema allows any resource (a oneOf over every type).
const resourceList = "ResourceList"

// definitionsPrefix starts every reference to a definition of the R4 schema.
const definitionsPrefix = "#/definitions/"

// document is the R4 schema made ready for compiling one definition at a time, with what Validate needs
// from it besides the compiled definitions.
type document struct {
	// root is the parsed schema, changed as parseDocument says.
	root map[string]any
	// defs is root's definitions.
	defs map[string]any
	// nesting lists, per definition, the properties through which a nested resource can be reached.
	nesting map[string][]edge
	// datatypes maps the JSON pointer of each schema with a pattern (#/definitions/Patient/properties/birthDate)
	// to the primitive datatype whose pattern it is (date), to name the datatype in issues.
	datatypes map[string]string
}

// edge is a property of a definition whose value is a nested resource (target resourceList), or leads to one.
type edge struct {
	prop   string
	target string
}

// parseDocument parses the R4 schema and prepares it: descriptions removed; ResourceList reduced to "any object",
// so that Validate checks each nested resource against its own type instead of through the oneOf; complex types
// restricted to objects; primitive datatypes inlined. It fails when data is not a JSON object with the definitions
// Validate relies on.
func parseDocument(data []byte) (*document, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse R4 schema: %w", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("parse R4 schema: not a JSON object")
	}
	defs, ok := root["definitions"].(map[string]any)
	if !ok {
		return nil, errors.New("parse R4 schema: no definitions object")
	}
	if _, ok := defs[resourceList].(map[string]any); !ok {
		return nil, errors.New("parse R4 schema: no ResourceList definition")
	}
	stripDescriptions(root)
	doc := &document{root: root, defs: defs, nesting: nestingGraph(defs), datatypes: map[string]string{}}
	defs[resourceList] = map[string]any{"type": "object"}
	requireObjects(defs)
	addFormats(defs)
	doc.inlinePrimitives()
	checkReferences(defs)
	return doc, nil
}

// addFormats gives the primitive datatypes whose values need more than their pattern their format (format.go),
// before inlinePrimitives copies them.
func addFormats(defs map[string]any) {
	for dt, f := range datatypeFormats {
		if m := asMap(defs[dt]); m != nil {
			m["format"] = f
		}
	}
}

// checkReferences gives Reference.reference, a string in R4, the format of a literal reference. It runs after
// inlinePrimitives, which gave the property its own copy of the string schema.
func checkReferences(defs map[string]any) {
	props, _ := asMap(defs["Reference"])["properties"].(map[string]any)
	if ref := asMap(props["reference"]); ref != nil {
		ref["format"] = formatReference
	}
}

// stripDescriptions removes the description keyword from schema s and its subschemas (about a third of the
// document), keeping properties that happen to be named "description".
func stripDescriptions(s any) {
	m, ok := s.(map[string]any)
	if !ok {
		return
	}
	delete(m, "description")
	for k, v := range m {
		switch k {
		case "properties", "definitions":
			if subs, ok := v.(map[string]any); ok {
				for _, sub := range subs {
					stripDescriptions(sub)
				}
			}
		case "items", "additionalProperties", "not":
			stripDescriptions(v)
		case "oneOf", "anyOf", "allOf":
			if subs, ok := v.([]any); ok {
				for _, sub := range subs {
					stripDescriptions(sub)
				}
			}
		}
	}
}

// requireObjects makes the complex datatypes, backbone elements and resources (the definitions with properties)
// accept JSON objects only. The R4 schema leaves out "type": "object", so that, for example, a string in place of
// a HumanName would pass. The arrays of repeating primitives (given) and of their extensions (_given) still
// accept null items, which R4 JSON uses to keep them aligned; see inlinePrimitives and alignedKeyword.
func requireObjects(defs map[string]any) {
	for _, def := range defs {
		if m := asMap(def); m["properties"] != nil {
			m["type"] = "object"
		}
	}
}

// nestingGraph returns, per definition, the properties that hold a nested resource or lead to one through
// other definitions (Bundle.entry, then Bundle_Entry.resource), sorted by property name.
func nestingGraph(defs map[string]any) map[string][]edge {
	direct := map[string][]edge{}
	for name, def := range defs {
		if name == resourceList {
			continue
		}
		props, _ := asMap(def)["properties"].(map[string]any)
		for prop, ps := range props {
			if target := refTarget(ps); target != "" {
				direct[name] = append(direct[name], edge{prop: prop, target: target})
			}
		}
	}
	reaches := map[string]bool{resourceList: true}
	for changed := true; changed; {
		changed = false
		for name, edges := range direct {
			if !reaches[name] && slices.ContainsFunc(edges, func(e edge) bool { return reaches[e.target] }) {
				reaches[name], changed = true, true
			}
		}
	}
	graph := map[string][]edge{}
	for name, edges := range direct {
		for _, e := range edges {
			if reaches[e.target] {
				graph[name] = append(graph[name], e)
			}
		}
		slices.SortFunc(graph[name], func(a, b edge) int { return strings.Compare(a.prop, b.prop) })
	}
	return graph
}

// refTarget returns the definition that property schema ps refers to, directly or as its items, or "".
func refTarget(ps any) string {
	m := asMap(ps)
	if items, ok := m["items"]; ok {
		m = asMap(items)
	}
	ref, _ := m["$ref"].(string)
	name, ok := strings.CutPrefix(ref, definitionsPrefix)
	if !ok || strings.Contains(name, "/") {
		return ""
	}
	return name
}

// inlinePrimitives replaces each reference to a primitive datatype ({"$ref": "#/definitions/date"}, the whole
// property schema once descriptions are gone) by a copy of the datatype's schema. The result is the same, since
// draft-06 ignores the siblings of $ref, but the library no longer allocates a scope per primitive value to follow
// the reference: that saves about a quarter of the validation time. It also records in d.datatypes which datatype each pattern is.
// The items of a repeating primitive with an extensions array (given, with _given) may be null, and the
// definition lists it under alignedKeyword, which checks the pairs.
func (d *document) inlinePrimitives() {
	prims := map[string]map[string]any{} // datatype → its schema
	byPattern := map[string][]string{}   // pattern → datatypes, sorted
	for name, def := range d.defs {
		m := asMap(def)
		if _, complex := m["properties"]; complex || name == resourceList {
			continue
		}
		prims[name] = m
		if p, ok := m["pattern"].(string); ok {
			byPattern[p] = append(byPattern[p], name)
			d.datatypes[definitionsPrefix+name] = name
		}
	}
	for _, names := range byPattern {
		slices.Sort(names)
	}
	for name, def := range d.defs {
		props, _ := asMap(def)["properties"].(map[string]any)
		var aligned []any
		for _, prop := range slices.Sorted(maps.Keys(props)) {
			ps := props[prop]
			at := definitionsPrefix + name + "/properties/" + prop
			items, ok := asMap(ps)["items"]
			if !ok {
				props[prop] = d.inline(ps, at, prims, byPattern)
				continue
			}
			target := refTarget(items)
			if target == "Element" { // _given: [null, {"extension": …}]
				items = maps.Clone(asMap(d.defs["Element"]))
				items.(map[string]any)["type"] = []any{"object", "null"}
			}
			items = d.inline(items, at+"/items", prims, byPattern)
			if _, ext := props["_"+prop]; ext && prims[target] != nil { // given: ["Ann", null]
				items = nullable(items)
				aligned = append(aligned, prop)
			}
			props[prop].(map[string]any)["items"] = items
		}
		if len(aligned) > 0 {
			asMap(def)[alignedKeyword] = aligned
		}
	}
}

// nullable returns a copy of schema s that also accepts null.
func nullable(s any) any {
	m := maps.Clone(asMap(s))
	if t, ok := m["type"].(string); ok {
		m["type"] = []any{t, "null"}
	}
	return m
}

// inline returns property schema s found at JSON pointer at: a copy of the primitive datatype it only refers to,
// or s itself. It records the datatype of a pattern at at.
func (d *document) inline(s any, at string, prims map[string]map[string]any, byPattern map[string][]string) any {
	m := asMap(s)
	if p, ok := m["pattern"].(string); ok { // a choice type such as valueDate, written out in the schema
		d.datatypes[at] = datatypeOf(at, byPattern[p])
		if f := datatypeFormats[d.datatypes[at]]; f != "" {
			m["format"] = f
		}
		return s
	}
	ref, _ := m["$ref"].(string)
	name, _ := strings.CutPrefix(ref, definitionsPrefix)
	prim, ok := prims[name]
	if len(m) != 1 || !ok {
		return s
	}
	if _, ok := prim["pattern"]; ok {
		d.datatypes[at] = name
	}
	return maps.Clone(prim)
}

// datatypeOf picks, among the datatypes sharing a pattern, the one that ends the element name at the end of
// JSON pointer at (valueUrl → url, valueString → string), else the first.
func datatypeOf(at string, names []string) string {
	elem := strings.ToLower(at[strings.LastIndex(at, "/")+1:])
	for _, n := range names {
		if strings.HasSuffix(elem, strings.ToLower(n)) {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

// asMap returns v as a JSON object, or nil.
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
