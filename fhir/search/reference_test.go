package search

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseReference_OwnBase(t *testing.T) {
	const base = "http://fhir.test/r4"
	for _, tc := range []struct {
		name, query, base string
		want              []string // the keys of the first value (all of them, or a subset for ids without a type)
		subset            bool
	}{
		{"relative, base known", "subject=Patient/x", base, []string{"Patient/x", base + "/Patient/x"}, false},
		{"relative, base unknown", "subject=Patient/x", "", []string{"Patient/x"}, false},
		{"absolute under the base", "subject=" + base + "/Patient/x", base, []string{base + "/Patient/x", "Patient/x"}, false},
		{"absolute under the base, versioned", "subject=" + base + "/Patient/x/_history/2", base, []string{base + "/Patient/x", "Patient/x"}, false},
		{"absolute elsewhere", "subject=http://other.test/Patient/x", base, []string{"http://other.test/Patient/x"}, false},
		{"absolute under a longer base", "subject=" + base + "x/Patient/x", base, []string{base + "x/Patient/x"}, false},
		{"id alone", "subject=x", base, []string{"Patient/x", base + "/Patient/x", "Group/x", base + "/Group/x", "x"}, true},
		{":Patient with an id", "subject:Patient=x", base, []string{"Patient/x", base + "/Patient/x"}, false},
		{":Patient with Type/id", "subject:Patient=Patient/x", base, []string{"Patient/x", base + "/Patient/x"}, false},
		{":Patient with an absolute url of the base", "subject:Patient=" + base + "/Patient/x", base, []string{"Patient/x", base + "/Patient/x"}, false},
		{"base with a trailing slash", "subject:Patient=" + base + "/Patient/x", base + "/", []string{"Patient/x", base + "/Patient/x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := mustParse(t, "Observation", tc.query, ParseOptions{BaseURL: tc.base})
			got := q.Criteria[0].Values[0].Refs
			if tc.subset {
				for _, w := range tc.want {
					if !slices.Contains(got, w) {
						t.Errorf("Parse(%s) refs %v lack %q", tc.query, got, w)
					}
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%s) refs (-want +got):\n%s", tc.query, diff)
			}
		})
	}
}

func TestParseReference_TypeModifier_OtherType_400(t *testing.T) {
	const base = "http://fhir.test"
	for _, v := range []string{"Group/x", base + "/Group/x", "http://other.test/Patient/x"} {
		params := url.Values{"subject:Patient": {v}}
		_, err := testRegistry(t).Parse("Observation", params, ParseOptions{BaseURL: base})
		if err == nil || !strings.Contains(err.Error(), "is not to a Patient") {
			t.Errorf("Parse(subject:Patient=%s) = %v, want an error: not to a Patient", v, err)
		}
	}
}
