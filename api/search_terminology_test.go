package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

// searchTerminology is the data set of the token modifiers that need terminology (testdata/search/README.md).
const searchTerminology = "../testdata/search/terminology.json"

// The code systems and value sets the cases name: R4's and the guide's.
const (
	clinicalStatus = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	verStatus      = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	requestIntent  = "http://hl7.org/fhir/request-intent"
	clinicalVS     = "http://hl7.org/fhir/ValueSet/condition-clinical"
	followUpVS     = "https://accord-fhir.github.io/ig/ValueSet/follow-up-task-code"
)

// TestSearch_TokenTerminology: :in, :not-in, :below and :above on tokens, with the codes of R4's hierarchical
// code systems and of value sets of R4 and of the guide; the expectations are derived by hand from
// testdata/search/terminology.json.
func TestSearch_TokenTerminology(t *testing.T) {
	s := apitest.Start(t)
	loadResources(t, s, readBundleResources(t, searchTerminology))
	q := url.QueryEscape
	withStatus := []string{"Condition/cond-active", "Condition/cond-recurrence", "Condition/cond-relapse",
		"Condition/cond-inactive", "Condition/cond-remission", "Condition/cond-resolved"}
	runSearchCases(t, s, []searchCase{
		{":in an R4 value set", "/Condition?clinical-status:in=" + q(clinicalVS), withStatus, false, nil},
		{":in, versioned", "/Condition?clinical-status:in=" + q(clinicalVS+"|4.0.1"), withStatus, false, nil},
		{":not-in: no code in the value set, no status included", "/Condition?clinical-status:not-in=" + q(clinicalVS),
			[]string{"Condition/cond-no-status"}, false, nil},
		{":below", "/Condition?clinical-status:below=" + q(clinicalStatus+"|active"),
			[]string{"Condition/cond-active", "Condition/cond-recurrence", "Condition/cond-relapse"}, false, nil},
		{":below, the other branch", "/Condition?clinical-status:below=" + q(clinicalStatus+"|inactive"),
			[]string{"Condition/cond-inactive", "Condition/cond-remission", "Condition/cond-resolved"}, false, nil},
		{":below a leaf", "/Condition?clinical-status:below=" + q(clinicalStatus+"|recurrence"), []string{"Condition/cond-recurrence"}, false, nil},
		{":below, OR", "/Condition?clinical-status:below=" + q(clinicalStatus+"|inactive") + "," + q(clinicalStatus+"|recurrence"),
			[]string{"Condition/cond-inactive", "Condition/cond-remission", "Condition/cond-resolved", "Condition/cond-recurrence"}, false, nil},
		{":above", "/Condition?clinical-status:above=" + q(clinicalStatus+"|relapse"), []string{"Condition/cond-active", "Condition/cond-relapse"}, false, nil},
		{":above a root", "/Condition?clinical-status:above=" + q(clinicalStatus+"|active"), []string{"Condition/cond-active"}, false, nil},
		{":below another code system", "/Condition?verification-status:below=" + q(verStatus+"|unconfirmed"),
			[]string{"Condition/cond-recurrence", "Condition/cond-relapse", "Condition/cond-remission"}, false, nil},
		{"AND of two hierarchies", "/Condition?verification-status:below=" + q(verStatus+"|unconfirmed") + "&clinical-status:below=" + q(clinicalStatus+"|active"),
			[]string{"Condition/cond-recurrence", "Condition/cond-relapse"}, false, nil},
		{":in a guide value set by id", "/Condition?category:in=ValueSet/follow-up-task-code",
			[]string{"Condition/cond-active", "Condition/cond-recurrence"}, false, nil},
		{":in a guide value set by versioned canonical", "/Condition?category:in=" + q(followUpVS+"|0.1.0"),
			[]string{"Condition/cond-active", "Condition/cond-recurrence"}, false, nil},
		{":not-in a guide value set: another system's code, and no category, included", "/Condition?category:not-in=ValueSet/follow-up-task-code",
			[]string{"Condition/cond-relapse", "Condition/cond-inactive", "Condition/cond-remission", "Condition/cond-resolved", "Condition/cond-no-status"}, false, nil},
		{":in on a code element (no system)", "/Patient?gender:in=" + q("http://hl7.org/fhir/ValueSet/administrative-gender"),
			[]string{"Patient/term-pat-a", "Patient/term-pat-b"}, false, nil},
		{":not-in on a code element", "/Patient?gender:not-in=" + q("http://hl7.org/fhir/ValueSet/administrative-gender"), []string{"Patient/term-pat-c"}, false, nil},
		{":below, three levels, code element", "/Task?intent:below=" + q(requestIntent+"|order"),
			[]string{"Task/task-order", "Task/task-filler", "Task/task-instance"}, false, nil},
		{":below the middle level", "/Task?intent:below=" + q(requestIntent+"|filler-order"), []string{"Task/task-filler", "Task/task-instance"}, false, nil},
		{":above, three levels", "/Task?intent:above=" + q(requestIntent+"|instance-order"),
			[]string{"Task/task-order", "Task/task-filler", "Task/task-instance"}, false, nil},
		{"in a reverse chain", "/Patient?_has:Condition:subject:clinical-status:below=" + q(clinicalStatus+"|inactive"), []string{"Patient/term-pat-b"}, false, nil},
		{"in a chain", "/Condition?subject:Patient.gender:not-in=" + q("http://hl7.org/fhir/ValueSet/administrative-gender"),
			[]string{"Condition/cond-no-status"}, false, nil},
		{":not unchanged, with :below", "/Condition?clinical-status:not=active&clinical-status:below=" + q(clinicalStatus+"|active"),
			[]string{"Condition/cond-recurrence", "Condition/cond-relapse"}, false, nil},
	})
	r := s.Do(t, http.MethodPost, "/Condition/_search", "clinical-status:above="+q(clinicalStatus+"|remission"), "Content-Type", "application/x-www-form-urlencoded")
	if ss := parseSearchSet(t, r); len(ss.matches) != 2 {
		t.Errorf("POST _search :above remission: %v, want cond-inactive and cond-remission", ss.matches)
	}
	// What the server cannot answer is a 400 naming the parameter.
	for _, tc := range []struct{ path, mention, code string }{
		{"/Condition?code:below=" + q("http://snomed.info/sct|404684003"), "code:below", "not-supported"},
		{"/Condition?code:above=" + q("http://snomed.info/sct|404684003"), "code:above", "not-supported"},
		{"/Condition?code:in=" + q("http://hl7.org/fhir/ValueSet/condition-code"), "code:in", "not-supported"},
		{"/Condition?clinical-status:in=" + q("http://example.org/ValueSet/nope"), "clinical-status:in", "invalid"},
		{"/Condition?clinical-status:in=" + q(clinicalVS+"|3.0.2"), "clinical-status:in", "invalid"},
		{"/Condition?clinical-status:not-in=ValueSet/nope", "clinical-status:not-in", "invalid"},
		{"/Condition?clinical-status:below=active", "clinical-status:below", "invalid"},
		{"/Condition?subject:Patient.gender:in=ValueSet/nope", "subject:Patient.gender:in", "invalid"},
		{"/Condition?onset-date:below=2020", "onset-date:below", "not-supported"},
		{"/Condition?_id:in=ValueSet/follow-up-task-code", "_id:in", "not-supported"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			oo := wantOutcome(t, s.Do(t, http.MethodGet, tc.path, nil), http.StatusBadRequest)
			if is := asList(oo["issue"])[0]; is["code"] != tc.code || str(get(is, "expression", 0)) != tc.mention {
				t.Errorf("issue %v, want code %s naming %s", is, tc.code, tc.mention)
			}
		})
	}
}

// TestSearch_Contained: _contained=false and _containedType=container are the defaults; searches of contained
// resources are refused as not supported, naming the parameter.
func TestSearch_Contained(t *testing.T) {
	s := startDataset(t)
	runSearchCases(t, s, []searchCase{
		{"_contained=false", "/Task?status=accepted&_contained=false", []string{"Task/task-2"}, false, nil},
		{"_containedType=container", "/Task?status=accepted&_containedType=container", []string{"Task/task-2"}, false, nil},
	})
	for _, tc := range []struct{ path, mention string }{
		{"/Task?_contained=true", "_contained"},
		{"/Task?_contained=both", "_contained"},
		{"/Task?_contained=sometimes", "_contained"},
		{"/Task?_containedType=contained", "_containedType"},
		{"/?_type=Task&_contained=true", "_contained"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			wantOutcome(t, s.Do(t, http.MethodGet, tc.path, nil), http.StatusBadRequest, tc.mention)
		})
	}
	cs := metadata(t, s)
	for _, res := range asList(get(cs, "rest", 0, "resource")) {
		for _, p := range asList(res["searchParam"]) {
			if n := str(p["name"]); n == "_contained" || n == "_containedType" {
				t.Errorf("%s lists the search parameter %s", res["type"], n)
			}
		}
	}
}
