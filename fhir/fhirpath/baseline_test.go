package fhirpath

import (
	"bytes"
	"encoding/json"
	"fmt"

	gofhir "github.com/gofhir/fhirpath"
	"github.com/gofhir/fhirpath/eval"
	"github.com/gofhir/fhirpath/types"
)

// gofhirRunner evaluates the corpus with github.com/gofhir/fhirpath v1.4.0 used directly, as documented, without
// a model: the baseline of EVALUATION.md.
type gofhirRunner struct {
	cache map[string]*gofhir.Expression
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
		return item{Type: "System.Decimal", Kind: "Decimal", Value: numberText(t.String())}
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
