package validate

import (
	"fmt"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
)

// FHIRPath evaluates invariants with a FHIRPath engine; it is the InvariantEvaluator of production. Expressions
// are compiled once and kept by the engine's cache. It is safe for concurrent use.
type FHIRPath struct {
	engine *fhirpath.Engine
}

var _ InvariantEvaluator = (*FHIRPath)(nil)

// NewFHIRPath returns an evaluator over engine.
func NewFHIRPath(engine *fhirpath.Engine) *FHIRPath {
	return &FHIRPath{engine: engine}
}

// EvaluateInvariant evaluates inv.Expression with inv.Context as $this (typed by inv.Type), inv.Resource as
// %resource and inv.RootResource as %rootResource. An expression that does not compile, fails, or gives several
// items is an error; an empty result holds (see fhirpath.Expr.EvaluateBool).
func (f *FHIRPath) EvaluateInvariant(inv Invariant) (bool, error) {
	x, err := f.engine.Compile(inv.Expression)
	if err != nil {
		return false, err
	}
	var node fhirpath.Value
	switch c := inv.Context.(type) {
	case map[string]any:
		node = fhirpath.ElementValue(c, inv.Type)
	case nil: // a primitive with extensions only
		node = fhirpath.ElementValue(inv.Extension, inv.Type)
	default:
		node, err = fhirpath.PrimitiveValue(c, inv.Extension, inv.Type)
		if err != nil {
			return false, fmt.Errorf("constraint %s: %w", inv.Key, err)
		}
	}
	opts := []fhirpath.Option{fhirpath.WithContext(node)}
	if inv.RootResource != nil {
		opts = append(opts, fhirpath.WithRootResource(inv.RootResource))
	}
	res := inv.Resource
	if res == nil {
		res = fhir.Object{}
	}
	return x.EvaluateBool(res, opts...)
}
