package api_test

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/api"
	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/fhir"
)

func metadata(t *testing.T, s *apitest.Server) map[string]any {
	t.Helper()
	r := s.Do(t, http.MethodGet, "/metadata", nil)
	wantStatus(t, r, http.StatusOK, "GET /metadata")
	return decode(t, r.Body)
}

// TestCapabilityStatement_Golden checks the CapabilityStatement on the wire. Every type is declared like Patient
// (checked here), but for its search parameters and supported profiles (TestCapabilityStatement_SupportedProfiles)
// and the read-only types, so the golden file keeps only Patient's entry.
func TestCapabilityStatement_Golden(t *testing.T) {
	s := apitest.Start(t)
	r := s.Do(t, http.MethodGet, "/metadata", nil)
	wantStatus(t, r, http.StatusOK, "GET /metadata")
	if ct := r.Header.Get("Content-Type"); ct != "application/fhir+json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	cs := decode(t, r.Body)
	rest := get(cs, "rest", 0).(map[string]any)
	var patientEntry map[string]any
	for _, res := range asList(rest["resource"]) {
		if res["type"] == "Patient" {
			patientEntry = res
		}
	}
	if patientEntry == nil {
		t.Fatal("no Patient in the CapabilityStatement")
	}
	for _, res := range asList(rest["resource"]) {
		if _, readOnly := readOnlyTypes[str(res["type"])]; readOnly || res["type"] == "AuditEvent" {
			continue // the audit trail and the guide: read and search only (TestCapabilityStatement_EveryR4TypeWithItsInteractions)
		}
		like, got := maps.Clone(patientEntry), maps.Clone(res)
		like["type"] = res["type"]
		if res["type"] == "Organization" {
			delete(got, "operation") // $pending-actions (TestCapabilityStatement_PendingActions)
		}
		for _, own := range []string{"searchParam", "supportedProfile", "searchInclude", "searchRevInclude"} {
			// each type has its own R4 search parameters (TestSearch_CapabilityStatement), includes
			// (TestCapabilityStatement_IncludesItListsWork) and guide profiles
			delete(like, own)
			delete(got, own)
		}
		if diff := cmp.Diff(like, got); diff != "" {
			t.Errorf("%v is not declared like Patient (-Patient +got):\n%s", res["type"], diff)
		}
	}
	rest["resource"] = []any{patientEntry}
	b, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, s, "capabilitystatement", b)
}

func TestCapabilityStatement_EveryR4TypeWithItsInteractions(t *testing.T) {
	s := apitest.Start(t)
	cs := metadata(t, s)
	for field, want := range map[string]any{"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "kind": "instance", "status": "active"} {
		if cs[field] != want {
			t.Errorf("%s = %v, want %v", field, cs[field], want)
		}
	}
	formats, _ := cs["format"].([]any)
	if !slices.Contains(formats, any("application/fhir+json")) || !slices.Contains(formats, any("json")) {
		t.Errorf("format = %v, want application/fhir+json and json", formats)
	}
	if rest := asList(cs["rest"]); len(rest) != 1 || rest[0]["mode"] != "server" {
		t.Fatalf("want one rest entry of mode server, got %v", cs["rest"])
	}
	types := fhir.ResourceTypes()
	if len(types) != 146 || !slices.Contains(types, "SubstanceSourceMaterial") || !slices.Contains(types, "Parameters") {
		t.Fatalf("fhir.ResourceTypes() has %d types, want the 146 of R4", len(types))
	}
	var got []string
	wantInteractions := []string{"create", "delete", "history-instance", "history-type", "patch", "read", "search-type", "update", "vread"}
	for _, res := range asList(get(cs, "rest", 0, "resource")) {
		typ, _ := res["type"].(string)
		got = append(got, typ)
		var codes []string
		for _, in := range asList(res["interaction"]) {
			codes = append(codes, in["code"].(string))
		}
		slices.Sort(codes)
		want := wantInteractions
		_, readOnly := readOnlyTypes[typ]
		if typ == "AuditEvent" || readOnly { // the audit trail: written by the server only (see writeRefused)
			want = []string{"read", "search-type"}
		}
		if !slices.Equal(codes, want) {
			t.Errorf("%s interactions = %v, want %v", typ, codes, want)
		}
	}
	if !slices.Equal(got, types) {
		t.Errorf("resource types listed = %d, want the %d R4 types in order; missing or extra: %v",
			len(got), len(types), symmetricDiff(got, types))
	}
	var system []string
	for _, in := range asList(get(cs, "rest", 0, "interaction")) {
		system = append(system, in["code"].(string))
	}
	slices.Sort(system)
	if want := []string{"batch", "history-system", "search-system", "transaction"}; !slices.Equal(system, want) {
		t.Errorf("system interactions = %v, want %v", system, want)
	}
}

// TestCapabilityStatement_SupportedProfiles checks that each type lists, as supportedProfile, the profiles of
// the implementation guide for it, and that the types without one list none.
func TestCapabilityStatement_SupportedProfiles(t *testing.T) {
	s := apitest.Start(t)
	want := map[string][]string{}
	files, _ := filepath.Glob("../profiles/ig/StructureDefinition-*.json")
	for _, f := range files {
		var sd struct{ URL, Type, Kind, Derivation string }
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &sd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if sd.Kind == "resource" && sd.Derivation == "constraint" {
			want[sd.Type] = append(want[sd.Type], sd.URL)
		}
	}
	if len(want["Task"]) < 5 || len(want["Communication"]) < 5 {
		t.Fatalf("guide profiles by type: %v", want)
	}
	for _, res := range asList(get(metadata(t, s), "rest", 0, "resource")) {
		typ := str(res["type"])
		var got []string
		list, _ := res["supportedProfile"].([]any)
		for _, p := range list {
			got = append(got, str(p))
		}
		if w := want[typ]; !slices.Equal(got, slices.Sorted(slices.Values(w))) {
			t.Errorf("%s supportedProfile = %v, want %v", typ, got, w)
		}
	}
}

func symmetricDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, "+"+x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, "-"+x)
		}
	}
	return out
}

// TestCapabilityStatement_InteractionsItListsWork performs every interaction the CapabilityStatement lists for a
// sample of types (including the non-domain resources Binary, Bundle and Parameters), and every system
// interaction, search parameter and the conditional capabilities it claims.
func TestCapabilityStatement_InteractionsItListsWork(t *testing.T) {
	s := apitest.Start(t)
	cs := metadata(t, s)
	byType := map[string]map[string]any{}
	for _, res := range asList(get(cs, "rest", 0, "resource")) {
		byType[res["type"].(string)] = res
	}
	for _, typ := range []string{"Patient", "Task", "Observation", "Binary", "Bundle", "Parameters", "SubstancePolymer"} {
		t.Run(typ, func(t *testing.T) {
			res := byType[typ]
			if res == nil {
				t.Fatalf("%s is not in the CapabilityStatement", typ)
			}
			value := unique(typ)
			body := map[string]any{"resourceType": typ, "identifier": []any{map[string]any{"system": testSystem, "value": value}}}
			switch typ {
			case "Task": // every Task has an owner (Consensus GP-6, profile accord-task)
				body["status"], body["intent"] = "requested", "order"
				body["owner"] = map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RJ1"}}
			case "Observation":
				body["status"], body["code"] = "final", map[string]any{"text": "x"}
			case "SubstancePolymer": // no identifier element
				body = map[string]any{"resourceType": typ, "class": map[string]any{"text": value}}
			case "Binary":
				body = map[string]any{"resourceType": typ, "contentType": "text/plain", "data": base64.StdEncoding.EncodeToString([]byte(value))}
			case "Bundle":
				body = map[string]any{"resourceType": typ, "type": "collection", "identifier": map[string]any{"system": testSystem, "value": value}}
			case "Parameters":
				body = map[string]any{"resourceType": typ, "parameter": []any{map[string]any{"name": "p", "valueString": value}}}
			}
			codes := map[string]bool{}
			for _, in := range asList(res["interaction"]) {
				codes[in["code"].(string)] = true
			}
			if !codes["create"] || !codes["delete"] {
				t.Fatalf("%s lacks create or delete: %v", typ, codes)
			}
			id := create(t, s, body)
			for _, in := range asList(res["interaction"]) {
				code := in["code"].(string)
				var method, path string
				var payload any
				switch code {
				case "create", "delete": // first and last
					continue
				case "read":
					method, path = http.MethodGet, "/"+typ+"/"+id
				case "vread":
					method, path = http.MethodGet, "/"+typ+"/"+id+"/_history/1"
				case "update":
					b := read(t, s, typ, id)
					b["language"] = "en-GB"
					method, path, payload = http.MethodPut, "/"+typ+"/"+id, b
				case "patch":
					r := s.Do(t, http.MethodPatch, "/"+typ+"/"+id, `[{"op":"add","path":"/language","value":"en"}]`, "Content-Type", "application/json-patch+json")
					wantStatus(t, r, http.StatusOK, code)
					continue
				case "history-instance":
					method, path = http.MethodGet, "/"+typ+"/"+id+"/_history"
				case "history-type":
					method, path = http.MethodGet, "/"+typ+"/_history"
				case "search-type":
					method, path = http.MethodGet, "/"+typ+"?_id="+id
				default:
					t.Fatalf("interaction %q listed but not checked by this test", code)
				}
				r := s.Do(t, method, path, payload)
				wantStatus(t, r, http.StatusOK, code+" "+method+" "+path)
				if code == "search-type" {
					if n := len(asList(decode(t, r.Body)["entry"])); n != 1 {
						t.Errorf("search %s by _id: %d entries, want 1", typ, n)
					}
				}
			}
			if body["identifier"] != nil {
				r := s.Do(t, http.MethodGet, "/"+typ+"?identifier="+testSystem+"|"+value, nil)
				wantStatus(t, r, http.StatusOK, "search by identifier")
				if n := len(asList(decode(t, r.Body)["entry"])); n != 1 {
					t.Errorf("search %s by identifier: %d entries, want 1", typ, n)
				}
			}
			r := s.Do(t, http.MethodDelete, "/"+typ+"/"+id, nil)
			wantStatus(t, r, http.StatusNoContent, "delete")
		})
	}
	t.Run("system", func(t *testing.T) {
		for _, in := range asList(get(cs, "rest", 0, "interaction")) {
			code := in["code"].(string)
			var r *apitest.Response
			switch code {
			case "batch", "transaction":
				r = s.Do(t, http.MethodPost, "/", map[string]any{"resourceType": "Bundle", "type": code, "entry": []any{
					map[string]any{"resource": patient(unique(code)), "request": map[string]any{"method": "POST", "url": "Patient"}},
				}})
				wantStatus(t, r, http.StatusOK, code)
				if b := decode(t, r.Body); b["type"] != code+"-response" {
					t.Errorf("%s answered a Bundle of type %v", code, b["type"])
				}
			case "history-system":
				r = s.Do(t, http.MethodGet, "/_history", nil)
				wantStatus(t, r, http.StatusOK, code)
			case "search-system":
				r = s.Do(t, http.MethodGet, "/?_type=Patient,Task&_count=1", nil)
				wantStatus(t, r, http.StatusOK, code)
			default:
				t.Errorf("system interaction %q listed but not checked by this test", code)
			}
		}
		for _, op := range asList(get(cs, "rest", 0, "operation")) {
			if op["name"] != "validate" {
				t.Errorf("operation %v listed but not checked by this test", op["name"])
				continue
			}
			r := s.Do(t, http.MethodPost, "/Patient/$validate", patient("v"))
			wantStatus(t, r, http.StatusOK, "$validate")
			if decode(t, r.Body)["resourceType"] != "OperationOutcome" {
				t.Errorf("$validate did not answer an OperationOutcome: %s", r.Body)
			}
		}
	})
	t.Run("conditional", func(t *testing.T) {
		res := byType["Patient"]
		if res["conditionalCreate"] != true || res["conditionalUpdate"] != true || res["conditionalDelete"] != "single" || res["updateCreate"] != true {
			t.Fatalf("Patient conditional capabilities changed: %v", res)
		}
		value := unique("cond")
		q := "identifier=" + testSystem + "|" + value
		r := s.Do(t, http.MethodPost, "/Patient", patient(value), "If-None-Exist", q)
		wantStatus(t, r, http.StatusCreated, "conditional create")
		r = s.Do(t, http.MethodPut, "/Patient?"+q, patient(value))
		wantStatus(t, r, http.StatusOK, "conditional update")
		r = s.Do(t, http.MethodDelete, "/Patient?"+q, nil)
		wantStatus(t, r, http.StatusNoContent, "conditional delete")
		id := unique("client")
		body := patient(id)
		body["id"] = id
		r = s.Do(t, http.MethodPut, "/Patient/"+id, body)
		wantStatus(t, r, http.StatusCreated, "update as create (updateCreate)")
	})
}

// TestCapabilityStatement_IncludesItListsWork searches each type of the official R4 examples with every
// _include and _revinclude value the CapabilityStatement lists for it (one request per type, strict handling),
// expecting 200; and checks the lists of Patient against R4's definitions.
func TestCapabilityStatement_IncludesItListsWork(t *testing.T) {
	s := apitest.Start(t)
	loadResources(t, s, readExamples(t))
	lists := map[string][2][]string{}
	for _, res := range asList(get(metadata(t, s), "rest", 0, "resource")) {
		typ := str(res["type"])
		var inc, rev []string
		for _, v := range asAnyList(res["searchInclude"]) {
			inc = append(inc, str(v))
		}
		for _, v := range asAnyList(res["searchRevInclude"]) {
			rev = append(rev, str(v))
		}
		lists[typ] = [2][]string{inc, rev}
		if len(inc)+len(rev) == 0 {
			continue
		}
		params := url.Values{"_count": {"3"}, "_include": inc, "_revinclude": rev}
		r := s.Do(t, http.MethodGet, "/"+typ+"?"+params.Encode(), nil, "Prefer", "handling=strict")
		if r.Status != http.StatusOK {
			t.Errorf("GET /%s with its %d includes and %d revincludes: status %d: %s", typ, len(inc), len(rev), r.Status, truncated(r.Body))
		}
	}
	// R4 Patient: https://hl7.org/fhir/R4/patient.html#search; its references from Observation.subject …
	patient := lists["Patient"]
	if want := []string{"*", "Patient:general-practitioner", "Patient:link", "Patient:organization"}; !slices.Equal(patient[0], want) {
		t.Errorf("Patient searchInclude = %v, want %v", patient[0], want)
	}
	for _, v := range []string{"Observation:subject", "Observation:patient", "Task:patient", "Provenance:target", "Patient:link"} {
		if !slices.Contains(patient[1], v) {
			t.Errorf("Patient searchRevInclude has no %s", v)
		}
	}
	for _, v := range patient[1] {
		if other, _, _ := strings.Cut(v, ":"); other == "AuditEvent" || readOnlyTypes[other] != "" || v == "Encounter:practitioner" {
			t.Errorf("Patient searchRevInclude lists %s, which cannot include a Patient's referrers", v)
		}
	}
	for typ := range readOnlyTypes {
		if l := lists[typ]; len(l[0])+len(l[1]) > 0 {
			t.Errorf("%s, served from the guide, lists includes %v", typ, l)
		}
	}
}

func asAnyList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestCapabilityStatement_PendingActions: Organization declares $pending-actions, and the server serves the
// OperationDefinition it names (from the implementation guide), whose parameters are those the operation takes.
func TestCapabilityStatement_PendingActions(t *testing.T) {
	s := apitest.Start(t)
	cs := metadata(t, s)
	var ops []map[string]any
	for _, res := range asList(get(cs, "rest", 0, "resource")) {
		if res["type"] == "Organization" {
			ops = asList(res["operation"])
		}
	}
	if len(ops) != 1 || ops[0]["name"] != "pending-actions" || ops[0]["definition"] != api.PendingActionsDefinition {
		t.Fatalf("Organization operations %v, want pending-actions defined by %s", ops, api.PendingActionsDefinition)
	}
	r := s.Do(t, http.MethodGet, "/OperationDefinition/pending-actions", nil)
	wantStatus(t, r, http.StatusOK, "GET the OperationDefinition")
	def := decode(t, r.Body)
	if def["url"] != api.PendingActionsDefinition || def["code"] != "pending-actions" || def["instance"] != true {
		t.Errorf("OperationDefinition url %v code %v instance %v", def["url"], def["code"], def["instance"])
	}
	var in []string
	for _, p := range asList(def["parameter"]) {
		if p["use"] == "in" {
			in = append(in, p["name"].(string))
		}
	}
	if !slices.Equal(in, []string{"_count", "_cursor"}) {
		t.Errorf("input parameters %v, want _count and _cursor", in)
	}
	r = s.Do(t, http.MethodGet, "/OperationDefinition?url="+api.PendingActionsDefinition, nil)
	wantStatus(t, r, http.StatusOK, "search the OperationDefinition by url")
	if n := len(asList(decode(t, r.Body)["entry"])); n != 1 {
		t.Errorf("search by url found %d, want 1", n)
	}
	wantStatus(t, s.Do(t, http.MethodPost, "/OperationDefinition", map[string]any{"resourceType": "OperationDefinition"}),
		http.StatusMethodNotAllowed, "create an OperationDefinition")
}
