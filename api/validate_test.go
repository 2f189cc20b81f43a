package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/jsonpatch"
	"github.com/accord-fhir/accord/internal/validation"
)

const (
	guideExamples = "../profiles/ig/examples"
	rulesFile     = "../testdata/ig/rules.json"
)

// ruleCase is one case of testdata/ig/rules.json: an example of the guide changed by a JSON Patch, which
// passes its clause, or fails it with the issue in fail.
type ruleCase struct {
	Clause  string          `json:"clause"`
	Name    string          `json:"name"`
	Example string          `json:"example"`
	Patch   json.RawMessage `json:"patch"`
	Fail    *struct {
		Severity   string `json:"severity"`
		Code       string `json:"code"`
		Expression string `json:"expression"`
	} `json:"fail"`
}

func ruleCases(t testing.TB) []ruleCase {
	t.Helper()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []ruleCase }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Cases
}

// guideExample reads an example of the guide, with patch applied when not empty.
func guideExample(t testing.TB, name string, patch json.RawMessage) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(guideExamples, name))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := fhir.DecodeObject(data, fhir.MaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	if len(patch) > 0 {
		if obj, err = jsonpatch.Apply(obj, patch, fhir.MaxDepth); err != nil {
			t.Fatalf("patch %s: %v", name, err)
		}
	}
	return obj
}

// clauseIssue is an OperationOutcome issue as the tests see it.
type clauseIssue struct {
	Severity, Code, Expression, Clause, Details string
}

// clauseIssues returns the issues of an OperationOutcome body, with the clause of details.coding (which must
// be in the clause CodeSystem).
func clauseIssues(t testing.TB, oo map[string]any) []clauseIssue {
	t.Helper()
	if oo["resourceType"] != "OperationOutcome" {
		t.Fatalf("not an OperationOutcome: %v", oo)
	}
	var out []clauseIssue
	for _, is := range asList(oo["issue"]) {
		ci := clauseIssue{Severity: strOf(is["severity"]), Code: strOf(is["code"])}
		if exprs, _ := is["expression"].([]any); len(exprs) > 0 {
			ci.Expression = strOf(exprs[0])
		}
		ci.Details = strOf(get(is, "details", "text"))
		for _, c := range asList(get(is, "details", "coding")) {
			if c["system"] != fhir.ClauseSystem {
				t.Errorf("details.coding system %v, want %s", c["system"], fhir.ClauseSystem)
			}
			ci.Clause = strOf(c["code"])
		}
		out = append(out, ci)
	}
	return out
}

func strOf(v any) string {
	s, _ := v.(string)
	return s
}

// checkCase checks the issues of one case: none of its clause when it passes, the one it names when it fails.
func checkCase(t testing.TB, c ruleCase, issues []clauseIssue, what string) {
	t.Helper()
	if c.Fail == nil {
		for _, is := range issues {
			if is.Clause == c.Clause || is.Severity == "error" {
				t.Errorf("%s: passing case raised %+v", what, is)
			}
		}
		return
	}
	want := clauseIssue{Severity: c.Fail.Severity, Code: c.Fail.Code, Expression: c.Fail.Expression, Clause: c.Clause}
	if !slices.ContainsFunc(issues, func(is clauseIssue) bool {
		return is.Severity == want.Severity && is.Code == want.Code && is.Expression == want.Expression &&
			is.Clause == want.Clause && strings.Contains(is.Details, "clause "+c.Clause)
	}) {
		t.Errorf("%s: want %+v among\n%+v", what, want, issues)
	}
}

// TestRules_HTTP sends every case of testdata/ig/rules.json as a create (Prefer: return=OperationOutcome), to
// POST /Type/$validate, and to POST /$validate in Parameters. A rule failing with an error refuses the create
// with 422 naming the clause; a warning is accepted (201) and comes back in the OperationOutcome; $validate
// answers 200 with the same issue and stores nothing.
func TestRules_HTTP(t *testing.T) {
	s := apitest.Start(t)
	for _, c := range ruleCases(t) {
		t.Run(c.Clause+"/"+c.Name, func(t *testing.T) {
			res := guideExample(t, c.Example, c.Patch)
			typ := fhir.ResourceType(res)

			r := s.Do(t, http.MethodPost, "/"+typ, res, "Prefer", "return=OperationOutcome")
			wantCreate := http.StatusCreated
			if c.Fail != nil && c.Fail.Severity == "error" {
				wantCreate = http.StatusUnprocessableEntity
			}
			wantStatus(t, r, wantCreate, "create")
			checkCase(t, c, clauseIssues(t, r.JSON(t)), "create")

			r = s.Do(t, http.MethodPost, "/"+typ+"/$validate", res)
			wantStatus(t, r, http.StatusOK, "type $validate")
			checkCase(t, c, clauseIssues(t, r.JSON(t)), "type $validate")

			params := map[string]any{"resourceType": "Parameters", "parameter": []any{
				map[string]any{"name": "resource", "resource": res}, map[string]any{"name": "mode", "valueCode": "create"}}}
			r = s.Do(t, http.MethodPost, "/$validate", params)
			wantStatus(t, r, http.StatusOK, "system $validate")
			checkCase(t, c, clauseIssues(t, r.JSON(t)), "system $validate")
		})
	}
}

// TestRules_EveryValidateClauseHasCases checks that every clause shared/consensus.md marks validate has a
// passing and a failing case in testdata/ig/rules.json.
func TestRules_EveryValidateClauseHasCases(t *testing.T) {
	validateClauses := []string{"GP-4", "GP-6", "1.1", "2.1", "2.4", "3.1", "3.2", "4.1", "5.1", "5.2", "5.3", "6.3",
		"6.5", "7.2", "8.1", "8.2", "8.3", "8.4", "8.5"}
	pass, fail := map[string]int{}, map[string]int{}
	for _, c := range ruleCases(t) {
		if c.Fail == nil {
			pass[c.Clause]++
		} else {
			fail[c.Clause]++
		}
	}
	for _, cl := range validateClauses {
		// 1.1 and 8.2 are "accepted but recorded": their failing cases are warnings.
		if (pass[cl] == 0 && cl != "8.2") || fail[cl] == 0 {
			t.Errorf("clause %s: %d passing and %d failing cases, want at least one of each", cl, pass[cl], fail[cl])
		}
	}
}

func TestValidate_UnknownProfile_422(t *testing.T) {
	s := apitest.Start(t)
	res := guideExample(t, "Organization-gp-practice-example.json", nil)
	res["meta"] = map[string]any{"profile": []any{"https://example.org/fhir/StructureDefinition/NoSuchType"}}

	r := s.Do(t, http.MethodPost, "/Organization", res)
	wantStatus(t, r, http.StatusUnprocessableEntity, "create claiming an unknown profile")
	issues := clauseIssues(t, r.JSON(t))
	if len(issues) != 1 || issues[0].Code != "processing" || issues[0].Expression != "Organization.meta.profile[0]" ||
		!strings.Contains(issues[0].Details, "NoSuchType") {
		t.Errorf("issues = %+v, want one processing error at Organization.meta.profile[0] naming the profile", issues)
	}

	r = s.Do(t, http.MethodPost, "/Organization/$validate", res)
	wantStatus(t, r, http.StatusOK, "$validate")
	if issues := clauseIssues(t, r.JSON(t)); len(issues) != 1 || issues[0].Severity != "error" {
		t.Errorf("$validate issues = %+v, want the unknown profile error", issues)
	}

	res["meta"] = map[string]any{"profile": []any{"http://hl7.org/fhir/StructureDefinition/Organization",
		"https://accord-fhir.github.io/ig/StructureDefinition/accord-organization|0.1.0"}}
	wantStatus(t, s.Do(t, http.MethodPost, "/Organization", res), http.StatusCreated, "create claiming the base definition and the Accord profile")
}

// TestValidate_CoreProfiles checks the R4 core profiles over HTTP: a resource claiming vitalsigns is checked
// against it, and one claiming a core profile the validator cannot apply (bp) is accepted with a warning.
func TestValidate_CoreProfiles(t *testing.T) {
	s := apitest.Start(t)
	bp := decode(t, readExample(t, "Observation-blood-pressure.json")) // claims vitalsigns
	wantStatus(t, s.Do(t, http.MethodPost, "/Observation", bp), http.StatusCreated, "create as published")

	noSubject := maps.Clone(bp)
	delete(noSubject, "subject")
	r := s.Do(t, http.MethodPost, "/Observation", noSubject)
	wantStatus(t, r, http.StatusUnprocessableEntity, "create without the subject vitalsigns requires")
	if issues := clauseIssues(t, r.JSON(t)); len(issues) != 1 || issues[0].Expression != "Observation.subject" ||
		!strings.Contains(issues[0].Details, "http://hl7.org/fhir/StructureDefinition/vitalsigns") {
		t.Errorf("issues = %+v, want one at Observation.subject from the vitalsigns profile", issues)
	}

	bp["meta"] = map[string]any{"profile": []any{"http://hl7.org/fhir/StructureDefinition/bp"}}
	r = s.Do(t, http.MethodPost, "/Observation", bp, "Prefer", "return=OperationOutcome")
	wantStatus(t, r, http.StatusCreated, "create claiming bp")
	if issues := clauseIssues(t, r.JSON(t)); len(issues) != 1 || issues[0].Severity != "warning" ||
		issues[0].Code != "not-supported" || !strings.Contains(issues[0].Details, "StructureDefinition/bp") {
		t.Errorf("issues = %+v, want one not-supported warning naming bp", issues)
	}
}

func TestValidate_Parameters(t *testing.T) {
	s := apitest.Start(t)
	task := guideExample(t, "Task-test-example.json", nil)
	referralResponse := "https://accord-fhir.github.io/ig/StructureDefinition/accord-task-referral-response"
	params := func(ps ...any) map[string]any { return map[string]any{"resourceType": "Parameters", "parameter": ps} }
	resource := map[string]any{"name": "resource", "resource": task}
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		want   []clauseIssue // severity, code, expression (and clause) of the issues, in order
	}{
		{name: "a resource that passes", path: "/$validate", body: task, status: http.StatusOK,
			want: []clauseIssue{{Severity: "information", Code: "informational"}}},
		{name: "profile parameter: checked against it too", path: "/Task/$validate", status: http.StatusOK,
			body: params(resource, map[string]any{"name": "profile", "valueUri": referralResponse}),
			want: []clauseIssue{{Severity: "error", Code: "value", Expression: "Task.code", Clause: "7.2"},
				{Severity: "error", Code: "required", Expression: "Task.focus", Clause: "6.2"}}},
		{name: "profile parameter naming an unknown profile", path: "/$validate", status: http.StatusOK,
			body: params(resource, map[string]any{"name": "profile", "valueCanonical": "https://example.org/StructureDefinition/x"}),
			want: []clauseIssue{{Severity: "error", Code: "processing", Expression: "Task"}}},
		{name: "mode update without id", path: "/$validate", status: http.StatusOK,
			body: params(map[string]any{"name": "resource", "resource": map[string]any{"resourceType": "Task", "status": "draft"}},
				map[string]any{"name": "mode", "valueCode": "update"}),
			want: []clauseIssue{{Severity: "error", Code: "required", Expression: "Task.id"}}},
		{name: "mode delete", path: "/Task/$validate", status: http.StatusOK,
			body: params(resource, map[string]any{"name": "mode", "valueCode": "delete"}),
			want: []clauseIssue{{Severity: "information", Code: "informational"}}},
		{name: "unknown mode", path: "/$validate", status: http.StatusBadRequest,
			body: params(resource, map[string]any{"name": "mode", "valueCode": "upsert"}),
			want: []clauseIssue{{Severity: "error", Code: "invalid", Expression: "Parameters.parameter"}}},
		{name: "Parameters without a resource", path: "/$validate", status: http.StatusBadRequest,
			body: params(map[string]any{"name": "mode", "valueCode": "create"}),
			want: []clauseIssue{{Severity: "error", Code: "required", Expression: "Parameters.parameter"}}},
		{name: "resource of another type than the URL's", path: "/Patient/$validate", body: task, status: http.StatusBadRequest,
			want: []clauseIssue{{Severity: "error", Code: "invalid", Expression: "resourceType"}}},
		{name: "not JSON", path: "/$validate", body: "<Task/>", status: http.StatusBadRequest,
			want: []clauseIssue{{Severity: "error", Code: "structure"}}},
		{name: "nested deeper than the limit", path: "/$validate", body: deeplyNested(fhir.MaxDepth + 5), status: http.StatusBadRequest,
			want: []clauseIssue{{Severity: "error", Code: "too-costly"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, http.MethodPost, tc.path, tc.body)
			wantStatus(t, r, tc.status, tc.path)
			var got []clauseIssue
			for _, is := range clauseIssues(t, r.JSON(t)) {
				is.Details = ""
				got = append(got, is)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("issues:\n got  %+v\n want %+v", got, tc.want)
			}
		})
	}
	if n := historyLen(t, s, "/Task/_history"); n != 0 {
		t.Errorf("$validate stored %d Task versions, want none", n)
	}
}

// deeplyNested returns a Basic resource whose extensions nest depth levels deep.
func deeplyNested(depth int) string {
	var sb strings.Builder
	sb.WriteString(`{"resourceType":"Basic","code":{"text":"x"},"extension":[`)
	for range depth {
		sb.WriteString(`{"url":"https://example.org/x","extension":[`)
	}
	for range depth {
		sb.WriteString(`]}`)
	}
	sb.WriteString(`]}`)
	return sb.String()
}

// TestValidate_Warnings_InTransactionAndPreferOutcome checks that rules accepted with a warning come back with
// their clause: in the OperationOutcome of a create (Prefer: return=OperationOutcome) and in the
// entry.response.outcome of a transaction response, which the ledger records as findings.
func TestValidate_Warnings_InTransactionAndPreferOutcome(t *testing.T) {
	s := apitest.Start(t)
	urgent := guideExample(t, "Task-urgent-medicine-request-example.json", nil)
	shortSupply := guideExample(t, "MedicationRequest-discharge-medicine-example.json",
		json.RawMessage(`[{"op":"replace","path":"/dispenseRequest/expectedSupplyDuration/value","value":7}]`))
	bundle := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:5b0a0f5e-1c51-4b55-9a44-6d7e1b3f0a01", "resource": urgent,
			"request": map[string]any{"method": "POST", "url": "Task"}},
		map[string]any{"fullUrl": "urn:uuid:5b0a0f5e-1c51-4b55-9a44-6d7e1b3f0a02", "resource": shortSupply,
			"request": map[string]any{"method": "POST", "url": "MedicationRequest"}},
	}}
	r := s.Do(t, http.MethodPost, "/", bundle)
	wantStatus(t, r, http.StatusOK, "transaction")
	entries := asList(r.JSON(t)["entry"])
	if len(entries) != 2 {
		t.Fatalf("%d response entries, want 2", len(entries))
	}
	for i, clause := range []string{"8.2", "8.3"} {
		oo, _ := get(entries[i], "response", "outcome").(map[string]any)
		if oo == nil {
			t.Fatalf("entry %d: no response.outcome", i)
		}
		if !slices.ContainsFunc(clauseIssues(t, oo), func(is clauseIssue) bool { return is.Clause == clause && is.Severity == "warning" }) {
			t.Errorf("entry %d: no warning of clause %s in %v", i, clause, oo)
		}
		if status := strOf(get(entries[i], "response", "status")); !strings.HasPrefix(status, "201") {
			t.Errorf("entry %d: status %s, want 201", i, status)
		}
	}
	r = s.Do(t, http.MethodPost, "/Task", urgent, "Prefer", "return=OperationOutcome")
	wantStatus(t, r, http.StatusCreated, "create")
	if got := clauseIssues(t, r.JSON(t)); !slices.ContainsFunc(got, func(is clauseIssue) bool { return is.Clause == "8.2" && is.Severity == "warning" }) {
		t.Errorf("create: no 8.2 warning in %+v", got)
	}
}

// TestValidate_RuleLevels checks the enforcement levels of configuration: a rule set to warning is accepted
// with a warning, one set to error refuses the write, one set to off raises nothing.
func TestValidate_RuleLevels(t *testing.T) {
	s := apitest.Start(t, apitest.Options{RuleLevels: validation.Levels{"2.4": validation.LevelWarning,
		"6.5": validation.LevelError, "8.3": validation.LevelOff}})
	noShow := guideExample(t, "Appointment-noshow-example.json", json.RawMessage(`[{"op":"remove","path":"/extension"}]`))
	booked := guideExample(t, "Appointment-booked-example.json", json.RawMessage(`[{"op":"remove","path":"/extension"}]`))
	short := guideExample(t, "MedicationRequest-discharge-medicine-example.json",
		json.RawMessage(`[{"op":"replace","path":"/dispenseRequest/expectedSupplyDuration/value","value":7}]`))
	for _, tc := range []struct {
		name   string
		res    map[string]any
		status int
		clause string // the clause of the one issue expected, "" for none
		sev    string
	}{
		{"2.4 at warning: a no-show without telephone attempt is accepted", noShow, http.StatusCreated, "2.4", "warning"},
		{"6.5 at error: a booking without rebooking contact is refused", booked, http.StatusUnprocessableEntity, "6.5", "error"},
		{"8.3 off: a 7-day supply raises nothing", short, http.StatusCreated, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, http.MethodPost, "/"+fhir.ResourceType(tc.res), tc.res, "Prefer", "return=OperationOutcome")
			wantStatus(t, r, tc.status, "create")
			var got []clauseIssue
			for _, is := range clauseIssues(t, r.JSON(t)) {
				if is.Clause != "" {
					got = append(got, clauseIssue{Severity: is.Severity, Clause: is.Clause})
				}
			}
			var want []clauseIssue
			if tc.clause != "" {
				want = []clauseIssue{{Severity: tc.sev, Clause: tc.clause}}
			}
			if !slices.Equal(got, want) {
				t.Errorf("clause issues = %+v, want %+v", got, want)
			}
		})
	}
}

func TestValidate_BodyLargerThanTheLimit_413(t *testing.T) {
	s := apitest.Start(t, apitest.Options{MaxBody: 4096})
	huge := `{"resourceType":"Basic","code":{"text":"` + strings.Repeat("x", 8192) + `"}}`
	r := s.Do(t, http.MethodPost, "/$validate", huge)
	wantStatus(t, r, http.StatusRequestEntityTooLarge, "$validate of a body over the limit")
	if issues := clauseIssues(t, r.JSON(t)); len(issues) != 1 || issues[0].Code != "too-long" {
		t.Errorf("issues = %+v, want one too-long", issues)
	}
}

// TestValidate_Instance: POST /Type/id/$validate checks the body as an update of that instance (its id set from
// the URL, or refused when it differs); mode delete asks that the instance exist.
func TestValidate_Instance(t *testing.T) {
	s := apitest.Start(t)
	put(t, s, map[string]any{"resourceType": "Patient", "id": "p1", "gender": "female"})
	issues := func(r *apitest.Response) []map[string]any {
		t.Helper()
		wantStatus(t, r, http.StatusOK, "$validate")
		return asList(decode(t, r.Body)["issue"])
	}
	for _, is := range issues(s.Do(t, http.MethodPost, "/Patient/p1/$validate", map[string]any{"resourceType": "Patient", "gender": "male"})) {
		if is["severity"] == "error" {
			t.Errorf("a valid update: %v", is)
		}
	}
	bad := issues(s.Do(t, http.MethodPost, "/Patient/p1/$validate", map[string]any{"resourceType": "Patient", "id": "p1", "gender": "neither"}))
	if len(bad) == 0 || bad[0]["severity"] != "error" || get(bad[0], "expression", 0) != "Patient.gender" {
		t.Errorf("an invalid gender: %v", bad)
	}
	wantOutcome(t, s.Do(t, http.MethodPost, "/Patient/p1/$validate", map[string]any{"resourceType": "Patient", "id": "p2"}), http.StatusBadRequest, "Patient.id")
	wantOutcome(t, s.Do(t, http.MethodPost, "/Patient/p1/$validate", map[string]any{"resourceType": "Observation"}), http.StatusBadRequest, "not a Patient")
	del := map[string]any{"resourceType": "Parameters", "parameter": []any{map[string]any{"name": "mode", "valueCode": "delete"}}}
	if got := issues(s.Do(t, http.MethodPost, "/Patient/p1/$validate", del)); len(got) != 1 || got[0]["severity"] != "information" {
		t.Errorf("mode delete: %v", got)
	}
	wantStatus(t, s.Do(t, http.MethodPost, "/Patient/nobody/$validate", del), http.StatusNotFound, "mode delete of an unknown Patient")
	r := s.Do(t, http.MethodGet, "/Patient/p1/$validate", nil)
	if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET instance $validate: %d, Allow %q; want 405, POST", r.Status, r.Header.Get("Allow"))
	}
}
