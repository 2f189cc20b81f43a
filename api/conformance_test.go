package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/fhir"
)

const igBase = "https://accord-fhir.github.io/ig"

// searchIDs returns the ids of the match entries of a searchset, checking its total.
func searchIDs(t testing.TB, r *apitest.Response) []string {
	t.Helper()
	wantStatus(t, r, http.StatusOK, "search")
	b := r.JSON(t)
	var ids []string
	for _, e := range asList(b["entry"]) {
		ids = append(ids, strOf(get(e, "resource", "id")))
	}
	if total, _ := b["total"].(json.Number); string(total) != strconv.Itoa(len(ids)) {
		t.Errorf("total %v, want %d", b["total"], len(ids))
	}
	return ids
}

func TestConformance_ReadAndSearch(t *testing.T) {
	s := apitest.Start(t)
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"by url", "/StructureDefinition?url=" + url.QueryEscape(igBase+"/StructureDefinition/accord-task"), []string{"accord-task"}},
		{"by versioned url", "/StructureDefinition?url=" + url.QueryEscape(igBase+"/StructureDefinition/accord-task|0.1.0"), []string{"accord-task"}},
		{"by url, other version", "/StructureDefinition?url=" + url.QueryEscape(igBase+"/StructureDefinition/accord-task|9"), nil},
		{"by type", "/StructureDefinition?type=Appointment", []string{"accord-appointment"}},
		{"by type, several values", "/StructureDefinition?type=Organization,HealthcareService", []string{"accord-healthcareservice", "accord-organization"}},
		{"by name prefix, any case", "/StructureDefinition?name=accordtaskre", []string{"accord-task-referral-response"}},
		{"by exact name", "/ValueSet?name:exact=Formulary", []string{"formulary"}},
		{"by name and version", "/CodeSystem?name=ConsensusClause&version=0.1.0", []string{"consensus-clause"}},
		{"no match", "/CodeSystem?name=Nothing", nil},
		{"implementation guide", "/ImplementationGuide", []string{"accord"}},
		{"result parameters apply (one page of one)", "/ImplementationGuide?_count=1&_sort=name", []string{"accord"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := searchIDs(t, s.Do(t, http.MethodGet, tc.path, nil)); !slices.Equal(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
		})
	}

	r := s.Do(t, http.MethodGet, "/CodeSystem/consensus-clause", nil)
	wantStatus(t, r, http.StatusOK, "read")
	cs := r.JSON(t)
	if cs["url"] != fhir.ClauseSystem || len(asList(cs["concept"])) != 34 || get(cs, "meta", "versionId") != "1" {
		t.Errorf("read CodeSystem/consensus-clause: url %v, %d concepts, meta %v", cs["url"], len(asList(cs["concept"])), cs["meta"])
	}
	if r.Header.Get("ETag") != `W/"1"` {
		t.Errorf("ETag %q", r.Header.Get("ETag"))
	}

	all := searchIDs(t, s.Do(t, http.MethodGet, "/StructureDefinition", nil))
	files, _ := filepath.Glob("../profiles/ig/StructureDefinition-*.json")
	if len(all) != len(files) || len(all) < 30 {
		t.Errorf("%d StructureDefinitions served, %d files in profiles/ig", len(all), len(files))
	}
}

func TestConformance_ReadOnlyAndErrors(t *testing.T) {
	s := apitest.Start(t)
	sd, err := os.ReadFile("../profiles/ig/StructureDefinition-accord-task.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{http.MethodPost, "/StructureDefinition", sd, http.StatusMethodNotAllowed},
		{http.MethodPut, "/StructureDefinition/accord-task", sd, http.StatusMethodNotAllowed},
		{http.MethodDelete, "/CodeSystem/consensus-clause", nil, http.StatusMethodNotAllowed},
		{http.MethodPatch, "/ValueSet/formulary", `[]`, http.StatusMethodNotAllowed},
		{http.MethodGet, "/ValueSet/formulary/_history", nil, http.StatusMethodNotAllowed},
		{http.MethodGet, "/StructureDefinition/no-such-profile", nil, http.StatusNotFound},
		{http.MethodGet, "/StructureDefinition?kind=resource", nil, http.StatusBadRequest},
		{http.MethodGet, "/ValueSet?type=Task", nil, http.StatusBadRequest},
		{http.MethodGet, "/StructureDefinition?url:below=x", nil, http.StatusBadRequest},
		{http.MethodGet, "/CodeSystem/consensus-clause/$lookup", nil, http.StatusNotFound},
		{http.MethodGet, "/ValueSet/$expand", nil, http.StatusBadRequest},
		{http.MethodGet, "/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/task-status", nil, http.StatusNotFound},
		{http.MethodGet, "/ValueSet/formulary/$expand?count=-1", nil, http.StatusBadRequest},
		{http.MethodPost, "/StructureDefinition/$validate", sd, http.StatusOK},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := s.Do(t, tc.method, tc.path, tc.body)
			wantStatus(t, r, tc.status, tc.path)
			if tc.status != http.StatusOK && r.JSON(t)["resourceType"] != "OperationOutcome" {
				t.Errorf("body is not an OperationOutcome: %s", r.Body)
			}
		})
	}
}

func TestConformance_Expand(t *testing.T) {
	s := apitest.Start(t)
	codes := func(t *testing.T, r *apitest.Response) (total string, out []string) {
		t.Helper()
		wantStatus(t, r, http.StatusOK, "$expand")
		vs := r.JSON(t)
		if vs["resourceType"] != "ValueSet" || vs["compose"] != nil {
			t.Errorf("not an expanded ValueSet: %v", vs)
		}
		for _, c := range asList(get(vs, "expansion", "contains")) {
			if c["system"] == nil || c["display"] == nil {
				t.Errorf("code without system or display: %v", c)
			}
			out = append(out, strOf(c["code"]))
		}
		n, _ := get(vs, "expansion", "total").(json.Number)
		return string(n), out
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		total              string
		want               []string
	}{
		{"type level by url", http.MethodGet, "/ValueSet/$expand?url=" + url.QueryEscape(igBase+"/ValueSet/alternative-pathway"), nil, "7",
			[]string{"advice-and-guidance", "primary-care-management", "community-service", "other-specialty", "diagnostics-first", "self-management", "urgent-care"}},
		{"instance level, concepts listed", http.MethodGet, "/ValueSet/follow-up-task-code/$expand", nil, "4",
			[]string{"test", "recall", "follow-up", "shared-care-monitoring"}},
		{"filter and paging", http.MethodGet, "/ValueSet/alternative-pathway/$expand?filter=CARE&offset=1&count=1", nil, "2",
			[]string{"urgent-care"}},
		{"POST with Parameters", http.MethodPost, "/ValueSet/$expand", map[string]any{"resourceType": "Parameters", "parameter": []any{
			map[string]any{"name": "url", "valueUri": igBase + "/ValueSet/obligation-state"},
			map[string]any{"name": "count", "valueInteger": 2}}}, "4", []string{"open", "fulfilled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			total, got := codes(t, s.Do(t, tc.method, tc.path, tc.body))
			if total != tc.total || !slices.Equal(got, tc.want) {
				t.Errorf("total %s, codes %v; want %s, %v", total, got, tc.total, tc.want)
			}
		})
	}
}
