package validation_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
	"github.com/accord-fhir/accord/fhir/validate"
	"github.com/accord-fhir/accord/internal/validation"
)

// TestGuide_EveryRuleCarriesItsClause reads the differentials of the guide's profiles and checks that every rule
// (min, max, fixed or pattern value, binding, slicing, constraint) carries a clause of the clause CodeSystem,
// on itself or on its element, so that every issue it raises names the clause.
func TestGuide_EveryRuleCarriesItsClause(t *testing.T) {
	clauses := map[string]bool{}
	var cs struct{ Concept []struct{ Code string } }
	readJSON(t, filepath.Join(profilesDir, validation.ClauseFile), &cs)
	for _, c := range cs.Concept {
		clauses[c.Code] = true
	}
	if len(clauses) != 34 {
		t.Fatalf("%d clauses in %s, want 34", len(clauses), validation.ClauseFile)
	}
	files, _ := filepath.Glob(filepath.Join(profilesDir, "ig", "StructureDefinition-*.json"))
	checked := 0
	for _, f := range files {
		var sd struct {
			ID           string
			Type         string
			Differential struct{ Element []map[string]any }
		}
		readJSON(t, f, &sd)
		if sd.ID == "consensus-clause" || sd.ID == "applies-when" || sd.ID == "constraint-location" {
			continue // the guide's own machinery
		}
		root := "" // a clause on the root element applies to the rules without one
		if first := sd.Differential.Element[0]; !strings.Contains(first["id"].(string), ".") {
			root = clauseOf(first["extension"])
		}
		for _, el := range sd.Differential.Element {
			own := clauseOf(el["extension"])
			if own == "" {
				own = root
			}
			for key := range el {
				rule := key == "min" || key == "max" || key == "binding" || key == "slicing" ||
					strings.HasPrefix(key, "fixed") || strings.HasPrefix(key, "pattern")
				if rule && !clauses[own] {
					t.Errorf("%s %v: %s without a clause", sd.ID, el["id"], key)
				}
				checked++
			}
			cons, _ := el["constraint"].([]any)
			for _, c := range cons {
				m := c.(map[string]any)
				clause := clauseOf(m["extension"])
				if clause == "" {
					clause = own
				}
				if !clauses[clause] {
					t.Errorf("%s constraint %v without a clause", sd.ID, m["key"])
				}
				if key, _ := m["key"].(string); !strings.HasPrefix(key, "accord-"+clause+"-") {
					t.Errorf("%s constraint %s: the key does not start with accord-%s-", sd.ID, key, clause)
				}
				checked++
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d rules checked", checked)
	}
}

// TestGuide_EveryConstraintNamesItsElement checks that every constraint of the guide's profiles says, with the
// constraint-location extension, which element its issues are about: a FHIRPath path that compiles (New checks
// that it starts with a child of the constraint's element).
func TestGuide_EveryConstraintNamesItsElement(t *testing.T) {
	engine := fhirpath.NewEngine()
	files, _ := filepath.Glob(filepath.Join(profilesDir, "ig", "StructureDefinition-*.json"))
	checked := 0
	for _, f := range files {
		var sd struct {
			ID           string
			Differential struct {
				Element []struct {
					ID         string
					Constraint []struct {
						Key       string
						Extension []struct{ URL, ValueString string }
					}
				}
			}
		}
		readJSON(t, f, &sd)
		for _, el := range sd.Differential.Element {
			for _, c := range el.Constraint {
				var locations []string
				for _, e := range c.Extension {
					if e.URL == validate.LocationExtension {
						locations = append(locations, e.ValueString)
					}
				}
				if len(locations) != 1 {
					t.Errorf("%s %s constraint %s: %d locations, want 1", sd.ID, el.ID, c.Key, len(locations))
					continue
				}
				if _, err := engine.Compile(locations[0]); err != nil || strings.HasPrefix(locations[0], el.ID) {
					t.Errorf("%s constraint %s: location %q is not a FHIRPath path relative to %s (%v)",
						sd.ID, c.Key, locations[0], el.ID, err)
				}
				checked++
			}
		}
	}
	if checked < 28 {
		t.Errorf("only %d constraints checked", checked)
	}
}

func clauseOf(exts any) string {
	list, _ := exts.([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m["url"] == "https://accord-fhir.github.io/ig/StructureDefinition/consensus-clause" {
			s, _ := m["valueCode"].(string)
			return s
		}
	}
	return ""
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestLoad_UnknownClauseLevel_Error(t *testing.T) {
	_, err := validation.Load(os.DirFS(profilesDir), validation.Options{Levels: validation.Levels{"9.9": validation.LevelOff}})
	if err == nil || !strings.Contains(err.Error(), `"9.9" is not a clause`) {
		t.Errorf("err = %v, want one naming the unknown clause", err)
	}
}

// TestLoad_BestPractice checks that the best-practice constraint dom-6 (a resource should have narrative) is
// left out of the service's pipeline, whose warnings go back with every write, and reported when asked.
func TestLoad_BestPractice(t *testing.T) {
	org := readExample(t, "Organization-gp-practice-example.json")
	delete(org, "text")
	if issues := newPipeline(t).Validate(context.Background(), org); len(issues) != 0 {
		t.Errorf("service pipeline: issues\n%s", describe(issues))
	}
	p, err := validation.Load(os.DirFS(profilesDir), validation.Options{BestPractice: true})
	if err != nil {
		t.Fatal(err)
	}
	issues := p.Validate(context.Background(), org)
	if len(issues) != 1 || issues[0].Severity != fhir.SeverityWarning || !strings.Contains(issues[0].Details, "dom-6") {
		t.Errorf("with best practice: issues\n%s", describe(issues))
	}
}

// TestGuide_ResourcesAreValidR4 validates the guide's own conformance resources and examples with the pipeline:
// no errors (the examples of the "accepted but recorded" rules have their warning).
func TestGuide_ResourcesAreValidR4(t *testing.T) {
	p := newPipeline(t)
	files, _ := filepath.Glob(filepath.Join(profilesDir, "ig", "*-*.json"))
	examples, _ := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if len(files) < 60 || len(examples) < 20 {
		t.Fatalf("%d resources and %d examples in the guide", len(files), len(examples))
	}
	for _, f := range append(files, examples...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := fhir.DecodeObject(data, fhir.MaxDepth)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if issues := p.Validate(context.Background(), obj); fhir.HasErrors(issues) {
			t.Errorf("%s:\n%s", filepath.Base(f), describe(issues))
		}
	}
}
