package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/api/apitest"
)

// skipExamples are the official examples that Accord's validation is expected to reject, with the reason. The
// round trip of a listed example that the server rejects is skipped (with its OperationOutcome in the log); a
// listed example that the server accepts is round-tripped like any other. An example that is rejected and not
// listed fails the test with its OperationOutcome.
// The examples of the read-only types (readOnlyTypes) are not listed: their round trip is skipped, with the
// type's reason, once the server has refused them with 405.
var skipExamples = map[string]string{
	"Questionnaire-qs1.json": "nested items have no linkId, which the base definitions require " +
		"(Questionnaire.item.linkId is 1..1; see fhir/validate invalidExamples)",
	"AuditEvent-example-disclosure.json": writeRefused["AuditEvent"],
	"AuditEvent-example-error.json":      writeRefused["AuditEvent"],
	"AuditEvent-example-media.json":      writeRefused["AuditEvent"],
}

// withoutServerFields returns a copy of a resource without what the server sets: id, meta.versionId and
// meta.lastUpdated (and meta when nothing else is in it).
func withoutServerFields(res map[string]any) map[string]any {
	out := make(map[string]any, len(res))
	for k, v := range res {
		out[k] = v
	}
	delete(out, "id")
	if meta, ok := out["meta"].(map[string]any); ok {
		m := make(map[string]any, len(meta))
		for k, v := range meta {
			if k != "versionId" && k != "lastUpdated" {
				m[k] = v
			}
		}
		if len(m) == 0 {
			delete(out, "meta")
		} else {
			out["meta"] = m
		}
	}
	return out
}

func equalJSON(a, b map[string]any) bool { return cmp.Equal(a, b) }

// TestCreate_OfficialExamples_RoundTrip posts every official example, reads it back, and compares the two
// semantically (numbers as written, so that 1.50 stays 1.50): primitive extensions, contained resources,
// extensions and narrative must survive unchanged.
func TestCreate_OfficialExamples_RoundTrip(t *testing.T) {
	s := apitest.Start(t)
	for _, name := range exampleFiles(t) {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			raw := readExample(t, name)
			sent := decode(t, raw)
			typ, _ := sent["resourceType"].(string)
			r := s.Do(t, http.MethodPost, "/"+typ, raw)
			if reason, readOnly := readOnlyTypes[typ]; readOnly {
				wantOutcome(t, r, http.StatusMethodNotAllowed)
				t.Skipf("refused as expected (%s)", reason)
			}
			reason, listed := skipExamples[name]
			switch {
			case r.Status != http.StatusCreated && listed && r.Status >= 400 && r.Status < 500:
				t.Skipf("rejected as expected (%s): %s", reason, outcomeText(r))
			case r.Status != http.StatusCreated:
				t.Fatalf("the server rejected the official example (add it to skipExamples with a reason only if the "+
					"example itself is wrong): %s", outcomeText(r))
			case listed:
				t.Logf("listed in skipExamples (%s) but accepted: the validator does not check this yet", reason)
			}
			created := decode(t, r.Body)
			got := read(t, s, typ, created["id"].(string))
			if diff := cmp.Diff(withoutServerFields(sent), withoutServerFields(got)); diff != "" {
				t.Errorf("read back differs from what was posted (-sent +read):\n%s", diff)
			}
			if diff := cmp.Diff(got, created); diff != "" {
				t.Errorf("create answered something else than what read returns (-read +create):\n%s", diff)
			}
		})
	}
	for name := range skipExamples {
		if _, err := readExampleErr(name); err != nil {
			t.Errorf("skipExamples lists %s, which is not in %s: %v", name, examplesDir, err)
		}
	}
}

// TestCreate_Fidelity_KeepsWhatTypedModelsDrop checks, byte for byte where it matters, what a typed model would
// lose: primitive extensions, contained resources, decimal precision and exponents, HTML in the narrative, and
// non-ASCII text.
func TestCreate_Fidelity_KeepsWhatTypedModelsDrop(t *testing.T) {
	s := apitest.Start(t)
	body := `{
	  "resourceType": "Observation",
	  "status": "final",
	  "code": {"text": "Zoë's <weight> & \u2028 height"},
	  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a &amp; b</p></div>"},
	  "contained": [{"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01",
	    "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1970-01-01T08:30:00+01:00"}]}}],
	  "subject": {"reference": "#p1"},
	  "valueQuantity": {"value": 1.50, "unit": "kg"},
	  "referenceRange": [{"low": {"value": 100.000}, "high": {"value": 1e-7}}],
	  "extension": [{"url": "https://accord.test/ext", "valueDecimal": 3.141592653589793238462643383279}],
	  "component": [{"code": {"text": "c"}, "valueInteger": 0, "_valueInteger": {"id": "x"}}]
	}`
	r := s.Do(t, http.MethodPost, "/Observation", body)
	wantStatus(t, r, http.StatusCreated, "create")
	id := decode(t, r.Body)["id"].(string)
	r = s.Do(t, http.MethodGet, "/Observation/"+id, nil)
	wantStatus(t, r, http.StatusOK, "read")
	for _, want := range []string{`1.50`, `100.000`, `1e-7`, `3.141592653589793238462643383279`, `Zoë's <weight> &`, `<p>a &amp; b</p>`} {
		if !bytes.Contains(r.Body, []byte(want)) {
			t.Errorf("the stored resource lost %s:\n%s", want, r.Body)
		}
	}
	if diff := cmp.Diff(withoutServerFields(decode(t, []byte(body))), withoutServerFields(decode(t, r.Body))); diff != "" {
		t.Errorf("read back differs (-sent +read):\n%s", diff)
	}
}
