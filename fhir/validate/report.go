package validate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// report adds an issue at the current location, or at its child when child is not empty, for the Consensus
// clause (the walker's current clause when empty). Details name definitions only; anything taken from the
// resource goes to diagnostics.
func (w *walker) report(code fhir.IssueType, sev fhir.Severity, child, clause, details, diagnostics string) {
	switch clause {
	case "":
		clause = w.clause
	case noClause:
		clause = ""
	}
	if clause != "" {
		details += " (Consensus clause " + clause + ")"
	}
	w.issues = append(w.issues, fhir.Issue{Severity: sev, Code: code, Details: details,
		Diagnostics: diagnostics, Expression: []string{w.expression(child)}, Clause: clause})
}

// noClause marks an issue that never carries a clause, even inside a slice that has one.
const noClause = "-"

// typeCheck reports the findings of a TypeCheck on item, errors without clause.
func (w *walker) typeCheck(check TypeCheck, item fhir.Object) {
	for _, f := range check(item) {
		w.report(f.Code, fhir.SeverityError, f.Child, noClause, w.expression(f.Child)+": "+f.Details, f.Diagnostics)
	}
}

func (w *walker) missing(el *element) {
	w.report(fhir.IssueRequired, fhir.SeverityError, el.name, el.clause,
		fmt.Sprintf("%s: minimum required = %d, but only found 0", el.path, el.min), "")
}

func (w *walker) tooMany(el *element, count int) {
	w.report(fhir.IssueStructure, fhir.SeverityError, "", el.clause,
		fmt.Sprintf("%s: maximum allowed = %d, but found %d", el.path, el.max, count), "")
}

func (w *walker) twoTypes(el *element) {
	w.report(fhir.IssueStructure, fhir.SeverityError, el.name, el.clause,
		fmt.Sprintf("%s: only one type is allowed, but found values of several types", el.path), "")
}

// typeNotAllowed reports a value of a type the profile removed from a choice element.
func (w *walker) typeNotAllowed(el *element, key string) {
	w.report(fhir.IssueStructure, fhir.SeverityError, key, el.clause,
		fmt.Sprintf("%s: the type of %s is not one the profile allows", el.path, key), "")
}

// sliceCount reports a slice with fewer or more items than its cardinality allows; child is its expression.
func (w *walker) sliceCount(el *element, sl *slice, count int) {
	clause := sl.el.clause
	if clause == "" {
		clause = el.clause
	}
	code, limit, what := fhir.IssueRequired, sl.el.min, "minimum required"
	if count > sl.el.min {
		code, limit, what = fhir.IssueStructure, sl.el.max, "maximum allowed"
	}
	w.report(code, fhir.SeverityError, sliceExpression(el, sl), clause,
		fmt.Sprintf("%s:%s: %s = %d, but found %d", el.path, sl.name, what, limit, count), "")
}

// unmatched reports an item of a closed slicing that belongs to no slice.
func (w *walker) unmatched(el *element) {
	w.report(fhir.IssueStructure, fhir.SeverityError, "", el.clause,
		fmt.Sprintf("%s: the item matches none of the slices, and the slicing is closed", el.path), "")
}

// expression renders the current location as FHIRPath, e.g. Observation.component[1].value.ofType(Quantity),
// with child appended when not empty. Array indexes are those of the JSON arrays.
func (w *walker) expression(child string) string {
	var sb strings.Builder
	for i, s := range w.path {
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(s.name)
		if s.ofType != "" {
			sb.WriteString(".ofType(")
			sb.WriteString(s.ofType)
			sb.WriteByte(')')
		}
		if s.index >= 0 {
			sb.WriteByte('[')
			sb.WriteString(strconv.Itoa(s.index))
			sb.WriteByte(']')
		}
	}
	if child != "" {
		sb.WriteByte('.')
		sb.WriteString(child)
	}
	return sb.String()
}

// sortIssues orders issues by location (numbers in it by value, so [2] comes before [10]), then code.
func sortIssues(issues []fhir.Issue) {
	slices.SortStableFunc(issues, func(a, b fhir.Issue) int {
		if c := naturalCompare(a.Expression[0], b.Expression[0]); c != 0 {
			return c
		}
		return strings.Compare(string(a.Code), string(b.Code))
	})
}

// naturalCompare compares strings, taking runs of digits as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			na, nb := digits(a), digits(b)
			if c := len(na) - len(nb); c != 0 && na[0] != '0' && nb[0] != '0' {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[len(na):], b[len(nb):]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digits(s string) string {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i]
}
