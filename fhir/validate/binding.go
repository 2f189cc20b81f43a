package validate

import (
	"fmt"

	"github.com/accord-fhir/accord/fhir"
)

// checkBinding checks a value against the required binding of el: a code (the code alone), a Coding (system
// and code) or a CodeableConcept (at least one of its codings). A Coding without a code carries nothing to
// check; a Coding without a system is checked by its code alone.
// See https://hl7.org/fhir/R4/terminologies.html#required.
func (w *walker) checkBinding(el *element, t *elemType, v any) {
	switch x := v.(type) {
	case string:
		if !el.binding.hasCode(x) {
			w.badCode(el, fmt.Sprintf("code %q", x))
		}
	case map[string]any:
		switch t.code {
		case "Coding":
			if checked, in, diag := codingIn(el.binding, x); checked && !in {
				w.badCode(el, diag)
			}
		case "CodeableConcept":
			w.checkConcept(el, x)
		}
	}
}

// checkConcept reports a CodeableConcept none of whose codings is in the value set. One without any code is
// reported too: a required binding needs a code, text alone does not meet it.
func (w *walker) checkConcept(el *element, cc map[string]any) {
	codings, _ := cc["coding"].([]any)
	diag := "no coding with a code"
	for _, c := range codings {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		checked, in, d := codingIn(el.binding, m)
		if checked && in {
			return
		}
		if checked {
			diag = d
		}
	}
	w.badCode(el, diag)
}

// codingIn reports whether a Coding has a code to check, and whether it is in set.
func codingIn(set *codeSet, c map[string]any) (checked, in bool, diagnostics string) {
	code, _ := c["code"].(string)
	if code == "" {
		return false, false, ""
	}
	system, _ := c["system"].(string)
	if system == "" {
		return true, set.hasCode(code), fmt.Sprintf("code %q without system", code)
	}
	return true, set.hasCoding(system, code), fmt.Sprintf("code %q of system %s", code, system)
}

func (w *walker) badCode(el *element, diagnostics string) {
	strength := "required"
	if el.bindingSeverity == fhir.SeverityWarning {
		strength = "extensible"
	}
	w.report(fhir.IssueCodeInvalid, el.bindingSeverity, "", el.clause,
		fmt.Sprintf("%s: the code is not in the %s value set %s", el.path, strength, el.bindingURL),
		diagnostics+" is not in "+el.bindingURL)
}
