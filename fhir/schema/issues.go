package schema

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// issue returns an error issue at FHIRPath expression (none when empty). Details must not quote resource content;
// diagnostics may.
func issue(code fhir.IssueType, expression, diagnostics, format string, args ...any) fhir.Issue {
	is := fhir.Issue{
		Severity:    fhir.SeverityError,
		Code:        code,
		Details:     fmt.Sprintf(format, args...),
		Diagnostics: diagnostics,
	}
	if expression != "" {
		is.Expression = []string{expression}
	}
	return is
}

// leaves appends to out the errors of the tree rooted at e that say what is wrong, dropping the wrappers that
// only say where the library looked ($ref, groups, the schema itself).
func leaves(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	switch e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				out = leaves(c, out)
			}
			return out
		}
	}
	return append(out, e)
}

// reporter turns the leaf errors of one resource into issues.
type reporter struct {
	datatypes map[string]string // schema location → primitive datatype, see document.datatypes
	resource  map[string]any    // the resource validated
	at        string            // its FHIRPath
	issues    *[]fhir.Issue
}

// report appends the issues of leaf error e.
func (r reporter) report(e *jsonschema.ValidationError) {
	at := r.path(e.InstanceLocation)
	add := func(code fhir.IssueType, expr, diag, format string, args ...any) {
		*r.issues = append(*r.issues, issue(code, expr, diag, format, args...))
	}
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		for _, p := range slices.Sorted(slices.Values(k.Properties)) {
			add(fhir.IssueStructure, at+"."+p, "", "%s.%s is not an element defined by R4: unknown elements are not allowed", at, p)
		}
	case *kind.Required:
		for _, p := range k.Missing {
			add(fhir.IssueRequired, at+"."+p, "", "%s.%s is required but missing", at, p)
		}
	case *kind.Type:
		add(fhir.IssueStructure, at, "", "%s must be %s, not %s", at, jsonTypes(k.Want), jsonType(k.Got))
	case *kind.Enum:
		if _, ok := k.Got.(string); !ok {
			add(fhir.IssueStructure, at, "", "%s must be a JSON string holding a code", at)
			return
		}
		add(fhir.IssueValue, at, fmt.Sprintf("%q is not one of: %s", k.Got, enumList(k.Want)),
			"%s must be one of the codes of its required value set", at)
	case *kind.Const:
		add(fhir.IssueValue, at, fmt.Sprintf("%q is not %q", fmt.Sprint(k.Got), fmt.Sprint(k.Want)),
			"%s must have the fixed value %q", at, fmt.Sprint(k.Want))
	case *kind.Format:
		var fe *formatError
		if !errors.As(k.Err, &fe) {
			add(fhir.IssueInvalid, at, e.Error(), "%s does not conform to the R4 JSON schema", at)
			return
		}
		dt := strings.TrimPrefix(k.Want, formatPrefix)
		add(fhir.IssueValue, at, fe.diagnostics, "%s is not a valid %s: %s", at, dt, fe.rule)
	case *misaligned:
		expr, details := k.describe(at)
		add(fhir.IssueStructure, expr, "", "%s", details)
	case *kind.Pattern:
		dt := r.datatype(e.SchemaURL)
		add(fhir.IssueValue, at, fmt.Sprintf("value %q does not match the pattern %s", k.Got, k.Want),
			"%s is not a valid %s: %s", at, dt, datatypeRule(dt))
	default:
		add(fhir.IssueInvalid, at, e.Error(), "%s does not conform to the R4 JSON schema", at)
	}
}

// path returns the FHIRPath of the instance location loc (JSON pointer tokens) within the resource:
// object members become ".name" and array items "[i]".
func (r reporter) path(loc []string) string {
	var b strings.Builder
	b.WriteString(r.at)
	var cur any = r.resource
	for _, tok := range loc {
		switch c := cur.(type) {
		case []any:
			b.WriteString("[" + tok + "]")
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(c) {
				cur = c[i]
			} else {
				cur = nil
			}
		case map[string]any:
			b.WriteString("." + tok)
			cur = c[tok]
		default:
			b.WriteString("." + tok)
			cur = nil
		}
	}
	return b.String()
}

// datatype names the primitive datatype whose pattern the schema at schemaURL holds, or "value".
func (r reporter) datatype(schemaURL string) string {
	if i := strings.IndexByte(schemaURL, '#'); i >= 0 && r.datatypes[schemaURL[i:]] != "" {
		return r.datatypes[schemaURL[i:]]
	}
	return "value"
}

// datatypeRule says in words what the pattern of R4 primitive datatype dt requires.
func datatypeRule(dt string) string {
	switch dt {
	case "string", "markdown":
		return "it must be non-empty text without form feeds"
	case "uri", "url", "canonical":
		return "it must not contain whitespace"
	case "code":
		return "it must be non-empty, with no leading, trailing or repeated whitespace"
	case "id":
		return "it must be 1 to 64 letters, digits, '-' or '.'"
	case "date":
		return "it must be YYYY, YYYY-MM or YYYY-MM-DD with a valid month and day"
	case "dateTime":
		return "it must be YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.fff) with a time zone"
	case "instant":
		return "it must be YYYY-MM-DDThh:mm:ss(.fff) with a time zone"
	case "time":
		return "it must be hh:mm:ss(.fff)"
	case "oid":
		return "it must be urn:oid: followed by a dotted number"
	case "uuid":
		return "it must be urn:uuid: followed by a lower-case UUID"
	case "base64Binary":
		return "it must be base64 in groups of four characters"
	}
	return "it does not match the pattern of its datatype"
}

// jsonType returns a JSON type name of the schema library with its article, as in "a string".
func jsonType(t string) string {
	switch t {
	case "object", "array", "integer":
		return "an " + t
	case "null":
		return "null"
	}
	return "a " + t
}

// jsonTypes returns the alternatives of types joined by "or", as in "a string or an array".
func jsonTypes(types []string) string {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = jsonType(t)
	}
	return strings.Join(parts, " or ")
}

// enumList returns the allowed codes of an enum, comma separated.
func enumList(values []any) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}

// sortIssues orders issues by expression, comparing array indexes as numbers, then by code and details, so that
// the output does not depend on map iteration order.
func sortIssues(issues []fhir.Issue) {
	slices.SortStableFunc(issues, func(a, b fhir.Issue) int {
		if c := comparePaths(firstExpression(a), firstExpression(b)); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Code), string(b.Code)); c != 0 {
			return c
		}
		return strings.Compare(a.Details, b.Details)
	})
}

func firstExpression(is fhir.Issue) string {
	if len(is.Expression) == 0 {
		return ""
	}
	return is.Expression[0]
}

// comparePaths compares FHIRPath expressions byte by byte, except that runs of digits compare as numbers,
// so entry[2] sorts before entry[10].
func comparePaths(a, b string) int {
	for len(a) > 0 && len(b) > 0 {
		if isDigit(a[0]) && isDigit(b[0]) {
			na, nb := digitRun(a), digitRun(b)
			da, db := strings.TrimLeft(a[:na], "0"), strings.TrimLeft(b[:nb], "0")
			if c := len(da) - len(db); c != 0 {
				return c
			}
			if c := strings.Compare(da, db); c != 0 {
				return c
			}
			a, b = a[na:], b[nb:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
