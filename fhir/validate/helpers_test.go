package validate_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/validate"
)

const (
	profilesDir = "../../profiles"
	testdataDir = "../../testdata/validate"
	taskFile    = testdataDir + "/task-test-result.json"
	testProfile = "https://accord-fhir.github.io/ig/test/StructureDefinition/test-task"
)

// coreValidator is built once per test binary: loading takes a few hundred milliseconds, and a Validator is
// immutable, so sharing it between tests changes nothing they observe.
var coreValidator = sync.OnceValues(func() (*validate.Validator, error) {
	return validate.New(os.DirFS(profilesDir), validate.DefaultOptions())
})

// newCore returns the validator of the R4 base definitions in profiles/r4.
func newCore(t testing.TB) *validate.Validator {
	t.Helper()
	v, err := coreValidator()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// withTestFiles returns the R4 base definitions (as r4/…) and the files of the testdata/validate
// directories dirs (as test/…) in one FS, with options that load them all.
func withTestFiles(t testing.TB, inv validate.InvariantEvaluator, dirs ...string) (fs.FS, validate.Options) {
	t.Helper()
	m := fstest.MapFS{}
	opts := validate.DefaultOptions()
	opts.Invariants = inv
	add := func(dir, prefix, pattern string) {
		files, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil || len(files) == 0 {
			t.Fatalf("no %s in %s (%v)", pattern, dir, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m[prefix+"/"+filepath.Base(f)] = &fstest.MapFile{Data: data}
		}
	}
	add(filepath.Join(profilesDir, "r4"), "r4", "*.json.gz")
	for _, d := range dirs {
		add(filepath.Join(testdataDir, d), "test/"+d, "*.json")
		opts.Files = append(opts.Files, "test/"+d+"/*.json")
	}
	return m, opts
}

// readObject decodes a JSON resource file.
func readObject(t testing.TB, path string) fhir.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := fhir.DecodeObject(data, fhir.MaxDepth)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

// summary renders issues as "code expression" lines, the part the tests assert on.
func summary(issues []fhir.Issue) []string {
	out := make([]string, 0, len(issues))
	for _, is := range issues {
		out = append(out, fmt.Sprintf("%s %s", is.Code, strings.Join(is.Expression, ",")))
	}
	return out
}

// checkIssues fails unless issues are exactly want (as "code expression", in order).
func checkIssues(t testing.TB, issues []fhir.Issue, want []string) {
	t.Helper()
	got := summary(issues)
	if !slices.Equal(got, want) {
		t.Errorf("issues:\n got  %q\n want %q\n%s", got, want, describe(issues))
	}
}

func describe(issues []fhir.Issue) string {
	var sb strings.Builder
	for _, is := range issues {
		fmt.Fprintf(&sb, "  %s %s %v: %s [%s]\n", is.Severity, is.Code, is.Expression, is.Details, is.Diagnostics)
	}
	return sb.String()
}

// at returns the object at a path of keys and array indexes inside obj, failing the test when it is missing.
func at(t testing.TB, obj fhir.Object, path ...any) fhir.Object {
	t.Helper()
	var cur any = obj
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := cur.(map[string]any)
			cur = m[k]
		case int:
			l, _ := cur.([]any)
			if k >= len(l) {
				t.Fatalf("no item %d at %v", k, path)
			}
			cur = l[k]
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("no object at %v", path)
	}
	return m
}
