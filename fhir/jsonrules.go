package fhir

import (
	"fmt"
)

// CheckJSON reports where obj breaks the rules of FHIR's JSON representation that a JSON schema does not state:
// arrays and objects must not be empty, and a property must not be null. (Null items of arrays, which stand only
// in a repeating primitive aligned with its "_name" extensions array, are the schema's to check: fhir/schema.)
// Expressions are FHIRPath locations rooted at the resource type.
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
				checkJSONArray(arr, p, issues)
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

// checkJSONArray checks an array and its items (null items are the schema's to check).
func checkJSONArray(arr []any, path string, issues *[]Issue) {
	if len(arr) == 0 {
		*issues = append(*issues, jsonIssue(path, "an array must not be empty: leave the property out"))
		return
	}
	for i, e := range arr {
		if e != nil {
			checkJSONNode(e, fmt.Sprintf("%s[%d]", path, i), issues)
		}
	}
}

func jsonIssue(path, details string) Issue {
	return Issue{Severity: SeverityError, Code: IssueStructure, Details: path + ": " + details, Expression: []string{path}}
}
