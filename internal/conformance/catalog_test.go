package conformance

import (
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/accord-fhir/accord/fhir"
)

var loaded = time.Date(2025, 11, 21, 0, 0, 0, 0, time.UTC)

func guide(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load(os.DirFS("../../profiles"), loaded, "ig/*.json")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func ids(rs []fhir.Resource) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestLoad_Guide(t *testing.T) {
	c := guide(t)
	for _, typ := range Types {
		if len(c.byType[typ]) == 0 {
			t.Errorf("no %s in the guide", typ)
		}
	}
	r, err := c.Read("CodeSystem", "consensus-clause")
	if err != nil {
		t.Fatal(err)
	}
	obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	if obj["url"] != fhir.ClauseSystem || r.VersionID != "1" || !r.LastUpdated.Equal(loaded) {
		t.Errorf("read: url %v, version %s, lastUpdated %v", obj["url"], r.VersionID, r.LastUpdated)
	}
	if _, err := c.Read("CodeSystem", "nope"); !isCode(err, fhir.IssueNotFound) {
		t.Errorf("Read(nope): err = %v, want not-found", err)
	}
}

func isCode(err error, code fhir.IssueType) bool {
	fe, ok := fhir.AsError(err)
	return ok && fe.Code == code
}

func TestLoad_BadFiles_Error(t *testing.T) {
	vs := func(id, u string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(`{"resourceType":"ValueSet","id":"` + id + `","url":"` + u + `"}`)}
	}
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"url twice", fstest.MapFS{"a.json": vs("a", "u"), "b.json": vs("b", "u")}, "url u is defined twice"},
		{"id twice", fstest.MapFS{"a.json": vs("a", "u1"), "b.json": vs("a", "u2")}, "ValueSet/a is defined twice"},
		{"no id", fstest.MapFS{"a.json": vs("", "u")}, "no valid id"},
		{"no url", fstest.MapFS{"a.json": vs("a", "")}, "no url"},
		{"not JSON", fstest.MapFS{"a.json": {Data: []byte("{")}}, "a.json"},
		{"other types are skipped", fstest.MapFS{"a.json": {Data: []byte(`{"resourceType":"Patient","id":"p"}`)}, "package.json": {Data: []byte(`{"name":"x"}`)}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.files, loaded, "*.json")
			if tc.want == "" {
				if err != nil {
					t.Errorf("Load: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestSearch(t *testing.T) {
	c := guide(t)
	base := "https://accord-fhir.github.io/ig/"
	for _, tc := range []struct {
		typ, query string
		want       []string
		wantErr    fhir.IssueType
	}{
		{typ: "StructureDefinition", query: "type=MedicationRequest", want: []string{"accord-medicationrequest-continuation", "accord-medicationrequest-new"}},
		{typ: "StructureDefinition", query: "url=" + url.QueryEscape(base+"StructureDefinition/gp-continuation"), want: []string{"gp-continuation"}},
		{typ: "StructureDefinition", query: "name=AccordTaskO&name=AccordTaskObligation", want: []string{"accord-task-obligation"}},
		{typ: "StructureDefinition", query: "title:contains=GP&type=Task", want: []string{"accord-task-onward-referral-request", "accord-task-urgent-medicine-request"}},
		{typ: "CodeSystem", query: "_id=event-category,alternative-pathway", want: []string{"alternative-pathway", "event-category"}},
		{typ: "CodeSystem", query: "status=active&version=0.1.0&name:exact=eventcategory", want: []string{}},
		{typ: "ValueSet", query: "url=" + url.QueryEscape(base+"ValueSet/formulary|0.1.0"), want: []string{"formulary"}},
		{typ: "ValueSet", query: "publisher=acc", want: nil}, // every ValueSet
		{typ: "ValueSet", query: "type=x", wantErr: fhir.IssueNotSupported},
		{typ: "ValueSet", query: "name:text=x", wantErr: fhir.IssueInvalid},
		{typ: "ValueSet", query: "date=2025", wantErr: fhir.IssueNotSupported},
	} {
		t.Run(tc.typ+"?"+tc.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			got, err := c.Search(tc.typ, q)
			if tc.wantErr != "" {
				if !isCode(err, tc.wantErr) {
					t.Errorf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != len(got.Matches) {
				t.Errorf("total %d, %d matches", got.Total, len(got.Matches))
			}
			if tc.want == nil {
				if len(got.Matches) != len(c.byType[tc.typ]) {
					t.Errorf("%d matches, want all %d", len(got.Matches), len(c.byType[tc.typ]))
				}
				return
			}
			if !slices.Equal(ids(got.Matches), tc.want) {
				t.Errorf("ids = %v, want %v", ids(got.Matches), tc.want)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	files := fstest.MapFS{
		"cs.json": {Data: []byte(`{"resourceType":"CodeSystem","id":"cs","url":"urn:cs","content":"complete","concept":[
			{"code":"a","display":"Alpha","concept":[{"code":"a1","display":"Alpha one"}]},{"code":"b","display":"Beta"}]}`)},
		"all.json":    {Data: []byte(`{"resourceType":"ValueSet","id":"all","url":"urn:all","compose":{"include":[{"system":"urn:cs"}]}}`)},
		"listed.json": {Data: []byte(`{"resourceType":"ValueSet","id":"listed","url":"urn:listed","compose":{"include":[{"system":"urn:cs","concept":[{"code":"b"}]},{"system":"urn:ext","concept":[{"code":"x","display":"Ex"}]}]}}`)},
		"nested.json": {Data: []byte(`{"resourceType":"ValueSet","id":"nested","url":"urn:nested","compose":{"include":[{"valueSet":["urn:all"]}],"exclude":[{"system":"urn:cs","concept":[{"code":"a"}]}]}}`)},
		"ext.json":    {Data: []byte(`{"resourceType":"ValueSet","id":"ext","url":"urn:extvs","compose":{"include":[{"system":"http://snomed.info/sct"}]}}`)},
		"filter.json": {Data: []byte(`{"resourceType":"ValueSet","id":"filter","url":"urn:filter","compose":{"include":[{"system":"urn:cs","filter":[{"property":"concept","op":"is-a","value":"a"}]}]}}`)},
		"cycle1.json": {Data: []byte(`{"resourceType":"ValueSet","id":"cycle1","url":"urn:cycle1","compose":{"include":[{"valueSet":["urn:cycle2"]}]}}`)},
		"cycle2.json": {Data: []byte(`{"resourceType":"ValueSet","id":"cycle2","url":"urn:cycle2","compose":{"include":[{"valueSet":["urn:cycle1"]}]}}`)},
	}
	c, err := Load(files, loaded, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		req     ExpandRequest
		total   int
		want    []string // system|code|display
		wantErr fhir.IssueType
	}{
		{name: "whole code system, nested concepts", req: ExpandRequest{ID: "all", Count: -1}, total: 3,
			want: []string{"urn:cs|a|Alpha", "urn:cs|a1|Alpha one", "urn:cs|b|Beta"}},
		{name: "listed concepts, display from the code system", req: ExpandRequest{URL: "urn:listed", Count: -1}, total: 2,
			want: []string{"urn:cs|b|Beta", "urn:ext|x|Ex"}},
		{name: "value set with exclude", req: ExpandRequest{URL: "urn:nested|1.0", Count: -1}, total: 2,
			want: []string{"urn:cs|a1|Alpha one", "urn:cs|b|Beta"}},
		{name: "filter and paging", req: ExpandRequest{ID: "all", Filter: "ALPHA", Offset: 1, Count: 5}, total: 2,
			want: []string{"urn:cs|a1|Alpha one"}},
		{name: "offset beyond the end", req: ExpandRequest{ID: "all", Offset: 9, Count: -1}, total: 3, want: []string{}},
		{name: "unknown value set", req: ExpandRequest{URL: "urn:nope", Count: -1}, wantErr: fhir.IssueNotFound},
		{name: "a code system not in the guide", req: ExpandRequest{ID: "ext", Count: -1}, wantErr: fhir.IssueNotSupported},
		{name: "filters", req: ExpandRequest{ID: "filter", Count: -1}, wantErr: fhir.IssueNotSupported},
		{name: "value sets including each other", req: ExpandRequest{ID: "cycle1", Count: -1}, wantErr: fhir.IssueTooCostly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := c.Expand(tc.req)
			if tc.wantErr != "" {
				if !isCode(err, tc.wantErr) {
					t.Errorf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			exp := vs["expansion"].(map[string]any)
			got := []string{}
			contains, _ := exp["contains"].([]any)
			for _, x := range contains {
				m := x.(map[string]any)
				got = append(got, m["system"].(string)+"|"+m["code"].(string)+"|"+m["display"].(string))
			}
			if exp["total"] != tc.total || !slices.Equal(got, tc.want) || vs["compose"] != nil {
				t.Errorf("total %v, codes %v; want %d, %v", exp["total"], got, tc.total, tc.want)
			}
		})
	}
	var fe *fhir.Error
	if _, err := c.Expand(ExpandRequest{}); !errors.As(err, &fe) {
		t.Errorf("empty request: err = %v", err)
	}
}
