package validation_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/jsonpatch"
	"github.com/accord-fhir/accord/internal/validation"
)

const (
	profilesDir = "../../profiles"
	rulesFile   = "../../testdata/ig/rules.json"
	examplesDir = "../../profiles/ig/examples"
)

// pipeline is loaded once per test binary: it is immutable and loading takes most of a second.
var pipeline = sync.OnceValues(func() (*validation.Pipeline, error) {
	return validation.Default(os.DirFS(profilesDir))
})

func newPipeline(t testing.TB) *validation.Pipeline {
	t.Helper()
	p, err := pipeline()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return p
}

// ruleCase is one case of testdata/ig/rules.json.
type ruleCase struct {
	Clause  string          `json:"clause"`
	Name    string          `json:"name"`
	Example string          `json:"example"`
	Patch   json.RawMessage `json:"patch"`
	Also    []string        `json:"also"`
	Fail    *struct {
		Severity   fhir.Severity  `json:"severity"`
		Code       fhir.IssueType `json:"code"`
		Expression string         `json:"expression"`
		Key        string         `json:"key"`
	} `json:"fail"`
}

func readCases(t testing.TB) []ruleCase {
	t.Helper()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []ruleCase }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	return doc.Cases
}

// caseResource returns the case's example with its patch applied.
func caseResource(t testing.TB, c ruleCase) fhir.Object {
	t.Helper()
	obj := readExample(t, c.Example)
	if len(c.Patch) == 0 {
		return obj
	}
	patched, err := jsonpatch.Apply(obj, c.Patch, fhir.MaxDepth)
	if err != nil {
		t.Fatalf("patch %s: %v", c.Example, err)
	}
	return patched
}

func readExample(t testing.TB, name string) fhir.Object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := fhir.DecodeObject(data, fhir.MaxDepth)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return obj
}

func describe(issues []fhir.Issue) string {
	var sb strings.Builder
	for _, is := range issues {
		sb.WriteString("  " + string(is.Severity) + " " + string(is.Code) + " " + strings.Join(is.Expression, ",") +
			" clause=" + is.Clause + ": " + is.Details + "\n")
	}
	return sb.String()
}

// TestRules checks every case of testdata/ig/rules.json against the pipeline: a passing case raises no issue of
// its clause and no error; a failing one raises the issue it names, carrying its clause, and no error of another
// clause.
func TestRules(t *testing.T) {
	p := newPipeline(t)
	for _, c := range readCases(t) {
		t.Run(c.Clause+"/"+c.Name, func(t *testing.T) {
			issues := p.Validate(context.Background(), caseResource(t, c))
			if c.Fail == nil {
				for _, is := range issues {
					if is.Clause == c.Clause || fhir.HasErrors([]fhir.Issue{is}) {
						t.Errorf("passing case raised:\n%s", describe(issues))
						break
					}
				}
				return
			}
			found := slices.ContainsFunc(issues, func(is fhir.Issue) bool {
				return is.Clause == c.Clause && is.Severity == c.Fail.Severity && is.Code == c.Fail.Code &&
					slices.Equal(is.Expression, []string{c.Fail.Expression}) &&
					(c.Fail.Key == "" || strings.Contains(is.Details, "Constraint "+c.Fail.Key+" failed"))
			})
			if !found {
				t.Errorf("want %s %s at %s (%s) for clause %s; got:\n%s", c.Fail.Severity, c.Fail.Code, c.Fail.Expression,
					c.Fail.Key, c.Clause, describe(issues))
			}
			for _, is := range issues {
				if fhir.HasErrors([]fhir.Issue{is}) && is.Clause != c.Clause && !slices.Contains(c.Also, is.Clause) {
					t.Errorf("error of another clause:\n%s", describe([]fhir.Issue{is}))
				}
			}
		})
	}
}
