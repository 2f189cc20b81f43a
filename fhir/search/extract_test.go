package search

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/fhir"
)

func decode(t *testing.T, s string) fhir.Object {
	t.Helper()
	obj, err := fhir.DecodeObject([]byte(s), fhir.MaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func extracted(t *testing.T, typ, body string) map[string]Values {
	t.Helper()
	list, err := testRegistry(t).Extract(typ, decode(t, body))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Values{}
	for _, e := range list {
		out[e.Param.Code] = e.Values
	}
	return out
}

func TestExtract_Task(t *testing.T) {
	got := extracted(t, "Task", `{"resourceType":"Task","id":"t1","status":"requested","intent":"order",
		"identifier":[{"system":"urn:x","value":"42","type":{"coding":[{"system":"urn:t","code":"MR"}],"text":"Medical record"}}],
		"owner":{"reference":"Organization/o1/_history/3"},"for":{"reference":"Patient/p1"},
		"focus":{"identifier":{"system":"urn:sr","value":"SR-1"}},
		"authoredOn":"2024-03-15","executionPeriod":{"start":"2024-03-15T10:00:00+01:00"},
		"code":{"coding":[{"system":"urn:c","code":"fulfill","display":"Fulfil"}],"text":"Do it"},
		"meta":{"tag":[{"system":"urn:tag","code":"t"}],"profile":["http://p/1"]}}`)
	utc := func(y, mo, d, h int) time.Time { return time.Date(y, time.Month(mo), d, h, 0, 0, 0, time.UTC) }
	want := map[string]Values{
		"status":      {Tokens: []Token{{Code: "requested"}}},
		"intent":      {Tokens: []Token{{Code: "order"}}},
		"identifier":  {Tokens: []Token{{System: "urn:x", Code: "42"}}, OfType: []OfType{{TypeSystem: "urn:t", TypeCode: "MR", Value: "42"}}, Texts: []string{"Medical record"}},
		"owner":       {Refs: []string{"Organization/o1"}},
		"patient":     {Refs: []string{"Patient/p1"}},
		"subject":     {Refs: []string{"Patient/p1"}},
		"focus":       {RefIDs: []Token{{System: "urn:sr", Code: "SR-1"}}},
		"authored-on": {Ranges: []Range{{Start: utc(2024, 3, 15, 0), End: utc(2024, 3, 16, 0)}}},
		"period":      {Ranges: []Range{{Start: utc(2024, 3, 15, 9), End: MaxInstant}}},
		"code":        {Tokens: []Token{{System: "urn:c", Code: "fulfill"}}, Texts: []string{"Fulfil", "Do it"}},
		"_tag":        {Tokens: []Token{{System: "urn:tag", Code: "t"}}},
		"_profile":    {URIs: []string{"http://p/1"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract(Task) (-want +got):\n%s", diff)
	}
}

func TestExtract_ObservationComponents(t *testing.T) {
	got := extracted(t, "Observation", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
		"component":[
		 {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
		 {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":80.5,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`)
	cv := got["component-code-value-quantity"]
	if len(cv.Nodes) != 2 || cv.Nodes[1][0].Tokens[0].Code != "8462-4" || cv.Nodes[1][1].Quantities[0].Value != "80.5" {
		t.Errorf("component-code-value-quantity = %+v", cv)
	}
	if q := got["component-value-quantity"].Quantities; len(q) != 2 || q[0] != (Quantity{Value: "120", System: "http://unitsofmeasure.org", Code: "mm[Hg]", Unit: "mmHg"}) {
		t.Errorf("component-value-quantity = %+v", q)
	}
}

func TestExtract_PatientStrings(t *testing.T) {
	got := extracted(t, "Patient", `{"resourceType":"Patient","name":[{"family":"Zoë","given":["Ann","Marie"],"text":"Ann Zoë"}],
		"address":[{"line":["1 High St"],"city":"London","postalCode":"SE1 1AA"}],"telecom":[{"system":"phone","value":"0207"}],"active":true}`)
	if diff := cmp.Diff([]string{"Zoë", "Ann", "Marie", "Ann Zoë"}, got["name"].Strings); diff != "" {
		t.Errorf("name (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1 High St", "London", "SE1 1AA"}, got["address"].Strings); diff != "" {
		t.Errorf("address (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Token{{System: "phone", Code: "0207"}}, got["phone"].Tokens); diff != "" {
		t.Errorf("phone (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Token{{Code: "true"}}, got["active"].Tokens); diff != "" {
		t.Errorf("active (-want +got):\n%s", diff)
	}
}

func TestSummarize(t *testing.T) {
	s := NewSummarizer()
	task := decode(t, `{"resourceType":"Task","id":"t","meta":{"versionId":"1"},"text":{"status":"generated","div":"<div/>"},
		"status":"requested","intent":"order","note":[{"text":"n"}],"owner":{"reference":"Organization/o"},"valueString":"x"}`)
	keys := func(o fhir.Object) []string {
		var out []string
		for _, k := range []string{"resourceType", "id", "meta", "text", "status", "intent", "note", "owner"} {
			if _, ok := o[k]; ok {
				out = append(out, k)
			}
		}
		return out
	}
	for _, tc := range []struct {
		summary  string
		elements []string
		want     []string
	}{
		{"true", nil, []string{"resourceType", "id", "meta", "status", "intent", "owner"}},
		{"text", nil, []string{"resourceType", "id", "meta", "text", "status", "intent"}},
		{"data", nil, []string{"resourceType", "id", "meta", "status", "intent", "note", "owner"}},
		{"", []string{"note"}, []string{"resourceType", "id", "meta", "status", "intent", "note"}},
		{"false", nil, []string{"resourceType", "id", "meta", "text", "status", "intent", "note", "owner"}},
	} {
		got := s.Summarize(task, tc.summary, tc.elements)
		if diff := cmp.Diff(tc.want, keys(got)); diff != "" {
			t.Errorf("Summarize(%q, %v) (-want +got):\n%s", tc.summary, tc.elements, diff)
		}
		tags, _ := got["meta"].(map[string]any)["tag"].([]any)
		if cut := tc.summary != "false"; cut != (len(tags) == 1) {
			t.Errorf("Summarize(%q, %v): SUBSETTED tags %v", tc.summary, tc.elements, tags)
		}
	}
	if _, ok := task["meta"].(map[string]any)["tag"]; ok {
		t.Error("Summarize modified its input")
	}
}
