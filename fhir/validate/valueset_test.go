package validate

import (
	"errors"
	"os"
	"slices"
	"testing"
)

const testVS = "https://accord-fhir.github.io/ig/test/ValueSet/"

func readTestTerminology(t *testing.T) *terminology {
	t.Helper()
	defs, err := readDefinitions(os.DirFS("../../testdata/validate/terminology"), []string{"*.json"})
	if err != nil {
		t.Fatalf("readDefinitions: %v", err)
	}
	return newTerminology(defs)
}

// codes lists a set as sorted "code" entries, or "system|code" for codes of systems other than the shapes.
func codes(s *codeSet) []string {
	var out []string
	for c := range s.codings {
		if c.system == "https://accord-fhir.github.io/ig/test/CodeSystem/shapes" {
			out = append(out, c.code)
		} else {
			out = append(out, c.system+"|"+c.code)
		}
	}
	slices.Sort(out)
	return out
}

func TestExpand(t *testing.T) {
	terms := readTestTerminology(t)
	for _, tc := range []struct {
		vs   string
		want []string // nil when the value set cannot be expanded
	}{
		{"all", []string{"circle", "colour", "pentagon", "polygon", "shape", "square", "triangle"}},
		{"listed", []string{"circle", "unknown-but-listed"}},
		{"is-a-polygon", []string{"pentagon", "polygon", "square", "triangle"}},
		{"descendent-of-polygon", []string{"pentagon", "square", "triangle"}},
		{"is-not-a-shape", []string{"colour"}}, // pentagon is a polygon by its subsumedBy property
		{"four-sides", []string{"square"}},
		{"regex", []string{"circle", "colour"}},
		{"in", []string{"circle", "square"}},
		{"two-filters", []string{"circle", "shape", "square", "triangle"}},
		{"union-with-other-system", []string{"circle", "http://example.org/other|circle"}},
		{"within-value-set", []string{"pentagon", "polygon", "square", "triangle"}},
		{"value-set-only", []string{"square"}},
		{"excluding", []string{"circle", "colour", "shape"}},
		{"unknown-system", nil},
		{"fragment", nil},
		{"unsupported-filter", nil},
		{"self", nil},
		{"not-loaded", nil},
	} {
		t.Run(tc.vs, func(t *testing.T) {
			s, err := terms.expand(testVS + tc.vs + "|0.1.0")
			if tc.want == nil {
				if !errors.Is(err, ErrUnexpandable) {
					t.Errorf("expand: err = %v, want ErrUnexpandable", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("expand: %v", err)
			}
			if got := codes(s); !slices.Equal(got, tc.want) {
				t.Errorf("expand = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCodeSet_CodeAloneAndWithSystem(t *testing.T) {
	s, err := readTestTerminology(t).expand(testVS + "union-with-other-system")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		system, code string
		want         bool
	}{
		{"", "circle", true},
		{"", "square", false},
		{"http://example.org/other", "circle", true},
		{"http://example.org/other", "square", false},
		{"http://example.org/third", "circle", false},
	} {
		got := s.hasCode(tc.code)
		if tc.system != "" {
			got = s.hasCoding(tc.system, tc.code)
		}
		if got != tc.want {
			t.Errorf("contains(%q, %q) = %v, want %v", tc.system, tc.code, got, tc.want)
		}
	}
}

func TestExpand_CoreValueSets(t *testing.T) {
	defs, err := readDefinitions(os.DirFS("../../profiles"), []string{"r4/terminology.json.gz"})
	if err != nil {
		t.Fatalf("readDefinitions: %v", err)
	}
	terms := newTerminology(defs)
	for _, tc := range []struct {
		vs      string
		n       int
		has     string
		hasNot  string
		systems string
	}{
		// include.system: every concept of a code system
		{"http://hl7.org/fhir/ValueSet/administrative-gender", 4, "unknown", "M", "http://hl7.org/fhir/administrative-gender"},
		{"http://hl7.org/fhir/ValueSet/task-status", 12, "in-progress", "started", "http://hl7.org/fhir/task-status"},
		// a v3 value set of another version, kept because Composition.confidentiality needs it
		{"http://terminology.hl7.org/ValueSet/v3-ConfidentialityClassification|2014-03-26", 6, "R", "X",
			"http://terminology.hl7.org/CodeSystem/v3-Confidentiality"},
		// include.concept
		{"http://hl7.org/fhir/ValueSet/units-of-time", 7, "wk", "week", "http://unitsofmeasure.org"},
	} {
		t.Run(tc.vs, func(t *testing.T) {
			s, err := terms.expand(tc.vs)
			if err != nil {
				t.Fatalf("expand: %v", err)
			}
			if len(s.codings) != tc.n || !s.hasCoding(tc.systems, tc.has) || s.hasCode(tc.hasNot) {
				t.Errorf("expand = %d codes %v; want %d with %s|%s, without %s", len(s.codings), codes(s), tc.n,
					tc.systems, tc.has, tc.hasNot)
			}
		})
	}
}

func TestExpand_NestedCoreConcepts(t *testing.T) {
	defs, err := readDefinitions(os.DirFS("../../profiles"), []string{"r4/terminology.json.gz"})
	if err != nil {
		t.Fatal(err)
	}
	terms := newTerminology(defs)
	for vs, nested := range map[string]string{
		"http://hl7.org/fhir/ValueSet/observation-status": "corrected", // below final > amended
		"http://hl7.org/fhir/ValueSet/name-use":           "maiden",    // below old
		"http://hl7.org/fhir/ValueSet/request-intent":     "reflex-order",
	} {
		s, err := terms.expand(vs)
		if err != nil {
			t.Fatal(err)
		}
		if !s.hasCode(nested) {
			t.Errorf("%s lacks the nested code %s: %v", vs, nested, codes(s))
		}
	}
}
