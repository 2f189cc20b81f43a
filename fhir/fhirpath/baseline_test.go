package fhirpath

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gofhir "github.com/gofhir/fhirpath"

	"github.com/accord-fhir/accord/fhir"
	"github.com/gofhir/fhirpath/eval"
	"github.com/gofhir/fhirpath/types"
)

// gofhirRunner evaluates the corpus with github.com/gofhir/fhirpath v1.4.0 used directly, as documented, without
// a model: the baseline of EVALUATION.md.
type gofhirRunner struct {
	cache map[string]*gofhir.Expression
	setup func(*eval.Context) // adjusts each evaluation's context
}

func newGofhirRunner() *gofhirRunner { return &gofhirRunner{cache: map[string]*gofhir.Expression{}} }

func (r *gofhirRunner) name() string { return "gofhir v1.4.0" }

func (r *gofhirRunner) compile(expr string) (*gofhir.Expression, error) {
	if x, ok := r.cache[expr]; ok {
		return x, nil
	}
	x, err := gofhir.Compile(expr)
	if err != nil {
		return nil, err
	}
	r.cache[expr] = x
	return x, nil
}

func (r *gofhirRunner) run(resource []byte, contextPath, expr string) (out [][]item, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	x, err := r.compile(expr)
	if err != nil {
		return nil, err
	}
	root, err := types.JSONToCollection(resource)
	if err != nil {
		return nil, err
	}
	nodes := root
	if contextPath != "" {
		p, err := r.compile(contextPath)
		if err != nil {
			return nil, err
		}
		if nodes, err = p.EvaluateWithContext(r.context(resource, root)); err != nil {
			return nil, err
		}
	}
	for _, n := range nodes {
		data, err := valueJSON(n)
		if err != nil {
			return nil, err
		}
		res, err := x.EvaluateWithContext(r.context(data, root))
		if err != nil {
			return nil, err
		}
		items := make([]item, 0, len(res))
		for _, v := range res {
			items = append(items, gofhirItem(v))
		}
		out = append(out, items)
	}
	return out, nil
}

func (r *gofhirRunner) context(node []byte, root types.Collection) *eval.Context {
	ctx := eval.NewContext(node)
	ctx.SetVariable("resource", root)
	ctx.SetVariable("rootResource", root)
	ctx.SetVariable("ucum", types.Collection{types.NewString("http://unitsofmeasure.org")})
	ctx.SetVariable("sct", types.Collection{types.NewString("http://snomed.info/sct")})
	ctx.SetVariable("loinc", types.Collection{types.NewString("http://loinc.org")})
	if r.setup != nil {
		r.setup(ctx)
	}
	return ctx
}

func valueJSON(v types.Value) ([]byte, error) {
	switch t := v.(type) {
	case *types.ObjectValue:
		return t.Data(), nil
	case types.String:
		return json.Marshal(t.Value())
	case types.Boolean:
		return json.Marshal(t.Bool())
	case types.Integer:
		return json.Marshal(t.Value())
	case types.Decimal:
		return []byte(t.String()), nil
	}
	return json.Marshal(v.String())
}

func gofhirItem(v types.Value) item {
	switch t := v.(type) {
	case types.String:
		typ := "System.String"
		if t.Type() != "String" {
			typ = "FHIR." + t.Type()
		}
		return item{Type: typ, Kind: "String", Value: t.Value()}
	case types.Boolean:
		return item{Type: "System.Boolean", Kind: "Boolean", Value: fmt.Sprint(t.Bool())}
	case types.Integer:
		return item{Type: "System.Integer", Kind: "Integer", Value: fmt.Sprint(t.Value())}
	case types.Decimal:
		return item{Type: "System.Decimal", Kind: "Decimal", Value: jsNumberText(t.String())}
	case types.Date:
		return item{Type: "System.Date", Kind: "Date", Value: t.String()}
	case types.DateTime:
		return item{Type: "System.DateTime", Kind: "DateTime", Value: t.String()}
	case types.Time:
		return item{Type: "System.Time", Kind: "Time", Value: t.String()}
	case types.Quantity:
		q := map[string]any{"value": json.Number(t.Value().String()), "unit": t.Unit()}
		return item{Type: "System.Quantity", Kind: "Quantity", Value: canonicalJSON(q)}
	case *types.ObjectValue:
		dec := json.NewDecoder(bytes.NewReader(t.Data()))
		dec.UseNumber()
		var obj any
		if err := dec.Decode(&obj); err != nil {
			return item{Type: "FHIR." + t.Type(), Kind: "Element", Value: "invalid JSON"}
		}
		return item{Type: "FHIR." + t.Type(), Kind: "Element", Value: canonicalJSON(obj)}
	}
	return item{Type: v.Type(), Kind: v.Type(), Value: v.String()}
}

// BenchmarkGofhir evaluates the search expressions and the resource-level Task invariants of bench_test.go with
// gofhir v1.4.0 on the Task's JSON (gofhir's input), for EVALUATION.md.
func BenchmarkGofhir(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "accord", "Task-accord-3k.json"))
	if err != nil {
		b.Fatal(err)
	}
	exprs := append([]string{}, benchSearch...)
	for _, inv := range taskInvariants {
		if inv.context == "" {
			exprs = append(exprs, inv.expr)
		}
	}
	for _, src := range exprs {
		x, err := gofhir.Compile(src)
		if err != nil {
			b.Fatal(err)
		}
		name := src
		if len(name) > 40 {
			name = name[:40]
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.Evaluate(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// gofhirModelRunner is gofhir v1.4.0 with the workarounds a wrapper could apply: Accord's R4 model behind gofhir's
// Model interface (backbone elements typed by their path, so that their children are typed too, and a sentinel
// choice list that stops gofhir trying 60 type suffixes on every missing element), and a resolver giving the
// same stubs as Accord's resolve(). It measures how far wrapping gofhir goes.
type gofhirModelRunner struct {
	gofhirRunner
	model gofhirModel
}

func newGofhirModelRunner() *gofhirModelRunner {
	m, err := newModel()
	if err != nil {
		panic(err)
	}
	return &gofhirModelRunner{gofhirRunner: gofhirRunner{cache: map[string]*gofhir.Expression{}}, model: gofhirModel{m}}
}

func (r *gofhirModelRunner) name() string { return "gofhir v1.4.0 with Accord's model and resolver" }

func (r *gofhirModelRunner) run(resource []byte, contextPath, expr string) ([][]item, error) {
	obj, err := fhir.DecodeObject(resource, fhir.MaxDepth)
	if err != nil {
		return nil, err
	}
	r.gofhirRunner.setup = func(ctx *eval.Context) {
		ctx.SetModel(r.model)
		ctx.SetResolver(stubResolver{root: obj, m: r.model.m})
	}
	return r.gofhirRunner.run(resource, contextPath, expr)
}

type gofhirModel struct{ m *model }

// lookup splits a gofhir path (its first part is a type name, or a backbone element's path) into the model's
// parent path and type.
func (g gofhirModel) lookup(path string) (*elemDef, string, string) {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return nil, "", ""
	}
	parent, name := path[:i], path[i+1:]
	typ := parent
	if _, ok := g.m.types[parent]; !ok {
		typ = typeBackbone
	}
	if d := g.m.child(parent, typ, name); d != nil {
		return d, parent, typ
	}
	if c, ok := g.m.choice(parent, typ, name); ok {
		return &elemDef{types: []string{c.typ}}, parent, typ
	}
	return nil, parent, typ
}

func (g gofhirModel) ChoiceTypes(path string) []string {
	d, _, _ := g.lookup(path)
	switch {
	case d == nil:
		return nil
	case d.choice:
		return d.types
	}
	return []string{"-"}
}

func (g gofhirModel) TypeOf(path string) string {
	d, _, _ := g.lookup(path)
	if d == nil || d.choice {
		return ""
	}
	if t := d.types[0]; t != typeBackbone && t != typeElement {
		return t
	}
	return d.childPath
}

func (g gofhirModel) ReferenceTargets(string) []string { return nil }
func (g gofhirModel) ParentType(t string) string       { return g.m.types[t].base }
func (g gofhirModel) ResolvePath(path string) string   { return path }
func (g gofhirModel) IsResource(t string) bool         { return g.m.isResource(t) }

func (g gofhirModel) IsSubtype(child, parent string) bool {
	if strings.Contains(child, ".") {
		child = typeBackbone
	}
	return g.m.isSubtype(child, parent)
}

// stubResolver resolves references as Accord's resolve() does, for gofhir.
type stubResolver struct {
	root fhir.Object
	m    *model
}

func (s stubResolver) Resolve(_ context.Context, ref string) ([]byte, error) {
	c := &evalCtx{m: s.m, root: []Value{ElementValue(s.root, "")}}
	v, ok := c.resolveReference(ref)
	if !ok {
		return nil, fmt.Errorf("unresolved")
	}
	return fhir.Marshal(v.obj)
}
