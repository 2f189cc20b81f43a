package validate_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

const (
	examplesDir = testdataDir + "/examples"
	observation = examplesDir + "/Observation-example.json"
	apgar       = examplesDir + "/Observation-1minute-apgar-score.json"
	patient     = examplesDir + "/Patient-f001.json"
	bundle      = examplesDir + "/Bundle-bundle-transaction.json"
	medication  = examplesDir + "/MedicationRequest-medrx0302.json"
)

func TestValidate_BrokenCopies_ReportIssueAtElement(t *testing.T) {
	v := newCore(t)
	for _, tc := range []struct {
		name string
		file string
		edit func(t *testing.T, o fhir.Object)
		want []string
	}{
		{
			name: "task unchanged",
			file: taskFile,
			edit: func(t *testing.T, o fhir.Object) {},
			want: []string{},
		},
		{
			name: "task intent removed",
			file: taskFile,
			edit: func(t *testing.T, o fhir.Object) { delete(o, "intent") },
			want: []string{"required Task.intent"},
		},
		{
			name: "task status not in task-status",
			file: taskFile,
			edit: func(t *testing.T, o fhir.Object) { o["status"] = "started" },
			want: []string{"code-invalid Task.status"},
		},
		{
			name: "task status only as primitive extension counts as present",
			file: taskFile,
			edit: func(t *testing.T, o fhir.Object) {
				delete(o, "status")
				o["_status"] = map[string]any{"extension": []any{map[string]any{
					"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}}}
			},
			want: []string{},
		},
		{
			name: "extension of a primitive without url",
			file: taskFile,
			edit: func(t *testing.T, o fhir.Object) {
				o["_status"] = map[string]any{"extension": []any{map[string]any{"valueCode": "x"}}}
			},
			want: []string{"required Task.status.extension[0].url"},
		},
		{
			name: "extension without url",
			file: taskFile,
			edit: func(t *testing.T, o fhir.Object) {
				o["extension"] = append(o["extension"].([]any), map[string]any{"valueString": "x"})
			},
			want: []string{"required Task.extension[2].url"},
		},
		{
			name: "task input value of two types",
			file: taskFile,
			edit: func(t *testing.T, o fhir.Object) { at(t, o, "input", 1)["valueString"] = "2024-06-30" },
			want: []string{"structure Task.input[1].value"},
		},
		{
			name: "task input value removed",
			file: taskFile,
			edit: func(t *testing.T, o fhir.Object) { delete(at(t, o, "input", 0), "valueCodeableConcept") },
			want: []string{"required Task.input[0].value"},
		},
		{
			name: "observation code removed",
			file: observation,
			edit: func(t *testing.T, o fhir.Object) { delete(o, "code") },
			want: []string{"required Observation.code"},
		},
		{
			name: "observation status not in observation-status",
			file: observation,
			edit: func(t *testing.T, o fhir.Object) { o["status"] = "done" },
			want: []string{"code-invalid Observation.status"},
		},
		{
			name: "observation value and effective of two types",
			file: observation,
			edit: func(t *testing.T, o fhir.Object) {
				o["valueString"] = "185 lbs"
				o["effectivePeriod"] = map[string]any{"start": "2016-03-28"}
			},
			want: []string{"structure Observation.effective", "structure Observation.value"},
		},
		{
			name: "observation component code removed",
			file: apgar,
			edit: func(t *testing.T, o fhir.Object) { delete(at(t, o, "component", 1), "code") },
			want: []string{"required Observation.component[1].code"},
		},
		{
			name: "observation quantity comparator not in quantity-comparator",
			file: observation,
			edit: func(t *testing.T, o fhir.Object) { at(t, o, "valueQuantity")["comparator"] = "about" },
			want: []string{"code-invalid Observation.value.ofType(Quantity).comparator"},
		},
		{
			name: "patient communication language removed",
			file: patient,
			edit: func(t *testing.T, o fhir.Object) { delete(at(t, o, "communication", 0), "language") },
			want: []string{"required Patient.communication[0].language"},
		},
		{
			name: "patient gender not in administrative-gender",
			file: patient,
			edit: func(t *testing.T, o fhir.Object) { o["gender"] = "M" },
			want: []string{"code-invalid Patient.gender"},
		},
		{
			name: "patient contact name use not in name-use",
			file: patient,
			edit: func(t *testing.T, o fhir.Object) { at(t, o, "contact", 0, "name")["use"] = "alias" },
			want: []string{"code-invalid Patient.contact[0].name.use"},
		},
		{
			name: "simple quantity with a comparator exceeds its max 0",
			file: medication,
			edit: func(t *testing.T, o fhir.Object) {
				at(t, o, "dosageInstruction", 0, "doseAndRate", 0, "doseQuantity")["comparator"] = "<"
			},
			want: []string{"structure MedicationRequest.dosageInstruction[0].doseAndRate[0].dose.ofType(Quantity).comparator"},
		},
		{
			name: "bundle entry resource task intent removed",
			file: bundle,
			edit: func(t *testing.T, o fhir.Object) {
				task := readObject(t, taskFile)
				delete(task, "intent")
				at(t, o, "entry", 0)["resource"] = task
			},
			want: []string{"required Bundle.entry[0].resource.intent"},
		},
		{
			name: "bundle entry resource patient gender bad",
			file: bundle,
			edit: func(t *testing.T, o fhir.Object) { at(t, o, "entry", 2, "resource")["gender"] = "F" },
			want: []string{"code-invalid Bundle.entry[2].resource.gender"},
		},
		{
			name: "bundle entry request method removed",
			file: bundle,
			edit: func(t *testing.T, o fhir.Object) { delete(at(t, o, "entry", 5, "request"), "method") },
			want: []string{"required Bundle.entry[5].request.method"},
		},
		{
			name: "parameters parameter resource in a bundle",
			file: bundle,
			edit: func(t *testing.T, o fhir.Object) {
				params := at(t, o, "entry", 7, "resource")
				params["parameter"] = append(params["parameter"].([]any), map[string]any{
					"name": "observation", "resource": map[string]any{"resourceType": "Observation", "status": "final"}})
			},
			want: []string{"required Bundle.entry[7].resource.parameter[1].resource.code"},
		},
		{
			name: "contained patient gender bad and communication language removed",
			file: taskFile,
			edit: func(t *testing.T, o fhir.Object) {
				p := readObject(t, patient)
				p["gender"] = "X"
				delete(at(t, p, "communication", 0), "language")
				o["contained"] = []any{map[string]any{"resourceType": "Organization", "id": "o"}, p}
			},
			want: []string{"required Task.contained[1].communication[0].language", "code-invalid Task.contained[1].gender"},
		},
		{
			name: "every issue is reported, sorted by expression",
			file: taskFile,
			edit: func(t *testing.T, o fhir.Object) {
				delete(o, "intent")
				o["status"] = "started"
				o["priority"] = "whenever"
				at(t, o, "text")["status"] = "made-up"
			},
			want: []string{"required Task.intent", "code-invalid Task.priority", "code-invalid Task.status", "code-invalid Task.text.status"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readObject(t, tc.file)
			tc.edit(t, obj)
			checkIssues(t, v.Validate(obj), tc.want)
		})
	}
}

func TestValidate_Issue_DetailsNameDefinitionsOnly(t *testing.T) {
	v := newCore(t)
	obj := readObject(t, patient)
	obj["gender"] = "secret-value"
	issues := v.Validate(obj)
	if len(issues) != 1 {
		t.Fatalf("want one issue, got:\n%s", describe(issues))
	}
	is := issues[0]
	want := fhir.Issue{
		Severity:    fhir.SeverityError,
		Code:        fhir.IssueCodeInvalid,
		Details:     "Patient.gender: the code is not in the required value set http://hl7.org/fhir/ValueSet/administrative-gender",
		Diagnostics: `code "secret-value" is not in http://hl7.org/fhir/ValueSet/administrative-gender`,
		Expression:  []string{"Patient.gender"},
	}
	if is.Severity != want.Severity || is.Code != want.Code || is.Details != want.Details ||
		is.Diagnostics != want.Diagnostics || is.Expression[0] != want.Expression[0] {
		t.Errorf("issue = %+v, want %+v", is, want)
	}
}

func TestValidate_NotAResourceType_OneStructureIssue(t *testing.T) {
	v := newCore(t)
	for _, rt := range []string{"", "Patientt", "DomainResource", "HumanName"} {
		t.Run(rt, func(t *testing.T) {
			checkIssues(t, v.Validate(fhir.Object{"resourceType": rt}), []string{"structure resourceType"})
		})
	}
}

func TestUncheckedValueSets_OnlyExternalCodeSystems(t *testing.T) {
	v := newCore(t)
	got := v.UncheckedValueSets()
	for _, url := range []string{
		"http://hl7.org/fhir/ValueSet/currencies", // ISO 4217
		"http://hl7.org/fhir/ValueSet/mimetypes",  // BCP 13
		"http://hl7.org/fhir/ValueSet/ucum-units", // UCUM
		"http://loinc.org/vs/LL379-9",             // a LOINC answer list
	} {
		if _, ok := got[url]; !ok {
			t.Errorf("UncheckedValueSets() lacks %s", url)
		}
		delete(got, url)
	}
	if len(got) > 0 {
		t.Errorf("UncheckedValueSets() has unexpected entries: %v", got)
	}
}

func TestValidate_Concurrent_SameResults(t *testing.T) {
	v := newCore(t)
	objs := []fhir.Object{readObject(t, taskFile), readObject(t, bundle), readObject(t, patient)}
	objs[0]["status"] = "started"
	delete(at(t, objs[1], "entry", 5, "request"), "method")
	objs[2]["gender"] = "M"
	want := make([][]string, len(objs))
	for i, o := range objs {
		want[i] = summary(v.Validate(o))
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for n := 0; n < 50; n++ {
				i := (g + n) % len(objs)
				if got := summary(v.Validate(objs[i])); !slices.Equal(got, want[i]) {
					t.Errorf("concurrent Validate = %q, want %q", got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}
