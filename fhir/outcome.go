package fhir

import (
	"errors"
	"fmt"
	"strings"
)

// Severity is an OperationOutcome issue severity.
type Severity string

// Issue severities. See https://hl7.org/fhir/R4/valueset-issue-severity.html.
const (
	SeverityFatal       Severity = "fatal"
	SeverityError       Severity = "error"
	SeverityWarning     Severity = "warning"
	SeverityInformation Severity = "information"
)

// IssueType is an OperationOutcome issue type code. See https://hl7.org/fhir/R4/valueset-issue-type.html.
type IssueType string

// Issue types used by Accord.
const (
	IssueInvalid       IssueType = "invalid"
	IssueStructure     IssueType = "structure"
	IssueRequired      IssueType = "required"
	IssueValue         IssueType = "value"
	IssueInvariant     IssueType = "invariant"
	IssueSecurity      IssueType = "security"
	IssueLogin         IssueType = "login"
	IssueForbidden     IssueType = "forbidden"
	IssueProcessing    IssueType = "processing"
	IssueNotSupported  IssueType = "not-supported"
	IssueDuplicate     IssueType = "duplicate"
	IssueMultiple      IssueType = "multiple-matches"
	IssueNotFound      IssueType = "not-found"
	IssueDeleted       IssueType = "deleted"
	IssueTooLong       IssueType = "too-long"
	IssueCodeInvalid   IssueType = "code-invalid"
	IssueBusinessRule  IssueType = "business-rule"
	IssueConflict      IssueType = "conflict"
	IssueTooCostly     IssueType = "too-costly"
	IssueThrottled     IssueType = "throttled"
	IssueException     IssueType = "exception"
	IssueTransient     IssueType = "transient"
	IssueInformational IssueType = "informational"
)

// Issue is one OperationOutcome issue.
//
// Details is safe to log; Diagnostics may quote resource content (patient data) and goes to the response only.
// Expression holds FHIRPath locations such as "Task.owner". Clause is the Consensus clause id, if any. Profile
// is the canonical URL of the profile whose rule the issue reports, "" for the base definitions: a resource that
// breaks a profile it claims is refused with 422 rather than 400 (https://hl7.org/fhir/R4/http.html#create).
type Issue struct {
	Severity    Severity
	Code        IssueType
	Details     string
	Diagnostics string
	Expression  []string
	Clause      string
	Profile     string
}

// Error is a failure that maps to an OperationOutcome; Code classifies it for the HTTP status.
type Error struct {
	Code   IssueType
	Issues []Issue
}

// Error joins the details of the issues; it carries no diagnostics, so it is safe to log.
func (e *Error) Error() string {
	parts := make([]string, 0, len(e.Issues))
	for _, is := range e.Issues {
		p := is.Details
		if len(is.Expression) > 0 {
			p += " at " + strings.Join(is.Expression, ", ")
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("fhir %s: %s", e.Code, strings.Join(parts, "; "))
}

// Errorf returns an *Error of the given code with one error issue at expression (which may be empty).
func Errorf(code IssueType, expression, format string, args ...any) *Error {
	is := Issue{Severity: SeverityError, Code: code, Details: fmt.Sprintf(format, args...)}
	if expression != "" {
		is.Expression = []string{expression}
	}
	return &Error{Code: code, Issues: []Issue{is}}
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}

// HasErrors reports whether any issue is of severity error or fatal.
func HasErrors(issues []Issue) bool {
	for _, is := range issues {
		if is.Severity == SeverityError || is.Severity == SeverityFatal {
			return true
		}
	}
	return false
}

// OperationOutcome renders issues as an OperationOutcome resource, ready to marshal.
// An empty list becomes the single informational issue that R4 requires.
func OperationOutcome(issues []Issue) map[string]any {
	if len(issues) == 0 {
		issues = []Issue{{Severity: SeverityInformation, Code: IssueInformational, Details: "All OK"}}
	}
	list := make([]any, 0, len(issues))
	for _, is := range issues {
		m := map[string]any{"severity": string(is.Severity), "code": string(is.Code)}
		details := map[string]any{}
		if is.Details != "" {
			details["text"] = is.Details
		}
		if is.Clause != "" {
			details["coding"] = []any{map[string]any{"system": ClauseSystem, "code": is.Clause}}
		}
		if len(details) > 0 {
			m["details"] = details
		}
		if is.Diagnostics != "" {
			m["diagnostics"] = is.Diagnostics
		}
		if len(is.Expression) > 0 {
			exprs := make([]any, len(is.Expression))
			for i, e := range is.Expression {
				exprs[i] = e
			}
			m["expression"] = exprs
		}
		list = append(list, m)
	}
	return map[string]any{"resourceType": "OperationOutcome", "issue": list}
}

// ClauseSystem is the CodeSystem of the Consensus clause ids in Accord's implementation guide.
const ClauseSystem = CanonicalBase + "/CodeSystem/consensus-clause"

// CanonicalBase is the base of the canonical URLs of Accord's implementation guide.
const CanonicalBase = "https://accord-fhir.github.io/ig"
