package search

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
)

// DefinitionsFile is the path, in profiles.FS, of the R4 (4.0.1) SearchParameter Bundle.
const DefinitionsFile = "r4/search-parameters.json.gz"

// Type is the type of a search parameter. See https://hl7.org/fhir/R4/valueset-search-param-type.html.
type Type string

// Search parameter types.
const (
	TypeNumber    Type = "number"
	TypeDate      Type = "date"
	TypeString    Type = "string"
	TypeToken     Type = "token"
	TypeReference Type = "reference"
	TypeComposite Type = "composite"
	TypeQuantity  Type = "quantity"
	TypeURI       Type = "uri"
	TypeSpecial   Type = "special"
)

// Param is a search parameter as it applies to one resource type.
type Param struct {
	Code        string
	URL         string
	Type        Type
	Description string
	// Expression is the part of the definition's FHIRPath expression that applies to the resource type.
	Expression string
	// Targets are the resource types a reference parameter may point to.
	Targets []string
	// Components are the parts of a composite parameter.
	Components []Component

	expr *fhirpath.Expr
}

// Component is one part of a composite parameter: a parameter, and the expression that selects its values
// relative to each node the composite's expression selects.
type Component struct {
	Param      *Param
	Expression string
	expr       *fhirpath.Expr
}

// Registry holds the search parameters of every resource type. It is immutable once loaded, so safe for
// concurrent use.
type Registry struct {
	engine *fhirpath.Engine
	byType map[string]map[string]*Param
}

// unsupported are the R4 parameters Accord does not implement: full-text search, named queries, and the
// geographic "near" (type special).
var unsupported = []string{"_content", "_text", "_query"}

// Definition is the part of a SearchParameter definition that search uses.
type Definition struct {
	URL         string   `json:"url"`
	Code        string   `json:"code"`
	Type        Type     `json:"type"`
	Base        []string `json:"base"`
	Expression  string   `json:"expression"`
	Target      []string `json:"target"`
	Description string   `json:"description"`
	Version     string   `json:"version"`
	Component   []struct {
		Definition string `json:"definition"`
		Expression string `json:"expression"`
	} `json:"component"`
}

// Load reads the R4 search parameters from DefinitionsFile in defs and compiles their expressions with engine.
// It fails when the file is missing or malformed, or an expression does not compile.
func Load(defs fs.FS, engine *fhirpath.Engine) (*Registry, error) {
	f, err := defs.Open(DefinitionsFile)
	if err != nil {
		return nil, fmt.Errorf("search parameters: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("search parameters %s: %w", DefinitionsFile, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("search parameters %s: %w", DefinitionsFile, err)
	}
	var b struct {
		Entry []struct {
			Resource Definition `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("search parameters %s: %w", DefinitionsFile, err)
	}
	list := make([]Definition, 0, len(b.Entry))
	for _, e := range b.Entry {
		list = append(list, e.Resource)
	}
	return NewRegistry(list, engine)
}

// NewRegistry builds a registry from definitions (version 4.0.1 only; others are ignored).
func NewRegistry(defs []Definition, engine *fhirpath.Engine) (*Registry, error) {
	r := &Registry{engine: engine, byType: make(map[string]map[string]*Param, 160)}
	byURL := make(map[string]Definition, len(defs))
	for _, d := range defs {
		if d.Version == "4.0.1" {
			byURL[d.URL] = d
		}
	}
	for _, typ := range fhir.ResourceTypes() {
		r.byType[typ] = map[string]*Param{}
	}
	for _, d := range defs {
		if d.Version != "4.0.1" || d.Type == TypeSpecial || slices.Contains(unsupported, d.Code) {
			continue
		}
		for _, typ := range baseTypes(d.Base) {
			p, err := r.param(d, typ, byURL)
			if err != nil {
				return nil, err
			}
			if p != nil {
				r.byType[typ][p.Code] = p
			}
		}
	}
	return r, nil
}

// baseTypes expands Resource and DomainResource to the resource types they are the base of.
func baseTypes(base []string) []string {
	var out []string
	for _, b := range base {
		switch b {
		case "Resource":
			out = append(out, fhir.ResourceTypes()...)
		case "DomainResource":
			for _, t := range fhir.ResourceTypes() {
				if t != "Bundle" && t != "Binary" && t != "Parameters" {
					out = append(out, t)
				}
			}
		default:
			if fhir.IsResourceType(b) {
				out = append(out, b)
			}
		}
	}
	return out
}

// param builds the parameter d for typ; nil when no part of its expression applies to typ.
func (r *Registry) param(d Definition, typ string, byURL map[string]Definition) (*Param, error) {
	expr := ForType(d.Expression, typ)
	if expr == "" && d.Code != "_id" && d.Code != "_lastUpdated" {
		return nil, nil
	}
	p := &Param{Code: d.Code, URL: d.URL, Type: d.Type, Description: d.Description, Expression: expr, Targets: d.Target}
	if expr != "" {
		x, err := r.engine.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("search parameter %s for %s: %w", d.URL, typ, err)
		}
		p.expr = x
	}
	for _, c := range d.Component {
		cd, ok := byURL[c.Definition]
		if !ok {
			return nil, nil // a component Accord does not know: the composite is not supported
		}
		cx, err := r.engine.Compile(c.Expression)
		if err != nil {
			return nil, fmt.Errorf("search parameter %s component %s: %w", d.URL, c.Definition, err)
		}
		cp := &Param{Code: cd.Code, URL: cd.URL, Type: cd.Type, Targets: cd.Target}
		p.Components = append(p.Components, Component{Param: cp, Expression: c.Expression, expr: cx})
	}
	return p, nil
}

// Param returns the search parameter code of typ.
func (r *Registry) Param(typ, code string) (*Param, bool) {
	p, ok := r.byType[typ][code]
	return p, ok
}

// Params returns the search parameters of typ, sorted by code.
func (r *Registry) Params(typ string) []*Param {
	m := r.byType[typ]
	out := make([]*Param, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Param) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// Unsupported reports whether code is an R4 search parameter that Accord does not implement (_content, _text,
// _query, _filter, _list, and parameters of type special such as Location's near). _contained and
// _containedType are result parameters, which Parse takes at their defaults only.
func Unsupported(code string) bool {
	return slices.Contains(unsupported, code) || code == "near" || code == "_filter" || code == "_list"
}
