package fhir

import (
	"fmt"
	"strings"
)

// CheckJSON reports where obj breaks the rules of FHIR's JSON representation that a JSON schema does not state:
// arrays and objects must not be empty, and null may stand only in an array of primitives aligned with its
// "_name" extensions array. Expressions are FHIRPath locations rooted at the resource type.
// See https://hl7.org/fhir/R4/json.html.
func CheckJSON(obj Object) []Issue {
	var issues []Issue
	root := ResourceType(obj)
	if root == "" {
		root = "Resource"
	}
	checkJSONNode(obj, root, &issues)
	return issues
}

func checkJSONNode(node any, path string, issues *[]Issue) {
	switch n := node.(type) {
	case map[string]any:
		if len(n) == 0 {
			*issues = append(*issues, jsonIssue(path, "an object must not be empty"))
		}
		for k, v := range n {
			p := path + "." + k
			if v == nil {
				*issues = append(*issues, jsonIssue(p, "a property must not be null: leave it out"))
				continue
			}
			if arr, ok := v.([]any); ok {
				checkJSONArray(arr, p, strings.HasPrefix(k, "_") || n["_"+k] != nil, issues)
				continue
			}
			if m, ok := v.(map[string]any); ok && ResourceType(m) != "" {
				checkJSONNode(m, p, issues) // a contained or entry resource keeps the path of where it stands
				continue
			}
			checkJSONNode(v, p, issues)
		}
	}
}

// checkJSONArray checks an array; aligned says it pairs with a "_name" array, where nulls keep positions.
func checkJSONArray(arr []any, path string, aligned bool, issues *[]Issue) {
	if len(arr) == 0 {
		*issues = append(*issues, jsonIssue(path, "an array must not be empty: leave the property out"))
		return
	}
	allNull := true
	for i, e := range arr {
		p := fmt.Sprintf("%s[%d]", path, i)
		if e == nil {
			if !aligned {
				*issues = append(*issues, jsonIssue(p, "null may stand in an array only to align it with its extensions"))
			}
			continue
		}
		allNull = false
		checkJSONNode(e, p, issues)
	}
	if allNull && aligned {
		*issues = append(*issues, jsonIssue(path, "an array must not hold only nulls"))
	}
}

func jsonIssue(path, details string) Issue {
	return Issue{Severity: SeverityError, Code: IssueStructure, Details: path + ": " + details, Expression: []string{path}}
}
