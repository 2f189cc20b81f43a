package schema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// knownReject is an official example that the official R4 JSON schema rejects: why, and the issues it gives
// (expression and code), so that an entry that stops failing, or fails differently, is noticed.
type knownReject struct {
	reason string
	want   []issueKey
}

// knownRejects returns the official examples in testdata/r4examples that the official R4 JSON schema rejects.
func knownRejects() map[string]knownReject {
	return map[string]knownReject{
		"StructureDefinition-example-composition.json": {
			reason: "fhir.schema.json defines no _x property for canonical elements (here ElementDefinition.type.profile), " +
				"so the primitive extensions the example puts on them are unknown elements to the schema",
			want: []issueKey{
				{"StructureDefinition.differential.element[2].type[0]._profile", "structure"},
				{"StructureDefinition.differential.element[3].type[0]._profile", "structure"},
				{"StructureDefinition.differential.element[4].type[0]._profile", "structure"},
			},
		},
		"SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json": {
			reason: "the example's id is 68 characters long; the id datatype allows at most 64",
			want:   []issueKey{{"SearchParameter.id", "value"}},
		},
	}
}

// issueKey is what the tests compare of an issue: its location and code.
type issueKey struct {
	Expression string
	Code       string
}

func TestValidate_OfficialExamples_NoIssues(t *testing.T) {
	v := newValidator(t)
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil || len(files) < 140 {
		t.Fatalf("want at least 140 examples in %s, found %d (%v)", examplesDir, len(files), err)
	}
	rejects := knownRejects()
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			got := v.Validate(readObject(t, path))
			if reject, ok := rejects[name]; ok {
				if diff := cmp.Diff(reject.want, keys(got)); diff != "" {
					t.Fatalf("known reject no longer fails as listed (-want +got):\n%s", diff)
				}
				t.Skip(reject.reason)
			}
			for _, is := range got {
				t.Errorf("%s %v: %s (%s)", is.Code, is.Expression, is.Details, is.Diagnostics)
			}
		})
	}
	for name := range rejects {
		if _, err := os.Stat(filepath.Join(examplesDir, name)); err != nil {
			t.Errorf("known reject %s is not in %s: %v", name, examplesDir, err)
		}
	}
}

// TestExamples_Coverage checks that the committed selection still has what the tests and the HTTP round trip
// rely on.
func TestExamples_Coverage(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, path := range files {
		obj := readObject(t, path)
		found["type:"+obj["resourceType"].(string)] = true
		if obj["resourceType"] == "Bundle" {
			found["bundle:"+obj["type"].(string)] = true
		}
		walkJSON(obj, func(key string, val any) {
			switch {
			case key == "contained":
				found["contained"] = true
			case strings.HasPrefix(key, "_"):
				found["primitive extension"] = true
			case key == "extension":
				found["extension"] = true
			}
			if n, ok := val.(json.Number); ok && strings.Contains(string(n), ".") && strings.HasSuffix(string(n), "0") {
				found["decimal with trailing zero"] = true
			}
		})
	}
	for _, want := range []string{
		"contained", "primitive extension", "extension", "decimal with trailing zero",
		"type:Parameters", "type:Task", "type:Patient", "type:Observation",
		"bundle:transaction", "bundle:transaction-response", "bundle:document",
	} {
		if !found[want] {
			t.Errorf("no example in %s has %s", examplesDir, want)
		}
	}
}

// walkJSON calls fn for every member of every object in v, depth first.
func walkJSON(v any, fn func(key string, val any)) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			fn(k, x)
			walkJSON(x, fn)
		}
	case []any:
		for _, x := range t {
			walkJSON(x, fn)
		}
	}
}
