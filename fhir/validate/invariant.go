package validate

import (
	"fmt"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
)

// check evaluates constraints on node, of FHIR type typ (with ext, the id and extensions of a primitive); empty
// tells ele-1 that the node has neither value nor children. A failed constraint is an invariant issue of the
// constraint's severity, carrying its clause, located at the element the constraint's location names
// (LocationExtension) or else at node; one the evaluator cannot evaluate is a processing warning at node without
// clause, so that a gap in the FHIRPath engine neither refuses valid resources nor counts as a finding.
// See https://hl7.org/fhir/R4/conformance-rules.html#constraints.
func (w *walker) check(cs []constraint, node any, typ string, ext fhir.Object, empty bool) {
	var last *constraint // the last evaluated: txt-1 and txt-2 are both htmlChecks() on the same node
	var lastOK bool
	var lastErr error
	for i := range cs {
		c := &cs[i]
		ok, settled := c.native.settle(node, empty)
		if c.guard != nil {
			if o, isObj := node.(map[string]any); isObj {
				a, known := c.guard.test(o)
				ok, settled = true, known && !a // A is false: "A implies B" holds
			}
		}
		var err error
		switch {
		case settled:
		case last != nil && last.expr == c.expr:
			ok, err = lastOK, lastErr
		default:
			ok, err = w.invariants.EvaluateInvariant(Invariant{Key: c.key, Expression: c.expr, Context: node,
				Type: typ, Extension: ext, Resource: w.res, RootResource: w.root})
			last, lastOK, lastErr = c, ok, err
		}
		switch {
		case err != nil:
			w.report(fhir.IssueProcessing, fhir.SeverityWarning, "", noClause,
				fmt.Sprintf("Constraint %s could not be evaluated", c.key), err.Error())
		case !ok:
			w.report(fhir.IssueInvariant, c.severity, c.location, c.clause,
				fmt.Sprintf("Constraint %s failed: %s", c.key, c.human), c.expr)
		}
	}
}

// settle checks a constraint in Go when it can: it returns the result and whether it is settled, or false
// when the evaluator must decide.
func (n nativeCheck) settle(node any, empty bool) (ok, settled bool) {
	switch n {
	case nativeEle1:
		return !empty, true
	case nativeExt1:
		return extensionXorValue(node), true
	case nativeNoContained:
		o, _ := node.(map[string]any)
		return true, o["contained"] == nil
	case nativeDom6:
		o, _ := node.(map[string]any)
		text, _ := o["text"].(map[string]any)
		return text["div"] != nil, true
	case nativeRef1:
		o, _ := node.(map[string]any)
		ref, _ := o["reference"].(string)
		return true, !strings.HasPrefix(ref, "#")
	case nativeTxt1, nativeTxt2:
		s, isString := node.(string)
		if !isString {
			return false, false
		}
		allowed, content := fhirpath.CheckNarrative(s)
		return n == nativeTxt1 && allowed || n == nativeTxt2 && content, true
	}
	return false, false
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

// extensionOf returns the id and extensions of the primitive at index of t (-1 when not in an array): its
// item in the "_name" sibling, nil when it has none.
func extensionOf(parent map[string]any, t *elemType, index int) fhir.Object {
	sib := parent[t.ext]
	if index >= 0 {
		list, _ := sib.([]any)
		if index >= len(list) {
			return nil
		}
		sib = list[index]
	}
	o, _ := sib.(map[string]any)
	return o
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
