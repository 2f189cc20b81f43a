package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
)

// searchCase is a search and the resources it must return, derived by hand from testdata/search/dataset.json
// and R4's rules (https://hl7.org/fhir/R4/search.html).
type searchCase struct {
	name, path string
	want       []string // "Type/id" of the matches; in this order when ordered
	ordered    bool
	included   []string // "Type/id" of the included resources, in any order
}

func runSearchCases(t *testing.T, s *apitest.Server, cases []searchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ss := parseSearchSet(t, s.Do(t, http.MethodGet, tc.path, nil))
			got, want := slices.Clone(ss.matches), slices.Clone(tc.want)
			if !tc.ordered {
				slices.Sort(got)
				slices.Sort(want)
			}
			if !slices.Equal(got, want) {
				t.Errorf("GET %s\nmatches  %v\nwant     %v", tc.path, got, want)
			}
			wantIncl := slices.Clone(tc.included)
			slices.Sort(wantIncl)
			if !slices.Equal(ss.included, wantIncl) {
				t.Errorf("GET %s\nincluded %v\nwant     %v", tc.path, ss.included, wantIncl)
			}
			for _, o := range ss.outcome {
				t.Errorf("GET %s: unexpected warning %v", tc.path, o)
			}
		})
	}
}

func startDataset(t *testing.T) *apitest.Server {
	t.Helper()
	s := apitest.Start(t)
	loadResources(t, s, readBundleResources(t, searchDataset))
	return s
}

func TestSearch_String(t *testing.T) {
	s := startDataset(t)
	runSearchCases(t, s, []searchCase{
		{"starts with, accents and case ignored", "/Patient?name=zoe", []string{"Patient/pat-zoe"}, false, nil},
		{"upper case", "/Patient?name=ZO", []string{"Patient/pat-zoe"}, false, nil},
		{"accent in the data", "/Patient?name=evel", []string{"Patient/pat-eve"}, false, nil},
		{"accent in the query", "/Patient?name=%C3%89VEL", []string{"Patient/pat-eve"}, false, nil},
		{"apostrophe", "/Patient?name=o'b", []string{"Patient/pat-zoe"}, false, nil},
		{"any given name", "/Patient?name=bob", []string{"Patient/pat-bob"}, false, nil},
		{"not starting with", "/Patient?name=obert", nil, false, nil},
		{":contains", "/Patient?name:contains=obert", []string{"Patient/pat-bob"}, false, nil},
		{":exact", "/Patient?name:exact=Zo%C3%AB", []string{"Patient/pat-zoe"}, false, nil},
		{":exact is case sensitive", "/Patient?name:exact=zo%C3%AB", nil, false, nil},
		{":exact is accent sensitive", "/Patient?name:exact=Zoe", nil, false, nil},
		{"OR", "/Patient?family=smith,evans", []string{"Patient/pat-bob", "Patient/pat-eve"}, false, nil},
		{"AND", "/Patient?family=o&name=zo", []string{"Patient/pat-zoe"}, false, nil},
		{"address part", "/Patient?address-city=leeds", []string{"Patient/pat-bob"}, false, nil},
		{"organization name", "/Organization?name=bravo", []string{"Organization/org-bravo"}, false, nil},
	})
}

func TestSearch_Token(t *testing.T) {
	s := startDataset(t)
	runSearchCases(t, s, []searchCase{
		{"code", "/Patient?gender=female", []string{"Patient/pat-zoe", "Patient/pat-eve"}, false, nil},
		{":not", "/Patient?gender:not=female", []string{"Patient/pat-bob"}, false, nil},
		{"system|value", "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009", []string{"Patient/pat-zoe"}, false, nil},
		{"value in any system", "/Patient?identifier=9000000017", []string{"Patient/pat-bob"}, false, nil},
		{"system|", "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|", []string{"Patient/pat-zoe", "Patient/pat-bob"}, false, nil},
		{"|value: no system", "/Patient?identifier=|9000000009", nil, false, nil},
		{":of-type", "/Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|9000000009", []string{"Patient/pat-zoe"}, false, nil},
		{":of-type another value", "/Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|9000000017", nil, false, nil},
		{":text on the display", "/Task?code:text=review", []string{"Task/task-1"}, false, nil},
		{"boolean true", "/Patient?active=true", []string{"Patient/pat-zoe"}, false, nil},
		{"boolean false", "/Patient?active=false", []string{"Patient/pat-bob"}, false, nil},
		{"ContactPoint", "/Patient?email=zoe@example.org", []string{"Patient/pat-zoe"}, false, nil},
		{"OR", "/Task?status=requested,accepted", []string{"Task/task-1", "Task/task-2", "Task/task-3"}, false, nil},
		{"AND", "/Task?status=requested&priority=routine", []string{"Task/task-1"}, false, nil},
		{"CodeableConcept", "/Observation?code=http://loinc.org|29463-7", []string{"Observation/obs-wt", "Observation/obs-wt2", "Observation/obs-lb"}, false, nil},
		{"_tag", "/Task?_tag=urn:accord:test|urgent", []string{"Task/task-1"}, false, nil},
		{"_tag code", "/Patient?_tag=alpha", []string{"Patient/pat-zoe"}, false, nil},
		{"_security", "/Patient?_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R", []string{"Patient/pat-zoe"}, false, nil},
		{"_id", "/Task?_id=task-1,task-3", []string{"Task/task-1", "Task/task-3"}, false, nil},
		{"_id:not", "/Task?_id:not=task-1", []string{"Task/task-2", "Task/task-3", "Task/task-4"}, false, nil},
	})
}

func TestSearch_URI(t *testing.T) {
	s := startDataset(t)
	runSearchCases(t, s, []searchCase{
		{"_profile", "/Patient?_profile=http://example.org/StructureDefinition/p1", []string{"Patient/pat-zoe"}, false, nil},
		{"_profile:below", "/Patient?_profile:below=http://example.org/StructureDefinition", []string{"Patient/pat-zoe"}, false, nil},
		{"_profile:above", "/Patient?_profile:above=http://example.org/StructureDefinition/p1/v2", []string{"Patient/pat-zoe"}, false, nil},
		{"_source", "/Patient?_source=urn:source:epr", []string{"Patient/pat-zoe"}, false, nil},
		{"no match", "/Patient?_source=urn:source:other", nil, false, nil},
	})
}

func TestSearch_Missing(t *testing.T) {
	s := startDataset(t)
	runSearchCases(t, s, []searchCase{
		{"date missing", "/Task?period:missing=true", []string{"Task/task-3"}, false, nil},
		{"date present", "/Task?period:missing=false", []string{"Task/task-1", "Task/task-2", "Task/task-4"}, false, nil},
		{"token missing", "/Patient?identifier:missing=true", []string{"Patient/pat-eve"}, false, nil},
		{"a reference by identifier is a value", "/Task?owner:missing=true", nil, false, nil},
		{"string missing", "/Patient?address:missing=true", []string{"Patient/pat-eve"}, false, nil},
		{"quantity missing", "/Observation?value-quantity:missing=true", []string{"Observation/obs-bp"}, false, nil},
		{"number present", "/RiskAssessment?probability:missing=false", []string{"RiskAssessment/ra-1", "RiskAssessment/ra-2"}, false, nil},
		{"uri missing", "/Patient?_profile:missing=true", []string{"Patient/pat-bob", "Patient/pat-eve"}, false, nil},
		{"composite missing", "/Observation?component-code-value-quantity:missing=false", []string{"Observation/obs-bp"}, false, nil},
		{"_id never missing", "/Task?_id:missing=true", nil, false, nil},
	})
}

func TestSearch_Reference(t *testing.T) {
	s := startDataset(t)
	runSearchCases(t, s, []searchCase{
		{"Type/id", "/Task?owner=Organization/org-bravo", []string{"Task/task-2", "Task/task-3"}, false, nil},
		{"id", "/Task?owner=org-acme", []string{"Task/task-1"}, false, nil},
		{":Type", "/Task?owner:Organization=org-acme", []string{"Task/task-1"}, false, nil},
		{":Type of another type", "/Task?owner:Practitioner=org-acme", nil, false, nil},
		{"versioned reference", "/Task?owner=Organization/org-acme/_history/1", []string{"Task/task-1"}, false, nil},
		{"subject", "/Task?subject=Patient/pat-zoe", []string{"Task/task-1", "Task/task-3"}, false, nil},
		{"patient", "/Task?patient=pat-zoe", []string{"Task/task-1", "Task/task-3"}, false, nil},
		{":identifier", "/Task?owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|RJ9", []string{"Task/task-4"}, false, nil},
		{"focus", "/Task?focus=ServiceRequest/sr-2", []string{"Task/task-2", "Task/task-3"}, false, nil},
		{"with a token", "/Observation?subject=Patient/pat-eve&code=http://loinc.org|29463-7", []string{"Observation/obs-lb"}, false, nil},
		{"another server's URL", "/Task?owner=http://example.org/fhir/Organization/org-acme", nil, false, nil},
	})
}

func TestSearch_Date(t *testing.T) {
	s := startDataset(t)
	zoe, bob, eve := "Patient/pat-zoe", "Patient/pat-bob", "Patient/pat-eve"
	runSearchCases(t, s, []searchCase{
		// birthdates: zoe 1980-03-15, bob 1990, eve 1980-03; each covers its precision.
		{"year contains day and month", "/Patient?birthdate=1980", []string{zoe, eve}, false, nil},
		{"month", "/Patient?birthdate=1980-03", []string{zoe, eve}, false, nil},
		{"day does not contain a month", "/Patient?birthdate=1980-03-15", []string{zoe}, false, nil},
		{"ne", "/Patient?birthdate=ne1980-03-15", []string{bob, eve}, false, nil},
		{"lt", "/Patient?birthdate=lt1980-03-15", []string{eve}, false, nil},
		{"gt", "/Patient?birthdate=gt1980-03-15", []string{bob, eve}, false, nil},
		{"ge", "/Patient?birthdate=ge1980-03-15", []string{zoe, bob, eve}, false, nil},
		{"le", "/Patient?birthdate=le1980-03-15", []string{zoe, eve}, false, nil},
		{"sa", "/Patient?birthdate=sa1980-03-15", []string{bob}, false, nil},
		{"eb", "/Patient?birthdate=eb1980-03-16", []string{zoe}, false, nil},
		{"AND of two prefixes", "/Patient?birthdate=ge1980&birthdate=lt1990", []string{zoe, eve}, false, nil},
		{"OR", "/Patient?birthdate=1990,1980-03-15", []string{zoe, bob}, false, nil},
		{"instant in a day", "/Task?authored-on=2024-03-15", []string{"Task/task-1"}, false, nil},
		{"time zone moves the day", "/Task?authored-on=2024-04-01", []string{"Task/task-3"}, false, nil},
		{"seconds with a time zone", "/Task?authored-on=2024-04-01T23:30:00%2B02:00", []string{"Task/task-3"}, false, nil},
		{"seconds in UTC", "/Task?authored-on=2024-04-01T21:30:00Z", []string{"Task/task-3"}, false, nil},
		// periods: task-1 2024-03-15..2024-03-20, task-2 from 2024-03-10, task-3 none, task-4 until 2024-01-05.
		{"period not within a day", "/Task?period=2024-03-17", nil, false, nil},
		{"period within a month", "/Task?period=2024-03", []string{"Task/task-1"}, false, nil},
		{"open end is after", "/Task?period=gt2024-03-20", []string{"Task/task-2"}, false, nil},
		{"sa", "/Task?period=sa2024-03-09", []string{"Task/task-1", "Task/task-2"}, false, nil},
		{"eb", "/Task?period=eb2024-03-01", []string{"Task/task-4"}, false, nil},
		{"open start is before", "/Task?period=lt2024-01-01", []string{"Task/task-4"}, false, nil},
		// ap widens 2024-03-17 by 10% of the time since (more than 70 days from 2026 on): it overlaps task-4's end.
		{"ap", "/Task?period=ap2024-03-17", []string{"Task/task-1", "Task/task-2", "Task/task-4"}, false, nil},
		{"dateTime and Period", "/Observation?date=2024-03", []string{"Observation/obs-bp", "Observation/obs-glu", "Observation/obs-lb", "Observation/obs-wt"}, false, nil},
		{"day", "/Observation?date=2024-03-15", []string{"Observation/obs-bp", "Observation/obs-glu"}, false, nil},
		{"minute precision", "/Encounter?date=ge2024-03-15T10:00Z", []string{"Encounter/enc-1"}, false, nil},
		// cp-1 has two activity periods, January and June 2024: no single one is in March.
		{"several periods, none within", "/CarePlan?activity-date=2024-03", nil, false, nil},
		{"several periods, one within", "/CarePlan?activity-date=2024-06", []string{"CarePlan/cp-1"}, false, nil},
		{"several periods, lt", "/CarePlan?activity-date=lt2024-02", []string{"CarePlan/cp-1"}, false, nil},
		{"_lastUpdated", "/Task?_lastUpdated=gt2000-01-01", []string{"Task/task-1", "Task/task-2", "Task/task-3", "Task/task-4"}, false, nil},
		{"_lastUpdated lt", "/Task?_lastUpdated=lt2000", nil, false, nil},
	})
}

func TestSearch_NumberAndQuantity(t *testing.T) {
	s := startDataset(t)
	ra1, ra2 := "RiskAssessment/ra-1", "RiskAssessment/ra-2"
	runSearchCases(t, s, []searchCase{
		// ra-1 has the probabilities 0.25 and 0.8, ra-2 0.5.
		{"eq", "/RiskAssessment?probability=0.5", []string{ra2}, false, nil},
		{"implicit range", "/RiskAssessment?probability=0.3", []string{ra1}, false, nil},
		{"more digits, narrower range", "/RiskAssessment?probability=0.50", []string{ra2}, false, nil},
		{"no single value in range", "/RiskAssessment?probability=0.6", nil, false, nil},
		{"gt", "/RiskAssessment?probability=gt0.7", []string{ra1}, false, nil},
		{"lt", "/RiskAssessment?probability=lt0.3", []string{ra1}, false, nil},
		{"ge", "/RiskAssessment?probability=ge0.8", []string{ra1}, false, nil},
		{"le", "/RiskAssessment?probability=le0.25", []string{ra1}, false, nil},
		{"ne", "/RiskAssessment?probability=ne0.5", []string{ra1}, false, nil},
		{"ap", "/RiskAssessment?probability=ap0.5", []string{ra2}, false, nil},
		// weights: obs-wt 72.5 kg, obs-wt2 100 kg, obs-lb 150 lbs (unit text only); obs-glu 5.4 mmol/L.
		{"quantity number", "/Observation?value-quantity=72.5", []string{"Observation/obs-wt"}, false, nil},
		{"quantity system and code", "/Observation?value-quantity=100|http://unitsofmeasure.org|kg", []string{"Observation/obs-wt2"}, false, nil},
		{"quantity code", "/Observation?value-quantity=100||kg", []string{"Observation/obs-wt2"}, false, nil},
		{"quantity another unit", "/Observation?value-quantity=100||g", nil, false, nil},
		{"quantity gt with unit", "/Observation?value-quantity=gt70||kg", []string{"Observation/obs-wt", "Observation/obs-wt2"}, false, nil},
		{"quantity gt any unit", "/Observation?value-quantity=gt70", []string{"Observation/obs-wt", "Observation/obs-wt2", "Observation/obs-lb"}, false, nil},
		{"quantity unit text", "/Observation?value-quantity=150||lbs", []string{"Observation/obs-lb"}, false, nil},
		{"quantity lt", "/Observation?value-quantity=lt100|http://unitsofmeasure.org|kg", []string{"Observation/obs-wt"}, false, nil},
		{"quantity decimal", "/Observation?value-quantity=5.4|http://unitsofmeasure.org|mmol/L", []string{"Observation/obs-glu"}, false, nil},
		// obs-bp's components are 120 and 80 mm[Hg]: no single one is 100.
		{"components, none in range", "/Observation?component-value-quantity=100", nil, false, nil},
		{"components, one", "/Observation?component-value-quantity=120", []string{"Observation/obs-bp"}, false, nil},
		{"components, lt", "/Observation?component-value-quantity=lt90", []string{"Observation/obs-bp"}, false, nil},
	})
}

func TestSearch_Composite(t *testing.T) {
	s := startDataset(t)
	runSearchCases(t, s, []searchCase{
		{"code and value of one component", "/Observation?component-code-value-quantity=http://loinc.org|8480-6$120", []string{"Observation/obs-bp"}, false, nil},
		{"code of one component, value of the other", "/Observation?component-code-value-quantity=http://loinc.org|8480-6$80", nil, false, nil},
		{"with prefix and unit", "/Observation?component-code-value-quantity=http://loinc.org|8462-4$lt90|http://unitsofmeasure.org|mm[Hg]", []string{"Observation/obs-bp"}, false, nil},
		{"code-value-quantity", "/Observation?code-value-quantity=http://loinc.org|29463-7$gt80", []string{"Observation/obs-lb", "Observation/obs-wt2"}, false, nil},
		{"combo on components", "/Observation?combo-code-value-quantity=8480-6$120", []string{"Observation/obs-bp"}, false, nil},
		{"OR of composites", "/Observation?code-value-quantity=http://loinc.org|15074-8$5.4,http://loinc.org|29463-7$72.5", []string{"Observation/obs-glu", "Observation/obs-wt"}, false, nil},
	})
}

func TestSearch_Chain(t *testing.T) {
	s := startDataset(t)
	runSearchCases(t, s, []searchCase{
		{"with type", "/Task?owner:Organization.name=acme", []string{"Task/task-1"}, false, nil},
		{"every target type", "/Task?owner.name=brav", []string{"Task/task-2", "Task/task-3"}, false, nil},
		{"patient name", "/Task?patient.name=zoe", []string{"Task/task-1", "Task/task-3"}, false, nil},
		{"identifier", "/Task?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9000000017", []string{"Task/task-2"}, false, nil},
		{"two levels", "/Observation?subject:Patient.organization.name=acme", []string{"Observation/obs-bp", "Observation/obs-wt2"}, false, nil},
		{"two levels with types", "/Task?focus:ServiceRequest.requester:Practitioner.name=okafor", []string{"Task/task-1"}, false, nil},
		{"no match", "/Task?owner:Organization.name=nobody", nil, false, nil},
		{"reverse", "/ServiceRequest?_has:Task:focus:status=requested", []string{"ServiceRequest/sr-1", "ServiceRequest/sr-2"}, false, nil},
		{"reverse, one", "/ServiceRequest?_has:Task:focus:status=accepted", []string{"ServiceRequest/sr-2"}, false, nil},
		{"reverse with a token", "/Patient?_has:Observation:subject:code=http://loinc.org|15074-8", []string{"Patient/pat-eve"}, false, nil},
		{"reverse, nested", "/Patient?_has:Task:patient:_has:Provenance:target:agent=Practitioner/pr-ada", []string{"Patient/pat-zoe"}, false, nil},
		{"reverse to an owner", "/Organization?_has:Task:owner:priority=urgent", []string{"Organization/org-bravo"}, false, nil},
	})
}

func TestSearch_Include(t *testing.T) {
	s := startDataset(t)
	runSearchCases(t, s, []searchCase{
		{"_include", "/Task?_id=task-1&_include=Task:owner", []string{"Task/task-1"}, false, []string{"Organization/org-acme"}},
		{"_include *", "/Task?_id=task-1&_include=Task:*", []string{"Task/task-1"}, false,
			[]string{"Organization/org-acme", "Patient/pat-zoe", "ServiceRequest/sr-1"}},
		{"_include with target type", "/Task?_id=task-1&_include=Task:owner:Practitioner", []string{"Task/task-1"}, false, nil},
		{"_include:iterate", "/Task?_id=task-1&_include=Task:focus&_include:iterate=ServiceRequest:requester", []string{"Task/task-1"}, false,
			[]string{"ServiceRequest/sr-1", "Practitioner/pr-ada"}},
		{"_revinclude", "/Task?_id=task-1&_revinclude=Provenance:target", []string{"Task/task-1"}, false, []string{"Provenance/prov-1"}},
		{"_revinclude then _include:iterate", "/Patient?_id=pat-zoe&_revinclude=Task:patient&_include:iterate=Task:owner", []string{"Patient/pat-zoe"}, false,
			[]string{"Task/task-1", "Task/task-3", "Organization/org-acme", "Organization/org-bravo"}},
		{"an included match appears once", "/Organization?_include=Organization:partof", []string{"Organization/org-acme", "Organization/org-bravo"}, false, nil},
	})
}

func TestSearch_Sort(t *testing.T) {
	s := startDataset(t)
	runSearchCases(t, s, []searchCase{
		{"date", "/Task?_sort=authored-on", []string{"Task/task-4", "Task/task-1", "Task/task-2", "Task/task-3"}, true, nil},
		{"date descending", "/Task?_sort=-authored-on", []string{"Task/task-3", "Task/task-2", "Task/task-1", "Task/task-4"}, true, nil},
		{"two keys", "/Task?_sort=status,-authored-on", []string{"Task/task-2", "Task/task-4", "Task/task-3", "Task/task-1"}, true, nil},
		{"precision: a month starts before its days", "/Patient?_sort=birthdate", []string{"Patient/pat-eve", "Patient/pat-zoe", "Patient/pat-bob"}, true, nil},
		{"absent first, open start next", "/Task?_sort=period", []string{"Task/task-3", "Task/task-4", "Task/task-2", "Task/task-1"}, true, nil},
		{"_id", "/Task?_sort=-_id", []string{"Task/task-4", "Task/task-3", "Task/task-2", "Task/task-1"}, true, nil},
		{"string", "/Patient?_sort=family", []string{"Patient/pat-eve", "Patient/pat-zoe", "Patient/pat-bob"}, true, nil},
		{"reference, ties by id", "/Task?_sort=owner", []string{"Task/task-4", "Task/task-1", "Task/task-2", "Task/task-3"}, true, nil},
	})
}

// TestSearch_Paging follows next and previous links: every match once, in order, both ways.
func TestSearch_Paging(t *testing.T) {
	s := startDataset(t)
	want := []string{"Task/task-3", "Task/task-2", "Task/task-1", "Task/task-4"}
	ss := parseSearchSet(t, s.Do(t, http.MethodGet, "/Task?_sort=-authored-on&_count=1", nil))
	var forward []string
	var pages []searchSet
	for {
		forward = append(forward, ss.matches...)
		pages = append(pages, ss)
		if ss.total != nil {
			t.Errorf("page %d of several has a total without _total", len(pages))
		}
		next, ok := ss.links["next"]
		if !ok {
			break
		}
		ss = parseSearchSet(t, s.Do(t, http.MethodGet, pathOf(t, s, next), nil))
	}
	if !slices.Equal(forward, want) {
		t.Fatalf("forward pages %v, want %v", forward, want)
	}
	if _, ok := pages[0].links["previous"]; ok {
		t.Error("the first page has a previous link")
	}
	var backward []string
	ss = pages[len(pages)-1]
	for {
		prev, ok := ss.links["previous"]
		if !ok {
			break
		}
		ss = parseSearchSet(t, s.Do(t, http.MethodGet, pathOf(t, s, prev), nil))
		backward = append(ss.matches, backward...)
	}
	if !slices.Equal(backward, want[:3]) {
		t.Errorf("backward pages %v, want %v", backward, want[:3])
	}
	self := parseSearchSet(t, s.Do(t, http.MethodGet, pathOf(t, s, pages[2].links["self"]), nil))
	if !slices.Equal(self.matches, pages[2].matches) {
		t.Errorf("the self link of page 3 gives %v, want %v", self.matches, pages[2].matches)
	}
}

// TestSearch_Paging_WhileWriting adds Tasks, and updates task-1 (which moves to the end of the order), between
// pages: no page skips or repeats another Task, and the new ones (the newest _lastUpdated) come on the later pages.
func TestSearch_Paging_WhileWriting(t *testing.T) {
	s := startDataset(t)
	ss := parseSearchSet(t, s.Do(t, http.MethodGet, "/Task?_sort=_lastUpdated&_count=2", nil))
	var seen []string
	for page := 0; ; page++ {
		seen = append(seen, ss.matches...)
		if page < 2 {
			task1 := readBundleResources(t, searchDataset)[8]
			extra := map[string]any{"resourceType": "Task", "id": "task-new-" + string(rune('a'+page)), "status": "draft", "intent": "order"}
			loadResources(t, s, []map[string]any{task1, extra})
		}
		next, ok := ss.links["next"]
		if !ok {
			break
		}
		ss = parseSearchSet(t, s.Do(t, http.MethodGet, pathOf(t, s, next), nil))
	}
	counts := map[string]int{}
	for _, id := range seen {
		counts[id]++
	}
	for _, id := range []string{"Task/task-2", "Task/task-3", "Task/task-4", "Task/task-new-a", "Task/task-new-b"} {
		if counts[id] != 1 {
			t.Errorf("%s seen %d times over the pages %v, want once", id, counts[id], seen)
		}
	}
}

func TestSearch_ResultParameters(t *testing.T) {
	s := startDataset(t)
	total := func(path string) *int { return parseSearchSet(t, s.Do(t, http.MethodGet, path, nil)).total }
	for _, tc := range []struct {
		path string
		want int // -1: no total
	}{
		{"/Task?_total=accurate&_count=1", 4},
		{"/Task?_total=estimate&_count=1", 4},
		{"/Task?_count=1", -1},
		{"/Task?_total=none", -1},
		{"/Task", 4},
		{"/Task?status=requested", 2},
	} {
		got := total(tc.path)
		if (got == nil) != (tc.want < 0) || (got != nil && *got != tc.want) {
			t.Errorf("GET %s: total %v, want %d", tc.path, got, tc.want)
		}
	}
	count := parseSearchSet(t, s.Do(t, http.MethodGet, "/Task?status=requested&_summary=count", nil))
	if count.total == nil || *count.total != 2 || len(count.matches) != 0 {
		t.Errorf("_summary=count: total %v, %d matches; want 2 and none", count.total, len(count.matches))
	}
	if self := parseSearchSet(t, s.Do(t, http.MethodGet, "/Task?_count=5000", nil)).links["self"]; !strings.Contains(self, "_count=1000") {
		t.Errorf("_count beyond the maximum: self link %s, want _count=1000", self)
	}
	zero := parseSearchSet(t, s.Do(t, http.MethodGet, "/Task?_count=0", nil))
	if zero.total == nil || *zero.total != 4 || len(zero.matches) != 0 {
		t.Errorf("_count=0: total %v, %d matches; want 4 and none", zero.total, len(zero.matches))
	}
	resource := func(path string) map[string]any {
		ss := parseSearchSet(t, s.Do(t, http.MethodGet, path, nil))
		return asList(ss.raw["entry"])[0]["resource"].(map[string]any)
	}
	subsetted := func(res map[string]any) bool {
		for _, tag := range asList(get(res, "meta", "tag")) {
			if tag["code"] == "SUBSETTED" {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		path        string
		has, hasNot []string
	}{
		{"/Task?_id=task-1&_summary=true", []string{"status", "intent", "owner", "focus", "executionPeriod"}, []string{"note", "text", "authoredOn"}}, // R4: Task.authoredOn is not Σ
		{"/Task?_id=task-1&_summary=text", []string{"text", "status", "intent"}, []string{"note", "owner"}},
		{"/Task?_id=task-1&_summary=data", []string{"note", "owner", "status"}, []string{"text"}},
		{"/Task?_id=task-1&_elements=owner,note", []string{"owner", "note", "status", "intent", "id", "meta"}, []string{"authoredOn", "text", "focus"}},
	} {
		res := resource(tc.path)
		for _, k := range tc.has {
			if _, ok := res[k]; !ok {
				t.Errorf("GET %s: no %s", tc.path, k)
			}
		}
		for _, k := range tc.hasNot {
			if _, ok := res[k]; ok {
				t.Errorf("GET %s: has %s", tc.path, k)
			}
		}
		if !subsetted(res) {
			t.Errorf("GET %s: no SUBSETTED tag", tc.path)
		}
	}
	if subsetted(resource("/Task?_id=task-1")) {
		t.Error("a whole resource is tagged SUBSETTED")
	}
}

// TestSearch_Errors: each bad request is a 400 OperationOutcome that names the parameter.
func TestSearch_Errors(t *testing.T) {
	s := startDataset(t)
	for _, tc := range []struct{ path, mention string }{
		{"/Patient?birthdate=notadate", "birthdate"},
		{"/Patient?birthdate=xx1980", "birthdate"},
		{"/RiskAssessment?probability=ten", "probability"},
		{"/Observation?value-quantity=5|kg", "value-quantity"},
		{"/Patient?name:fuzzy=x", "name:fuzzy"},
		{"/Patient?gender:in=http://example.org/vs", "gender:in"},
		{"/Task?status.name=x", "status.name"},
		{"/Task?owner:Observation=x", "owner:Observation"},
		{"/Task?_count=-1", "_count"},
		{"/Task?_count=abc", "_count"},
		{"/Task?_sort=colour", "_sort"},
		{"/Task?_include=Task:colour", "_include"},
		{"/Task?_include=Task:status", "_include"},
		{"/Task?_revinclude=Provenance:colour", "_revinclude"},
		{"/Task?_revinclude=Provenance:*", "_revinclude"},
		{"/Task?_contained=true", "_contained"},
		{"/Task?_total=maybe", "_total"},
		{"/Task?_summary=short", "_summary"},
		{"/Task?_text=referral", "_text"},
		{"/Task?_content=referral", "_content"},
		{"/Task?_cursor=garbage", "_cursor"},
		{"/Task?_has:Nothing:focus:status=x", "_has"},
		{"/Patient?identifier:missing=perhaps", "identifier:missing"},
		{"/?_type=Patient,Task&gender=male", "gender"},
		{"/?_type=Patiente", "_type"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			wantOutcome(t, s.Do(t, http.MethodGet, tc.path, nil), http.StatusBadRequest, tc.mention)
		})
	}
}

// TestSearch_UnknownParameters: ignored with a warning by default and when lenient, an error when strict.
func TestSearch_UnknownParameters(t *testing.T) {
	s := startDataset(t)
	for _, prefer := range []string{"", "handling=lenient"} {
		ss := parseSearchSet(t, s.Do(t, http.MethodGet, "/Task?status=accepted&colour=blue", nil, "Prefer", prefer))
		if !slices.Equal(ss.matches, []string{"Task/task-2"}) || len(ss.outcome) != 1 {
			t.Fatalf("Prefer %q: matches %v, %d outcomes; want task-2 and one warning", prefer, ss.matches, len(ss.outcome))
		}
		is := asList(ss.outcome[0]["issue"])[0]
		if is["severity"] != "warning" || !strings.Contains(str(get(is, "expression", 0)), "colour") {
			t.Errorf("Prefer %q: issue %v", prefer, is)
		}
		if strings.Contains(ss.links["self"], "colour") {
			t.Errorf("the self link keeps the ignored parameter: %s", ss.links["self"])
		}
	}
	wantOutcome(t, s.Do(t, http.MethodGet, "/Task?status=accepted&colour=blue", nil, "Prefer", "handling=strict"), http.StatusBadRequest, "colour")
}

// TestSearch_Interactions: POST _search, system search, search entries of a batch, conditional criteria.
func TestSearch_Interactions(t *testing.T) {
	s := startDataset(t)
	r := s.Do(t, http.MethodPost, "/Task/_search", "status=accepted", "Content-Type", "application/x-www-form-urlencoded")
	if ss := parseSearchSet(t, r); !slices.Equal(ss.matches, []string{"Task/task-2"}) {
		t.Errorf("POST _search: %v", ss.matches)
	}
	runSearchCases(t, s, []searchCase{
		{"system, common parameter", "/?_type=Patient,Organization&name=brav", []string{"Organization/org-bravo"}, false, nil},
		{"system, reference", "/?_type=Task,ServiceRequest&patient=pat-bob", []string{"Task/task-2", "ServiceRequest/sr-2"}, false, nil},
	})
	// Paging across types: sorted by _id, then type.
	var all []string
	path := "/?_type=Patient,Task&_sort=_id&_count=2"
	for path != "" {
		ss := parseSearchSet(t, s.Do(t, http.MethodGet, path, nil))
		all = append(all, ss.matches...)
		path = ""
		if next, ok := ss.links["next"]; ok {
			path = pathOf(t, s, next)
		}
	}
	want := []string{"Patient/pat-bob", "Patient/pat-eve", "Patient/pat-zoe", "Task/task-1", "Task/task-2", "Task/task-3", "Task/task-4"}
	if !slices.Equal(all, want) {
		t.Errorf("system search pages %v, want %v", all, want)
	}
	batch := map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
		map[string]any{"request": map[string]any{"method": "GET", "url": "Task?status=requested&_sort=_id"}},
		map[string]any{"request": map[string]any{"method": "GET", "url": "Task?_count=-1"}},
	}}
	b := decode(t, s.Do(t, http.MethodPost, "/", batch).Body)
	entries := asList(b["entry"])
	if len(entries) != 2 {
		t.Fatalf("batch response: %v", b)
	}
	inner := asList(get(entries[0], "resource", "entry"))
	if get(entries[0], "response", "status") != "200 OK" || len(inner) != 2 || get(inner[0], "resource", "id") != "task-1" {
		t.Errorf("batch search entry: %v", entries[0])
	}
	if status := str(get(entries[1], "response", "status")); !strings.HasPrefix(status, "400") {
		t.Errorf("batch entry with a bad search: status %s", status)
	}
}

// TestSearch_ConditionalCriteria: conditional interactions take every parameter.
func TestSearch_ConditionalCriteria(t *testing.T) {
	s := startDataset(t)
	body := patient("conditional")
	r := s.Do(t, http.MethodPost, "/Patient", body, "If-None-Exist", url.Values{"family": {"o'brien"}, "birthdate": {"1980-03-15"}}.Encode())
	if r.Status != http.StatusOK || decode(t, r.Body)["id"] != "pat-zoe" {
		t.Errorf("conditional create matching pat-zoe by name and birthdate: %d %s", r.Status, truncated(r.Body))
	}
	r = s.Do(t, http.MethodPost, "/Patient", body, "If-None-Exist", "birthdate=1980")
	wantOutcome(t, r, http.StatusPreconditionFailed)
}

// TestSearch_CapabilityStatement lists exactly R4's search parameters of Task, and none Accord does not support.
func TestSearch_CapabilityStatement(t *testing.T) {
	s := apitest.Start(t)
	cs := decode(t, s.Do(t, http.MethodGet, "/metadata", nil).Body)
	var task map[string]any
	for _, res := range asList(get(cs, "rest", 0, "resource")) {
		if res["type"] == "Task" {
			task = res
		}
	}
	var names []string
	for _, p := range asList(task["searchParam"]) {
		names = append(names, p["name"].(string))
		if !strings.HasPrefix(str(p["definition"]), "http://hl7.org/fhir/SearchParameter/") {
			t.Errorf("%s has the definition %v", p["name"], p["definition"])
		}
	}
	// R4 Task: https://hl7.org/fhir/R4/task.html#search, and the parameters of every resource.
	want := []string{"_id", "_lastUpdated", "_profile", "_security", "_source", "_tag",
		"authored-on", "based-on", "business-status", "code", "encounter", "focus", "group-identifier", "identifier", "intent",
		"modified", "owner", "part-of", "patient", "performer", "period", "priority", "requester", "status", "subject"}
	if !slices.Equal(names, want) {
		t.Errorf("Task search parameters:\n%v\nwant\n%v", names, want)
	}
}

// TestSearch_R4Examples searches the official R4 examples (testdata/r4examples: at most three per type, so that
// each expectation was derived by reading every resource of the type).
func TestSearch_R4Examples(t *testing.T) {
	s := apitest.Start(t)
	loadResources(t, s, readExamples(t))
	runSearchCases(t, s, []searchCase{
		{"family", "/Patient?family=chalmers", []string{"Patient/example"}, false, nil},
		{"given", "/Patient?name=jim", []string{"Patient/example"}, false, nil},
		{"gender", "/Patient?gender=male", []string{"Patient/example", "Patient/f201"}, false, nil},
		{"birthdate lt", "/Patient?birthdate=lt1970", []string{"Patient/f201"}, false, nil},
		{"birthdate missing", "/Patient?birthdate:missing=true", []string{"Patient/pat2"}, false, nil},
		{"identifier", "/Patient?identifier=urn:oid:1.2.36.146.595.217.0.1|12345", []string{"Patient/example"}, false, nil},
		{"identifier of-type", "/Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123456", []string{"Patient/pat2"}, false, nil},
		{"phone", "/Patient?phone=%2B31612345678", []string{"Patient/f201"}, false, nil},
		{"address-city", "/Patient?address-city=amsterdam", []string{"Patient/f201"}, false, nil},
		{"address-postalcode", "/Patient?address-postalcode=3999", []string{"Patient/example"}, false, nil},
		{"organization", "/Patient?organization=Organization/1", []string{"Patient/example", "Patient/pat2"}, false, nil},
		{"code", "/Observation?code=http://loinc.org|85354-9", []string{"Observation/blood-pressure"}, false, nil},
		{"subject", "/Observation?subject=Patient/example", []string{"Observation/blood-pressure"}, false, nil},
		{"component composite", "/Observation?component-code-value-quantity=http://loinc.org|8480-6$gt100", []string{"Observation/blood-pressure"}, false, nil},
		{"component composite, other component", "/Observation?component-code-value-quantity=http://loinc.org|8462-4$gt100", nil, false, nil},
		{"date ge on a period", "/Observation?date=ge2013-04-03", []string{"Observation/20minute-apgar-score", "Observation/unsat"}, false, nil},
		{"status", "/Observation?status=cancelled", []string{"Observation/unsat"}, false, nil},
		{"quantity with braces", "/Observation?value-quantity=10|http://unitsofmeasure.org|%7Bscore%7D", []string{"Observation/20minute-apgar-score"}, false, nil},
		{"performer", "/Observation?performer=Practitioner/example", []string{"Observation/blood-pressure", "Observation/20minute-apgar-score"}, false, nil},
		{"task status", "/Task?status=requested", []string{"Task/fm-example4"}, false, nil},
		{"owner by identifier", "/Task?owner:identifier=http://nationalinsurers.com/identifiers|12345", []string{"Task/fm-example4"}, false, nil},
		{"part-of", "/Task?part-of=Task/example1", []string{"Task/example4"}, false, nil},
		{"patient id", "/Task?patient=example", []string{"Task/example1", "Task/example4"}, false, nil},
		{"+10:00 is the day before in UTC", "/Task?authored-on=2016-10-30", []string{"Task/example1", "Task/example4"}, false, nil},
		{"period sa", "/Task?period=sa2016-10-30T22:30:00Z", []string{"Task/example4"}, false, nil},
		{"requester", "/Task?requester=Organization/1832473e-2fe0-452d-abe9-3cdb9879522f", []string{"Task/example4"}, false, nil},
		{"name or alias", "/Organization?name=hl7", []string{"Organization/hl7"}, false, nil},
		{"name contains", "/Organization?name:contains=umc", []string{"Organization/f003", "Organization/f201"}, false, nil},
		{"address-country", "/Organization?address-country=nld", []string{"Organization/f201"}, false, nil},
		{"partof", "/Organization?partof=Organization/f001", []string{"Organization/f003"}, false, nil},
		{"probability", "/RiskAssessment?probability=0.000368", []string{"RiskAssessment/riskexample"}, false, nil},
		{"probability lt", "/RiskAssessment?probability=lt0.1", []string{"RiskAssessment/riskexample"}, false, nil},
		{"encounter day", "/Encounter?date=2015-01-17", []string{"Encounter/home"}, false, nil},
		{"encounter month", "/Encounter?date=2013-03", []string{"Encounter/f203"}, false, nil},
		{"chain", "/Observation?subject:Patient.name=peter", []string{"Observation/blood-pressure"}, false, nil},
		{"include", "/Observation?_id=blood-pressure&_include=Observation:subject&_include=Observation:performer", []string{"Observation/blood-pressure"}, false,
			[]string{"Patient/example", "Practitioner/example"}},
		{"revinclude", "/Patient?_id=example&_revinclude=Observation:subject", []string{"Patient/example"}, false, []string{"Observation/blood-pressure"}},
		{"has", "/Patient?_has:Observation:patient:code=http://loinc.org|85354-9", []string{"Patient/example"}, false, nil},
		{"sort", "/Task?_sort=-authored-on", []string{"Task/fm-example4", "Task/example4", "Task/example1"}, true, nil},
	})
}

// TestSearch_SystemByPost: POST [base]/_search with a form body is the system search, as GET [base]?… is.
func TestSearch_SystemByPost(t *testing.T) {
	s := apitest.Start(t)
	put(t, s, map[string]any{"resourceType": "Patient", "id": "p1", "gender": "female"})
	put(t, s, map[string]any{"resourceType": "Patient", "id": "p2", "gender": "male"})
	r := s.Do(t, http.MethodPost, "/_search", "_type=Patient&gender=female", "Content-Type", "application/x-www-form-urlencoded")
	wantStatus(t, r, http.StatusOK, "POST /_search")
	if total, ids := bundleIDs(t, r); total != 1 || len(ids) != 1 || ids[0] != "p1" {
		t.Errorf("POST /_search found %d: %v, want p1", total, ids)
	}
	oo := wantOutcome(t, s.Do(t, http.MethodPost, "/_search", "gender=female", "Content-Type", "application/x-www-form-urlencoded"), http.StatusBadRequest)
	if got := get(oo, "issue", 0, "expression", 0); got != "_type" {
		t.Errorf("without _type: expression %v, want _type", got)
	}
}
