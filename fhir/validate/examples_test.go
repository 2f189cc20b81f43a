package validate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

// invalidExamples are the official R4 examples (hl7.fhir.r4.examples 4.0.1) that break the base definitions
// themselves, with the reason. All 5,307 files of the package were checked; these are the only ones with
// errors. The test fails if a listed example stops failing, so that the list cannot go stale.
var invalidExamples = map[string]string{
	"Questionnaire-qs1.json":        "nested items have no linkId (Questionnaire.item.linkId is 1..1)",
	"ImplementationGuide-fhir.json": "no name and no status (ImplementationGuide.name and .status are 1..1)",
	"ig-r4.json":                    "no name and no status (ImplementationGuide.name and .status are 1..1)",
	"SearchParameter-codesystem-extensions-CodeSystem-author.json":    "no base (SearchParameter.base is 1..*)",
	"SearchParameter-codesystem-extensions-CodeSystem-effective.json": "no base (SearchParameter.base is 1..*)",
	"SearchParameter-codesystem-extensions-CodeSystem-end.json":       "no base (SearchParameter.base is 1..*)",
	"SearchParameter-codesystem-extensions-CodeSystem-keyword.json":   "no base (SearchParameter.base is 1..*)",
	"SearchParameter-codesystem-extensions-CodeSystem-workflow.json":  "no base (SearchParameter.base is 1..*)",
	"SearchParameter-valueset-extensions-ValueSet-author.json":        "no base (SearchParameter.base is 1..*)",
	"SearchParameter-valueset-extensions-ValueSet-effective.json":     "no base (SearchParameter.base is 1..*)",
	"SearchParameter-valueset-extensions-ValueSet-end.json":           "no base (SearchParameter.base is 1..*)",
	"SearchParameter-valueset-extensions-ValueSet-keyword.json":       "no base (SearchParameter.base is 1..*)",
	"SearchParameter-valueset-extensions-ValueSet-workflow.json":      "no base (SearchParameter.base is 1..*)",
}

// examplesDirs returns the official examples to check: the shared testdata/r4examples when present, and the
// selection in testdata/validate/examples (which the broken-copy tests also use).
func examplesDirs() []string {
	dirs := []string{examplesDir}
	if st, err := os.Stat("../../testdata/r4examples"); err == nil && st.IsDir() {
		dirs = append(dirs, "../../testdata/r4examples")
	}
	return dirs
}

func TestValidate_OfficialExamples_NoErrors(t *testing.T) {
	v := newCore(t)
	n := 0
	for _, dir := range examplesDirs() {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no examples in %s (%v)", dir, err)
		}
		for _, f := range files {
			name := filepath.Base(f)
			if name == "package.json" || strings.HasPrefix(name, ".") {
				continue
			}
			n++
			t.Run(filepath.Base(dir)+"/"+name, func(t *testing.T) {
				issues := v.Validate(readObject(t, f))
				if reason, invalid := invalidExamples[name]; invalid {
					if !fhir.HasErrors(issues) {
						t.Fatalf("listed as invalid (%s) but has no errors", reason)
					}
					t.Skip(reason)
				}
				if len(issues) > 0 {
					t.Errorf("%d issues:\n%s", len(issues), describe(issues))
				}
			})
		}
	}
	t.Logf("%d examples checked", n)
}
