package validation

import (
	"fmt"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/validate"
)

// The NHS identifier systems whose values the pipeline checks on every Identifier, wherever it stands.
// See https://digital.nhs.uk/services/organisation-data-service and the NHS Data Dictionary, "NHS Number".
const (
	NHSNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"
	ODSCodeSystem   = "https://fhir.nhs.uk/Id/ods-organization-code"
)

// typeChecks are the pipeline's checks in Go on datatypes (validate.Options.TypeChecks). The form of an NHS
// number or ODS code is a rule of the identifier system, not of a Consensus clause: it holds for every
// Identifier of the system in every resource (contained resources and Bundle entries too), whatever the rule
// levels say. The guide's profiles apply by resource type, and the Modulus 11 check digit would take a FHIRPath
// expression of nine terms, so the rule is Go rather than a constraint of the guide.
func typeChecks() map[string]validate.TypeCheck {
	return map[string]validate.TypeCheck{"Identifier": checkIdentifier}
}

// checkIdentifier checks the value of an Identifier whose system is the NHS number's or the ODS code's. An
// identifier of one of these systems must have a value; one given only as "_value" (a data-absent-reason
// extension) has said why it has none and passes.
func checkIdentifier(id fhir.Object) []validate.TypeIssue {
	system, _ := id["system"].(string)
	var rule string
	var check func(string) string
	switch system {
	case NHSNumberSystem:
		rule, check = "an NHS number is 10 digits, the last being the Modulus 11 check digit of the first nine", checkNHSNumber
	case ODSCodeSystem:
		rule, check = "an ODS code is 3 to 6 upper-case letters or digits", checkODSCode
	default:
		return nil
	}
	value, isString := id["value"].(string)
	switch {
	case id["value"] == nil && id["_value"] != nil:
		return nil
	case id["value"] == nil:
		return []validate.TypeIssue{{Child: "value", Code: fhir.IssueRequired,
			Details: "an identifier of the system " + system + " must have a value"}}
	case !isString:
		return nil // the JSON schema reports it
	}
	if problem := check(value); problem != "" {
		return []validate.TypeIssue{{Child: "value", Code: fhir.IssueValue, Details: rule,
			Diagnostics: fmt.Sprintf("value %q %s", value, problem)}}
	}
	return nil
}

// checkNHSNumber returns what is wrong with an NHS number, or "": it is 10 digits, the tenth the check digit of
// the first nine (weights 10 down to 2; 11 minus the remainder of the sum by 11, 11 giving 0; no NHS number has
// the nine digits whose check digit would be 10).
func checkNHSNumber(s string) string {
	if len(s) != 10 || !onlyBytes(s, isDigit) {
		return "is not 10 digits"
	}
	sum := 0
	for i := range 9 {
		sum += int(s[i]-'0') * (10 - i)
	}
	check := (11 - sum%11) % 11
	switch {
	case check == 10:
		return "cannot be an NHS number: no check digit fits its first nine digits"
	case int(s[9]-'0') != check:
		return fmt.Sprintf("has the check digit %c, but its first nine digits give %d", s[9], check)
	}
	return ""
}

// checkODSCode returns what is wrong with an ODS organisation code, or "": 3 to 6 upper-case letters or digits
// (RJ1, G85001, XDEV01).
func checkODSCode(s string) string {
	if len(s) < 3 || len(s) > 6 || !onlyBytes(s, func(c byte) bool { return isDigit(c) || 'A' <= c && c <= 'Z' }) {
		return "is not 3 to 6 upper-case letters or digits"
	}
	return ""
}

// onlyBytes reports whether every byte of s satisfies ok.
func onlyBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
