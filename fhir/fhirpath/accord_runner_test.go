package fhirpath

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

// accordRunner evaluates the corpus with Accord's engine, as the validator and the indexer use it.
type accordRunner struct{ e *Engine }

func newAccordRunner(testing.TB) runner { return accordRunner{e: NewEngine()} }

func (accordRunner) name() string { return "accord fhirpath" }

func (r accordRunner) run(resource []byte, contextPath, src string) ([][]item, error) {
	obj, err := fhir.DecodeObject(resource, fhir.MaxDepth)
	if err != nil {
		return nil, err
	}
	x, err := r.e.Compile(src)
	if err != nil {
		return nil, err
	}
	if contextPath == "" {
		vals, err := x.Evaluate(obj)
		if err != nil {
			return nil, err
		}
		return [][]item{accordItems(vals)}, nil
	}
	p, err := r.e.Compile(contextPath)
	if err != nil {
		return nil, err
	}
	nodes, err := p.Evaluate(obj)
	if err != nil {
		return nil, err
	}
	out := make([][]item, 0, len(nodes))
	for _, n := range nodes {
		vals, err := x.Evaluate(obj, WithContext(n))
		if err != nil {
			return nil, err
		}
		out = append(out, accordItems(vals))
	}
	return out, nil
}

func accordItems(vals []Value) []item {
	items := make([]item, len(vals))
	for i, v := range vals {
		items[i] = accordItem(v)
	}
	return items
}

func accordItem(v Value) item {
	it := item{Type: v.typeName(), Kind: v.Kind().String()}
	switch v.Kind() {
	case KindString:
		it.Value = v.str
	case KindBoolean:
		it.Value = strconv.FormatBool(v.num != 0)
	case KindInteger:
		it.Value = strconv.FormatInt(v.num, 10)
	case KindDecimal:
		it.Value = jsNumberText(v.str)
	case KindQuantity:
		if obj, ok := v.Object(); ok {
			it.Kind, it.Value = "Element", canonicalJSON(obj)
		} else {
			it.Value = canonicalJSON(map[string]any{"value": json.Number(v.str), "unit": v.unit})
		}
	case KindElement:
		it.Value = canonicalJSON(v.obj)
	default:
		it.Value = v.str
	}
	return it
}
