package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

// The guide's resources are loaded at 2025-11-21T00:00:00Z in the test stack (apitest), all 14 ValueSets at
// version 0.1.0, active, published by Accord, without meta tags, profiles, security labels or source.
const guideValueSets = 14

// conformanceTypes are the types the catalog serves.
var conformanceTypes = []string{"CodeSystem", "ImplementationGuide", "OperationDefinition", "StructureDefinition", "ValueSet"}

// searchAll returns the ids of every match of a search, unpaged, checking that the total counts them.
func searchAll(t testing.TB, s *apitest.Server, path string) []string {
	t.Helper()
	ss := parseSearchSet(t, s.Do(t, http.MethodGet, path, nil))
	if ss.total == nil || *ss.total != len(ss.matches) {
		t.Errorf("GET %s: total %v, %d matches", path, ss.total, len(ss.matches))
	}
	if _, ok := ss.links["next"]; ok {
		t.Errorf("GET %s: a next link without _count", path)
	}
	return idsOf(ss.matches)
}

// TestConformanceSearch_Paging pages through searches of the guide with _count, forward by the next links to
// the end and back by the previous ones: every match once, in the order of the unpaged search, no page larger
// than _count, the total of the whole search on every page, and a self link that gives its page again.
func TestConformanceSearch_Paging(t *testing.T) {
	s := apitest.Start(t)
	for _, tc := range []struct{ typ, query string }{
		{"ValueSet", ""}, {"ValueSet", "_sort=-name"}, {"CodeSystem", "_sort=url"}, {"StructureDefinition", "_sort=type,-_id"},
		{"StructureDefinition", "type=Task"}, {"ValueSet", "_summary=true&_sort=-_lastUpdated"}, {"ImplementationGuide", ""},
	} {
		for _, count := range []int{1, 2, 5, 50} {
			path := "/" + tc.typ + "?" + tc.query
			t.Run(path+"&_count="+strconv.Itoa(count), func(t *testing.T) {
				want := searchAll(t, s, path)
				var pages []searchSet
				ss := parseSearchSet(t, s.Do(t, http.MethodGet, path+"&_count="+strconv.Itoa(count), nil))
				var forward []string
				for {
					checkConformancePage(t, s, ss, count, len(want), len(pages) == 0)
					pages = append(pages, ss)
					forward = append(forward, idsOf(ss.matches)...)
					next, ok := ss.links["next"]
					if !ok {
						break
					}
					if len(pages) > len(want) {
						t.Fatalf("more pages than matches: the next links do not end")
					}
					ss = parseSearchSet(t, s.Do(t, http.MethodGet, pathOf(t, s, next), nil))
				}
				if !slices.Equal(forward, want) {
					t.Fatalf("forward pages %v, want %v", forward, want)
				}
				var backward []string
				for ss := pages[len(pages)-1]; ss.links["previous"] != ""; {
					ss = parseSearchSet(t, s.Do(t, http.MethodGet, pathOf(t, s, ss.links["previous"]), nil))
					backward = append(idsOf(ss.matches), backward...)
				}
				if last := pages[len(pages)-1]; !slices.Equal(append(backward, idsOf(last.matches)...), want) {
					t.Errorf("backward pages %v, then the last page, want %v", backward, want)
				}
			})
		}
	}
}

// checkConformancePage checks one page of a paged search of the guide.
func checkConformancePage(t testing.TB, s *apitest.Server, ss searchSet, count, total int, first bool) {
	t.Helper()
	if len(ss.matches) > count || ss.total == nil || *ss.total != total {
		t.Errorf("a page of %d matches (_count=%d), total %v (want %d)", len(ss.matches), count, ss.total, total)
	}
	if _, ok := ss.links["previous"]; ok == first {
		t.Errorf("previous link %q on the first page %v", ss.links["previous"], first)
	}
	for rel, link := range ss.links {
		if u, err := url.Parse(link); err != nil || u.Query().Get("_count") != strconv.Itoa(count) {
			t.Errorf("%s link %q does not keep _count=%d", rel, link, count)
		}
	}
	again := parseSearchSet(t, s.Do(t, http.MethodGet, pathOf(t, s, ss.links["self"]), nil))
	if !slices.Equal(again.matches, ss.matches) {
		t.Errorf("the self link %s gives %v, want %v", ss.links["self"], again.matches, ss.matches)
	}
}

// TestConformanceSearch_Parameters checks each search parameter of the guide's types on the ValueSets (and
// type on the StructureDefinitions), each result parameter, and their combinations.
func TestConformanceSearch_Parameters(t *testing.T) {
	s := apitest.Start(t)
	all := searchAll(t, s, "/ValueSet")
	byName := slices.Clone(all) // the names of the guide's ValueSets are their ids in camel case
	slices.SortFunc(byName, func(a, b string) int {
		return strings.Compare(strings.ReplaceAll(a, "-", ""), strings.ReplaceAll(b, "-", ""))
	})
	for _, tc := range []struct {
		name, query string
		want        []string // nil: every ValueSet
	}{
		{"_id", "_id=formulary,obligation-state", []string{"formulary", "obligation-state"}},
		{"_id:not", "_id:not=formulary&name=formulary", []string{"formulary-status"}},
		{"_lastUpdated lt before the load", "_lastUpdated=lt2000", []string{}},
		{"_lastUpdated ge before the load", "_lastUpdated=ge2000", nil},
		{"_lastUpdated eq the day", "_lastUpdated=2025-11-21", nil},
		{"_lastUpdated eq the instant", "_lastUpdated=2025-11-21T00:00:00.000Z", nil},
		{"_lastUpdated eq another day", "_lastUpdated=eq2025-11-20", []string{}},
		{"_lastUpdated gt the day", "_lastUpdated=gt2025-11-21", []string{}},
		{"_lastUpdated gt the day before", "_lastUpdated=gt2025-11-20", nil},
		{"_lastUpdated le the day", "_lastUpdated=le2025-11-21", nil},
		{"_lastUpdated lt the next second", "_lastUpdated=lt2025-11-21T00:00:01Z", nil},
		{"_lastUpdated ne the day", "_lastUpdated=ne2025-11-21", []string{}},
		{"_lastUpdated sa the day before", "_lastUpdated=sa2025-11-20", nil},
		{"_lastUpdated eb the next day", "_lastUpdated=eb2025-11-22", nil},
		{"_lastUpdated ap the month", "_lastUpdated=ap2025-11", nil},
		{"_lastUpdated range", "_lastUpdated=ge2025-11-21&_lastUpdated=lt2025-11-22", nil},
		{"_tag", "_tag=foo", []string{}},
		{"_tag with a system", "_tag=http://example.org|foo", []string{}},
		{"_tag:not", "_tag:not=foo", nil},
		{"_tag:text", "_tag:text=foo", []string{}},
		{"_tag:missing", "_tag:missing=true", nil},
		{"_profile", "_profile=" + url.QueryEscape(igBase+"/StructureDefinition/accord-task"), []string{}},
		{"_profile:missing", "_profile:missing=false", []string{}},
		{"_security", "_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R", []string{}},
		{"_security:missing", "_security:missing=true", nil},
		{"_source", "_source=urn:example", []string{}},
		{"url", "url=" + url.QueryEscape(igBase+"/ValueSet/formulary"), []string{"formulary"}},
		{"url|version", "url=" + url.QueryEscape(igBase+"/ValueSet/formulary|0.1.0"), []string{"formulary"}},
		{"url of no ValueSet", "url=" + url.QueryEscape(igBase+"/ValueSet/formular"), []string{}},
		{"name prefix", "name=formulary", []string{"formulary", "formulary-status"}},
		{"name:exact", "name:exact=Formulary", []string{"formulary"}},
		{"name:contains", "name:contains=STATUS", []string{"formulary-status"}},
		{"name:missing", "name:missing=true", []string{}},
		{"title", "title=accord", []string{"accord-tag", "event-category", "task-parameter-type"}},
		{"version", "version=0.1.0", nil},
		{"version without a system", "version=|0.1.0", nil},
		{"version of no ValueSet", "version=0.2.0", []string{}},
		{"status", "status=active", nil},
		{"status:not", "status:not=active", []string{}},
		{"publisher", "publisher=Accord", nil},
		{"several parameters", "status=active&publisher=acc&name=obligation", []string{"obligation-state"}},
		{"empty values are ignored", "name=&_tag=", nil},
		{"_sort by name", "_sort=name", byName},
		{"_sort by name descending", "_sort=-name", reversed(byName)},
		{"_sort by _id descending", "_sort=-_id", reversed(all)},
		{"_sort by _lastUpdated, ties by id", "_sort=_lastUpdated", all},
		{"_sort by several keys", "_sort=status,-version,-_id", reversed(all)},
		{"_sort by a parameter nobody has", "_sort=-_tag", reversed(all)},
		{"_sort by url with a criterion", "_sort=url&url:missing=false", all},
		{"_total=accurate", "_total=accurate", nil},
		{"_total=estimate", "_total=estimate", nil},
		{"_contained at its default", "_contained=false&_containedType=container", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = all
			}
			if got := searchAll(t, s, "/ValueSet?"+tc.query); !slices.Equal(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
		})
	}
	for _, tc := range []struct{ query, want string }{
		{"type=Appointment", "accord-appointment"},
		{"type=" + url.QueryEscape("Task") + "&name=AccordTaskObligation", "accord-task-obligation"},
	} {
		if got := searchAll(t, s, "/StructureDefinition?"+tc.query); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("StructureDefinition?%s: %v, want %s", tc.query, got, tc.want)
		}
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// TestConformanceSearch_ResultParameters checks _count, _summary, _elements and _total on the guide's
// ValueSets: what each entry keeps, whether it is marked SUBSETTED, and the total.
func TestConformanceSearch_ResultParameters(t *testing.T) {
	s := apitest.Start(t)
	for _, tc := range []struct {
		name, query string
		entries     int
		total       bool
		keep, drop  []string // elements every entry keeps, or none has
		subsetted   bool
	}{
		{"_count", "_count=2", 2, true, []string{"url", "compose"}, nil, false},
		{"_count beyond the matches", "_count=100", guideValueSets, true, nil, nil, false},
		{"_count=0: the total alone", "_count=0", 0, true, nil, nil, false},
		{"_summary=count: the total alone", "_summary=count&_count=3", 0, true, nil, nil, false},
		{"_summary=true", "_summary=true", guideValueSets, true, []string{"url", "name", "status", "version"}, []string{"compose", "description"}, true},
		{"_summary=text", "_summary=text", guideValueSets, true, []string{"status", "meta"}, []string{"url", "name", "compose"}, true},
		{"_summary=data", "_summary=data", guideValueSets, true, []string{"url", "compose"}, []string{"text"}, false},
		{"_summary=false", "_summary=false", guideValueSets, true, []string{"url", "compose", "description"}, nil, false},
		{"_elements", "_elements=url,name&_count=4", 4, true, []string{"url", "name", "status", "id", "meta"}, []string{"compose", "title", "version"}, true},
		{"_total=none", "_total=none&_count=2", 2, false, nil, nil, false},
		{"_total=accurate", "_total=accurate&_count=2", 2, true, nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := parseSearchSet(t, s.Do(t, http.MethodGet, "/ValueSet?"+tc.query, nil))
			if len(ss.matches) != tc.entries || len(asList(ss.raw["entry"])) != tc.entries {
				t.Errorf("%d matches, %d entries, want %d", len(ss.matches), len(asList(ss.raw["entry"])), tc.entries)
			}
			if tc.total != (ss.total != nil) || (ss.total != nil && *ss.total != guideValueSets) {
				t.Errorf("total %v, want it %v (%d)", ss.total, tc.total, guideValueSets)
			}
			for _, e := range asList(ss.raw["entry"]) {
				res, _ := e["resource"].(map[string]any)
				for _, k := range tc.keep {
					if res[k] == nil {
						t.Errorf("%s has no %s", res["id"], k)
					}
				}
				for _, k := range tc.drop {
					if res[k] != nil {
						t.Errorf("%s has %s", res["id"], k)
					}
				}
				if got := hasSubsettedTag(res); got != tc.subsetted {
					t.Errorf("%s: SUBSETTED tag %v, want %v", res["id"], got, tc.subsetted)
				}
			}
		})
	}
}

func hasSubsettedTag(res map[string]any) bool {
	return slices.ContainsFunc(asList(get(res, "meta", "tag")), func(tag map[string]any) bool { return tag["code"] == "SUBSETTED" })
}

// TestConformanceSearch_Refused checks that what the catalog does not implement, and malformed values, are a
// 400 naming the parameter, in GET and in POST _search alike: nothing is silently ignored.
func TestConformanceSearch_Refused(t *testing.T) {
	s := apitest.Start(t)
	for _, tc := range []struct{ typ, query, param string }{
		{"ValueSet", "_count=abc", "_count"},
		{"CodeSystem", "_count=-2", "_count"},
		{"ValueSet", "_sort=bogus", "_sort"},
		{"StructureDefinition", "_sort=kind", "_sort"},
		{"ValueSet", "_sort=type", "_sort"},
		{"ValueSet", "_summary=yes", "_summary"},
		{"ValueSet", "_total=exact", "_total"},
		{"ValueSet", "_cursor=not-a-cursor", "_cursor"},
		{"ValueSet", "_lastUpdated=lt20-01", "_lastUpdated"},
		{"ValueSet", "_lastUpdated=xx2025", "_lastUpdated"},
		{"ValueSet", "_id:missing=maybe", "_id:missing"},
		{"ValueSet", "_tag:in=" + url.QueryEscape(igBase+"/ValueSet/accord-tag"), "_tag:in"},
		{"ValueSet", "_tag:below=urn:t|x", "_tag:below"},
		{"ValueSet", "_profile:below=" + url.QueryEscape(igBase), "_profile:below"},
		{"StructureDefinition", "url:below=x", "url:below"},
		{"ValueSet", "name:text=x", "name:text"},
		{"ValueSet", "_include=*", "_include"},
		{"ValueSet", "_revinclude=Task:focus", "_revinclude"},
		{"ValueSet", "_has:Task:focus:status=ready", "_has:Task:focus:status"},
		{"ValueSet", "_text=formulary", "_text"},
		{"ValueSet", "_contained=true", "_contained"},
		{"ValueSet", "_bogus=1", "_bogus"},
		{"ValueSet", "bogus=1", "bogus"},
		{"ValueSet", "date=2025", "date"},
		{"ValueSet", "type=Task", "type"},
		{"StructureDefinition", "kind=resource", "kind"},
		{"StructureDefinition", "name.url=x", "name.url"},
	} {
		t.Run(tc.typ+"?"+tc.query, func(t *testing.T) {
			wantOutcome(t, s.Do(t, http.MethodGet, "/"+tc.typ+"?"+tc.query, nil), http.StatusBadRequest, tc.param)
			wantOutcome(t, s.Do(t, http.MethodPost, "/"+tc.typ+"/_search", tc.query, "Content-Type", "application/x-www-form-urlencoded"),
				http.StatusBadRequest, tc.param)
		})
	}
	// Prefer: handling=lenient does not make the catalog ignore what it does not implement.
	wantOutcome(t, s.Do(t, http.MethodGet, "/ValueSet?bogus=1", nil, "Prefer", "handling=lenient"), http.StatusBadRequest, "bogus")
	// A page link of one order is not one of another's.
	ss := parseSearchSet(t, s.Do(t, http.MethodGet, "/ValueSet?_count=2&_sort=name", nil))
	u, err := url.Parse(ss.links["next"])
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("_sort", "-name")
	wantOutcome(t, s.Do(t, http.MethodGet, "/ValueSet?"+q.Encode(), nil), http.StatusBadRequest, "_cursor")
}

// TestConformanceSearch_CapabilityStatement checks that each conformance type lists the parameters the catalog
// implements, and that each works: by a value a resource holds (which finds it), with :missing (true and false
// split the resources), and in _sort both ways.
func TestConformanceSearch_CapabilityStatement(t *testing.T) {
	s := apitest.Start(t)
	common := []string{"_id", "_lastUpdated", "_profile", "_security", "_source", "_tag", "name", "publisher", "status", "title", "url", "version"}
	for _, res := range asList(get(metadata(t, s), "rest", 0, "resource")) {
		typ := str(res["type"])
		if !slices.Contains(conformanceTypes, typ) {
			continue
		}
		var listed []string
		for _, p := range asList(res["searchParam"]) {
			listed = append(listed, str(p["name"]))
			if !strings.HasPrefix(str(p["definition"]), "http://hl7.org/fhir/SearchParameter/") || p["type"] == nil {
				t.Errorf("%s %s: definition %v, type %v", typ, p["name"], p["definition"], p["type"])
			}
		}
		want := common
		if typ == "StructureDefinition" {
			want = append(slices.Clone(common), "type")
			slices.Sort(want)
		}
		if !slices.Equal(listed, want) {
			t.Errorf("%s lists %v, want %v", typ, listed, want)
		}
		all := searchAll(t, s, "/"+typ)
		first := read(t, s, typ, all[0])
		for _, name := range listed {
			t.Run(typ+" "+name, func(t *testing.T) { checkListedParam(t, s, typ, name, len(all), first) })
		}
	}
}

// checkListedParam checks one listed parameter of typ, of which the guide has n resources, first among them.
func checkListedParam(t *testing.T, s *apitest.Server, typ, name string, n int, first map[string]any) {
	value := str(first[name])
	switch name {
	case "_id":
		value = str(first["id"])
	case "_lastUpdated":
		value = str(get(first, "meta", "lastUpdated"))
	}
	if value != "" {
		if got := searchAll(t, s, "/"+typ+"?"+name+"="+url.QueryEscape(value)); !slices.Contains(got, str(first["id"])) {
			t.Errorf("%s=%s does not find %s: %v", name, value, first["id"], got)
		}
	}
	with := searchAll(t, s, "/"+typ+"?"+name+":missing=false")
	without := searchAll(t, s, "/"+typ+"?"+name+":missing=true")
	if len(with)+len(without) != n || (value != "") != slices.Contains(with, str(first["id"])) {
		t.Errorf(":missing=false finds %d, :missing=true %d, of %d", len(with), len(without), n)
	}
	up, down := searchAll(t, s, "/"+typ+"?_sort="+name), searchAll(t, s, "/"+typ+"?_sort=-"+name)
	if len(up) != n || len(down) != n {
		t.Errorf("_sort=%s finds %d, _sort=-%s %d, of %d", name, len(up), name, len(down), n)
	}
}
