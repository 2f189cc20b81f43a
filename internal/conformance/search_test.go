package conformance

import (
	"net/url"
	"os"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
)

// TestDefinitions_AreR4s checks that each parameter the catalog implements is R4's: its canonical URL, code and
// type, and on each type the part of R4's expression that applies to it.
func TestDefinitions_AreR4s(t *testing.T) {
	r4, err := fhirsearch.Load(os.DirFS("../../profiles"), fhirpath.NewEngine())
	if err != nil {
		t.Fatal(err)
	}
	ours, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range Types {
		defs := SearchParams(typ)
		if len(defs) < 12 {
			t.Errorf("%s: %d search parameters, want at least 12", typ, len(defs))
		}
		for _, d := range defs {
			got, _ := ours.Param(typ, d.Code)
			want, ok := r4.Param(typ, d.Code)
			if !ok {
				t.Errorf("%s: R4 has no search parameter %s", typ, d.Code)
				continue
			}
			if diff := cmp.Diff([]string{want.URL, want.Code, string(want.Type), want.Expression},
				[]string{got.URL, got.Code, string(got.Type), got.Expression}); diff != "" {
				t.Errorf("%s %s is not R4's (-R4 +ours):\n%s", typ, d.Code, diff)
			}
		}
	}
}

// metaGuide is a guide of three ValueSets: a with a tag, a profile, a security label and a source, b with
// another tag, c without meta.
func metaGuide(t *testing.T) *Catalog {
	t.Helper()
	vs := func(id, meta string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(`{"resourceType":"ValueSet","id":"` + id + `","url":"urn:vs:` + id + `","status":"active"` + meta + `}`)}
	}
	c, err := Load(fstest.MapFS{
		"a.json": vs("a", `,"meta":{"tag":[{"system":"urn:t","code":"x","display":"Ex tag"}],"profile":["urn:p1"],
			"security":[{"system":"urn:s","code":"R"}],"source":"urn:src#1"}`),
		"b.json": vs("b", `,"meta":{"tag":[{"system":"urn:t","code":"y"}]}`),
		"c.json": vs("c", ``),
	}, loaded, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSearch_Meta(t *testing.T) {
	c := metaGuide(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"_tag=x", []string{"a"}},
		{"_tag=urn:t|", []string{"a", "b"}},
		{"_tag=urn:t|y", []string{"b"}},
		{"_tag=|x", []string{}}, // x has a system
		{"_tag=urn:other|x", []string{}},
		{"_tag=x,y", []string{"a", "b"}},
		{"_tag:not=x", []string{"b", "c"}},
		{"_tag:text=ex", []string{"a"}},
		{"_tag:missing=true", []string{"c"}},
		{"_tag:missing=false", []string{"a", "b"}},
		{"_profile=urn:p1", []string{"a"}},
		{"_profile=urn:p", []string{}},
		{"_profile:missing=false", []string{"a"}},
		{"_security=urn:s|R", []string{"a"}},
		{"_security=R&_tag=y", []string{}},
		{"_source=urn:src#1", []string{"a"}},
		{"_sort=_tag", []string{"c", "a", "b"}},
		{"_sort=-_tag", []string{"b", "a", "c"}},
		{"_sort=-_profile", []string{"a", "c", "b"}}, // b and c have none: last, by id descending
		{"_sort=status,_tag", []string{"c", "a", "b"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			page, err := c.Search("ValueSet", q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page.Matches); !slices.Equal(got, tc.want) {
				t.Errorf("ids %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSearch_Refused(t *testing.T) {
	c := metaGuide(t)
	for _, tc := range []struct {
		query, expression string
		code              fhir.IssueType
	}{
		{"_count=abc", "_count", fhir.IssueInvalid},
		{"_count=-1", "_count", fhir.IssueInvalid},
		{"_sort=bogus", "_sort", fhir.IssueInvalid},
		{"_summary=short", "_summary", fhir.IssueInvalid},
		{"_total=all", "_total", fhir.IssueInvalid},
		{"_cursor=eyJvIjoiIiwibiI6MX0&_sort=_id", "_cursor", fhir.IssueInvalid}, // a cursor of the order by id
		{"_cursor=~~~", "_cursor", fhir.IssueInvalid},
		{"_lastUpdated=yesterday", "_lastUpdated", fhir.IssueInvalid},
		{"_tag=a|b|c", "_tag", fhir.IssueInvalid},
		{"_tag:in=urn:vs", "_tag:in", fhir.IssueNotSupported},
		{"_profile:below=urn:p", "_profile:below", fhir.IssueNotSupported},
		{"url:above=urn:vs:a", "url:above", fhir.IssueNotSupported},
		{"name:below=x", "name:below", fhir.IssueNotSupported},
		{"name:text=x", "name:text", fhir.IssueInvalid},
		{"_include=*", "_include", fhir.IssueNotSupported},
		{"_revinclude=Task:focus", "_revinclude", fhir.IssueNotSupported},
		{"_include:iterate=ValueSet:x", "_include:iterate", fhir.IssueNotSupported},
		{"_has:Task:focus:status=ready", "_has:Task:focus:status", fhir.IssueNotSupported},
		{"date=2025", "date", fhir.IssueNotSupported},
		{"type=Task", "type", fhir.IssueNotSupported},
		{"bogus=1", "bogus", fhir.IssueNotSupported},
		{"_bogus=1", "_bogus", fhir.IssueNotSupported},
		{"_text=x", "_text", fhir.IssueNotSupported},
		{"_contained=true", "_contained", fhir.IssueNotSupported},
		{"name.x=1", "name.x", fhir.IssueInvalid},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Search("ValueSet", q)
			fe, ok := fhir.AsError(err)
			if !ok || fe.Code != tc.code || len(fe.Issues) != 1 || !slices.Equal(fe.Issues[0].Expression, []string{tc.expression}) {
				t.Errorf("err = %v, want %s at %s", err, tc.code, tc.expression)
			}
		})
	}
}
