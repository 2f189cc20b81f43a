package validate

import (
	"fmt"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// check evaluates constraints on node (empty tells ele-1 that the node has neither value nor children).
// A failed constraint is an invariant issue of the constraint's severity; one the evaluator cannot evaluate is
// a processing warning, so that a gap in the FHIRPath engine does not refuse valid resources.
// See https://hl7.org/fhir/R4/conformance-rules.html#constraints.
func (w *walker) check(cs []constraint, node any, empty bool) {
	for i := range cs {
		c := &cs[i]
		var ok bool
		var err error
		switch c.native {
		case nativeEle1:
			ok = !empty
		case nativeExt1:
			ok = extensionXorValue(node)
		default:
			ok, err = w.invariants.EvaluateInvariant(Invariant{Key: c.key, Expression: c.expr, Context: node,
				Resource: w.res, RootResource: w.root})
		}
		switch {
		case err != nil:
			w.report(fhir.IssueProcessing, fhir.SeverityWarning, "",
				fmt.Sprintf("Constraint %s could not be evaluated", c.key), err.Error())
		case !ok:
			w.report(fhir.IssueInvariant, c.severity, "",
				fmt.Sprintf("Constraint %s failed: %s", c.key, c.human), c.expr)
		}
	}
}

// emptyObject reports whether an element object has nothing but an id (ele-1 fails).
func emptyObject(o map[string]any) bool {
	for k := range o {
		if k != "id" && k != "fhir_comments" {
			return false
		}
	}
	return true
}

// hasExtension reports whether the primitive at index of t (-1 when not in an array) has an id or extensions
// in its "_name" sibling.
func hasExtension(parent map[string]any, t *elemType, index int) bool {
	sib := parent[t.ext]
	if index >= 0 {
		list, _ := sib.([]any)
		if index >= len(list) {
			return false
		}
		sib = list[index]
	}
	return sib != nil
}

// extensionXorValue is ext-1: an extension has either nested extensions or a value[x], not both.
func extensionXorValue(node any) bool {
	o, ok := node.(map[string]any)
	if !ok {
		return true
	}
	ext, _ := o["extension"].([]any)
	value := false
	for k := range o {
		if strings.HasPrefix(k, "value") || strings.HasPrefix(k, "_value") {
			value = true
			break
		}
	}
	return (len(ext) > 0) != value
}
