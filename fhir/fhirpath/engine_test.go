package fhirpath

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/London below, also on machines without zone files

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/accord-fhir/accord/fhir"
)

// show renders a value for comparison in tests: kind, FHIR type and text.
func show(v Value) string {
	return v.Kind().String() + "/" + v.FHIRType() + "/" + v.String()
}

func showAll(vals []Value) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = show(v)
	}
	return out
}

func mustEvaluate(t *testing.T, e *Engine, src string, resource fhir.Object, opts ...Option) []Value {
	t.Helper()
	x := mustCompile(t, e, src)
	vals, err := x.Evaluate(resource, opts...)
	if err != nil {
		t.Fatalf("Evaluate(%q): %v", src, err)
	}
	return vals
}

func TestEvaluate_TaskValues(t *testing.T) {
	e, task := NewEngine(), benchTask(t)
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{"Task.status", []string{"String/code/requested"}},
		{"Task.id", []string{"String//9c1f7b52-4a1e-4d8e-9b7a-2f3c5d6e7f80"}},
		{"Task.restriction.repetitions", []string{"Integer/positiveInt/1"}},
		{"Task.authoredOn", []string{"DateTime/dateTime/2025-03-14T09:20:00+00:00"}},
		{"Task.restriction.period.start", []string{"DateTime/dateTime/2025-06-01"}},
		{"Task.input[1].value", []string{"Quantity/Duration/14 'd'"}},
		{"Task.input.value.ofType(Quantity).value", []string{"Decimal/decimal/14"}},
		{"Task.owner.identifier.value", []string{"String/string/Y01234"}},
		{"Task.code.coding.code", []string{"String/code/1091381000000105", "String/code/repeat-test"}},
		{"Task.for.where(resolve() is Patient).reference", []string{"String/string/Patient/3e5a7c9e-2b4d-4f6a-8c0e-1a3c5e7a9c1e"}},
		{"Task.owner.resolve() is Organization", []string{"Boolean//true"}},
		{"Task.extension('https://accord-fhir.github.io/ig/StructureDefinition/consensus-clause').value", []string{"String/code/C4.2"}},
		{"Task.authoredOn + 14 days", []string{"DateTime//2025-03-28T09:20:00Z"}},
		{"Task.restriction.period.end - 1 month", []string{"DateTime//2025-05-14T23:59:59+01:00"}},
		{"1.50 * 2", []string{"Decimal//3.00"}},
		{"5 'mg'", []string{"Quantity//5 'mg'"}},
		{"Task.missing", nil},
		{"{}", nil},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got := showAll(mustEvaluate(t, e, tc.expr, task))
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Evaluate(%q) (-want +got):\n%s", tc.expr, diff)
			}
		})
	}
}

func TestValue_Accessors(t *testing.T) {
	e, task := NewEngine(), benchTask(t)
	due := mustEvaluate(t, e, "Task.input[1].value", task)[0]
	q, ok := due.Quantity()
	if want := (Quantity{Value: "14", Unit: "days", System: "http://unitsofmeasure.org", Code: "d"}); !ok || q != want {
		t.Errorf("Quantity() = %+v, %v; want %+v", q, ok, want)
	}
	if obj, ok := due.Object(); !ok || obj["code"] != "d" {
		t.Errorf("Object() = %v, %v; want the Duration", obj, ok)
	}
	code := mustEvaluate(t, e, "Task.code", task)[0]
	if obj, ok := code.Object(); !ok || code.FHIRType() != "CodeableConcept" || obj["text"] != "Repeat blood test" {
		t.Errorf("Task.code = %s, %v", show(code), ok)
	}
	if _, ok := code.AsString(); ok {
		t.Error("AsString() of an element: ok, want not ok")
	}
	status := mustEvaluate(t, e, "Task.status", task)[0]
	if s, ok := status.AsString(); !ok || s != "requested" {
		t.Errorf("AsString() = %q, %v", s, ok)
	}
	rep := mustEvaluate(t, e, "Task.restriction.repetitions", task)[0]
	if n, ok := rep.AsInt(); !ok || n != 1 {
		t.Errorf("AsInt() = %d, %v", n, ok)
	}
	if d, ok := rep.Decimal(); !ok || d != "1" {
		t.Errorf("Decimal() of an Integer = %q, %v", d, ok)
	}
	dec := mustEvaluate(t, e, "1.50", nil)[0]
	if d, ok := dec.Decimal(); !ok || d != "1.50" {
		t.Errorf("Decimal() = %q, %v; want the exact text 1.50", d, ok)
	}
	b := mustEvaluate(t, e, "true", nil)[0]
	if v, ok := b.AsBool(); !ok || !v {
		t.Errorf("AsBool() = %v, %v", v, ok)
	}
}

func TestValue_Temporal(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind       Kind
		text       string
		prec       Precision
		start, end string
	}{
		{KindDate, "2024", PrecisionYear, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
		{KindDate, "2024-06", PrecisionMonth, "2024-05-31T23:00:00Z", "2024-06-30T23:00:00Z"},
		{KindDate, "2024-02-29", PrecisionDay, "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"},
		{KindDateTime, "2025-03-14T09:20:00+01:00", PrecisionSecond, "2025-03-14T08:20:00Z", "2025-03-14T08:20:01Z"},
		{KindDateTime, "2025-03-14T09:20:00.12Z", PrecisionMillisecond, "2025-03-14T09:20:00.12Z", "2025-03-14T09:20:00.13Z"},
		{KindDateTime, "2025-07-14T09:20:00", PrecisionSecond, "2025-07-14T08:20:00Z", "2025-07-14T08:20:01Z"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			v, err := temporalValue(tc.kind, tc.text)
			if err != nil {
				t.Fatal(err)
			}
			tm, ok := v.Temporal()
			if !ok || tm.Precision != tc.prec {
				t.Fatalf("Temporal() = %+v, %v; want precision %d", tm, ok, tc.prec)
			}
			start := tm.Start(london).UTC().Format(time.RFC3339Nano)
			end := tm.End(london).UTC().Format(time.RFC3339Nano)
			if start != tc.start || end != tc.end {
				t.Errorf("range = %s – %s, want %s – %s", start, end, tc.start, tc.end)
			}
		})
	}
}

func TestValue_Constructors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		make    func() (Value, error)
		want    string
		wantErr bool
	}{
		{"decimal", func() (Value, error) { return DecimalValue("0.10") }, "Decimal//0.10", false},
		{"not a decimal", func() (Value, error) { return DecimalValue("1.") }, "", true},
		{"date", func() (Value, error) { return DateValue("2024-02") }, "Date//2024-02", false},
		{"bad date", func() (Value, error) { return DateValue("2024-02-30") }, "", true},
		{"date-time", func() (Value, error) { return DateTimeValue("2024-02-03T04:05:06Z") }, "DateTime//2024-02-03T04:05:06Z", false},
		{"date-time without seconds' zone", func() (Value, error) { return DateTimeValue("2024-02-03T04:05:06+25:00") }, "", true},
		{"time", func() (Value, error) { return TimeValue("10:30") }, "Time//10:30", false},
		{"quantity", func() (Value, error) { return QuantityValue("14", "days") }, "Quantity//14 'days'", false},
		{"bad quantity", func() (Value, error) { return QuantityValue("x", "d") }, "", true},
		{"primitive", func() (Value, error) { return PrimitiveValue("final", nil, "code") }, "String/code/final", false},
		{"primitive number", func() (Value, error) { return PrimitiveValue(fhirNumber("2.50"), nil, "decimal") }, "Decimal/decimal/2.50", false},
		{"primitive of the wrong JSON type", func() (Value, error) { return PrimitiveValue(true, nil, "date") }, "", true},
		{"primitive with neither value nor extension", func() (Value, error) { return PrimitiveValue(nil, nil, "date") }, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.make()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && show(v) != tc.want {
				t.Errorf("value = %s, want %s", show(v), tc.want)
			}
		})
	}
	if got := show(ElementValue(fhir.Object{"start": "2024"}, "Period")); got != `Element/Period/{"start":"2024"}` {
		t.Errorf("ElementValue = %s", got)
	}
	if got := show(StringValue("a")) + " " + show(BooleanValue(false)) + " " + show(IntegerValue(-3)); got != "String//a Boolean//false Integer//-3" {
		t.Errorf("constructors = %s", got)
	}
}

func TestEvaluateBool(t *testing.T) {
	e, task := NewEngine(), benchTask(t)
	for _, tc := range []struct {
		expr    string
		want    bool
		wantErr bool
	}{
		{"Task.status = 'requested'", true, false},
		{"Task.status = 'draft'", false, false},
		{"Task.missing = 'x'", true, false}, // empty: the invariant does not apply
		{"Task.status", true, false},        // one non-Boolean item is true
		{"Task.identifier.value", false, true},
		{"Task.identifier.value.substring(1)", false, true},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := mustCompile(t, e, tc.expr).EvaluateBool(task)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("EvaluateBool(%q) = %v, %v; want %v, error %v", tc.expr, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestEvaluate_WithContext(t *testing.T) {
	e, task := NewEngine(), benchTask(t)
	per1 := mustCompile(t, e, "start.hasValue().not() or end.hasValue().not() or (start <= end)")
	ext1 := mustCompile(t, e, "extension.exists() != value.exists()")
	ele1 := mustCompile(t, e, "hasValue() or (children().count() > id.count())")
	period := mustEvaluate(t, e, "Task.restriction.period", task)[0]
	absent, err := PrimitiveValue(nil, fhir.Object{"extension": []any{
		map[string]any{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}}}, "date")
	if err != nil {
		t.Fatal(err)
	}
	withExt, err := PrimitiveValue("2025-01-01", fhir.Object{"id": "d1"}, "date")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		x    *Expr
		node Value
		want bool
	}{
		{"per-1 on a Period from the Task", per1, period, true},
		{"per-1 on a Period made by ElementValue", per1, ElementValue(fhir.Object{"start": "2025-02-01", "end": "2025-01-01"}, "Period"), false},
		{"per-1 with precisions that do not compare", per1, ElementValue(fhir.Object{"start": "2025", "end": "2025-01-01"}, "Period"), true},
		{"ext-1 on an extension", ext1, mustEvaluate(t, e, "Task.extension[0]", task)[0], true},
		{"ext-1 on an empty extension", ext1, ElementValue(fhir.Object{"url": "http://x"}, "Extension"), false},
		{"ele-1 on a primitive", ele1, withExt, true},
		{"ele-1 on a primitive with only an extension", ele1, absent, true},
		{"hasValue() on a primitive with only an extension", mustCompile(t, e, "hasValue().not() and extension.exists()"), absent, true},
		{"ele-1 on an empty element", ele1, ElementValue(fhir.Object{}, "Period"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.x.EvaluateBool(task, WithContext(tc.node))
			if err != nil || got != tc.want {
				t.Errorf("EvaluateBool = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	// %context is the node, %resource the Task
	got := showAll(mustEvaluate(t, e, "%context.end | %resource.status", task, WithContext(period)))
	if diff := cmp.Diff([]string{"DateTime/dateTime/2025-06-14T23:59:59+01:00", "String/code/requested"}, got); diff != "" {
		t.Errorf("%%context and %%resource (-want +got):\n%s", diff)
	}
}

func TestEvaluate_Options(t *testing.T) {
	e := NewEngine()
	patient := fhir.Object{"resourceType": "Patient", "id": "p1",
		"contained":           []any{map[string]any{"resourceType": "Practitioner", "id": "gp"}},
		"generalPractitioner": []any{map[string]any{"reference": "#gp"}}}
	contained := patient["contained"].([]any)[0].(map[string]any)
	due, err := DateValue("2025-03-14")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 14, 23, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		expr     string
		resource fhir.Object
		opts     []Option
		want     []string
	}{
		{"contained reference", "Patient.generalPractitioner.resolve().id", patient, nil, []string{"String//gp"}},
		{"root resource of a contained one", "%rootResource.id | %resource.id", contained, []Option{WithRootResource(patient)}, []string{"String//p1", "String//gp"}},
		{"variable", "%due + 14 days", nil, []Option{WithVariable("due", due)}, []string{"Date//2025-03-28"}},
		{"now", "now() | today() | timeOfDay()", nil, []Option{WithNow(now)}, []string{"DateTime//2025-03-14T23:30:00.000Z", "Date//2025-03-14", "Time//23:30:00.000"}},
		{"FHIR constants", "%ucum | %sct | %loinc | %`vs-task-status` | %`ext-data-absent-reason`", nil, nil, []string{
			"String//http://unitsofmeasure.org", "String//http://snomed.info/sct", "String//http://loinc.org",
			"String//http://hl7.org/fhir/ValueSet/task-status", "String//http://hl7.org/fhir/StructureDefinition/data-absent-reason"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := showAll(mustEvaluate(t, e, tc.expr, tc.resource, tc.opts...))
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Evaluate(%q) (-want +got):\n%s", tc.expr, diff)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	e := NewEngine()
	bundle := fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
			"resource": map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"family": "Jones"}}}}}}
	for _, tc := range []struct {
		ref  string
		want []string
	}{
		{"Patient/123", []string{`Element/Patient/{"resourceType":"Patient","id":"123"}`}},
		{"https://fhir.example.org/r4/Organization/RX1/_history/2", []string{`Element/Organization/{"resourceType":"Organization","id":"RX1"}`}},
		{"http://hl7.org/fhir/ValueSet/task-status|4.0.1", []string{`Element/ValueSet/{"resourceType":"ValueSet","id":"task-status"}`}},
		{"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", []string{`Element/Patient/{"resourceType":"Patient","name":[{"family":"Jones"}]}`}},
		{"Unknown/123", nil},
		{"Patient/not_an_id", nil},
		{"#missing", nil},
		{"123", nil},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			got := showAll(mustEvaluate(t, e, "'"+tc.ref+"'.resolve()", nil, WithRootResource(bundle)))
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("resolve(%q) (-want +got):\n%s", tc.ref, diff)
			}
		})
	}
}

func TestCompile_Errors(t *testing.T) {
	e := NewEngine()
	for _, tc := range []struct {
		expr     string
		wantLine int
		wantCol  int
		wantMsg  string
	}{
		{"", 1, 0, "empty expression"},
		{"Task.", 1, 5, "mismatched input"},
		{"Task.status = ", 1, 14, "mismatched input"},
		{"Task.status.where(", 1, 18, ""},
		{"Task.status.frobnicate()", 1, 12, "unknown function frobnicate()"},
		{"Task.where()", 1, 5, "where() takes 1 argument, not 0"},
		{"Task.status.substring(1, 2, 3)", 1, 12, "substring() takes 1 to 2 arguments, not 3"},
		{"Task.status.matches('[a-')", 1, 12, "invalid regular expression"},
		{"@2024-13-01", 1, 0, "invalid Date literal"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := e.Compile(tc.expr)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) = %v, want a *SyntaxError", tc.expr, err)
			}
			if se.Line != tc.wantLine || se.Column != tc.wantCol || !strings.Contains(se.Msg, tc.wantMsg) {
				t.Errorf("Compile(%q) = %d:%d %q, want %d:%d containing %q", tc.expr, se.Line, se.Column, se.Msg, tc.wantLine, tc.wantCol, tc.wantMsg)
			}
		})
	}
}

func TestEvaluate_Errors(t *testing.T) {
	e, task := NewEngine(), benchTask(t)
	for _, tc := range []struct {
		expr    string
		wantMsg string
	}{
		{"Task.identifier.value.substring(1)", "substring() needs one item, not 2"},
		{"Task.identifier.value + 1", "operator needs one item on each side"},
		{"%undefined", "undefined variable %undefined"},
		{"Task.status < 1", "cannot compare String with Integer"},
		{"Task.identifier is Identifier", "'is' needs one item, not 2"},
		{"Task.code.coding.code.memberOf('http://hl7.org/fhir/ValueSet/x')", "memberOf() needs a terminology service"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := mustCompile(t, e, tc.expr).Evaluate(task)
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Evaluate(%q) error = %v, want %q", tc.expr, err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), "ACC-2025") || strings.Contains(err.Error(), "requested") {
				t.Errorf("error %q quotes resource content", err)
			}
		})
	}
}

type panicking struct{}

func (panicking) eval(*evalCtx, []Value) ([]Value, error) { panic("boom") }

func TestEvaluate_RecoversPanics(t *testing.T) {
	e := NewEngine()
	x := &Expr{src: "panicking", root: panicking{}, e: e}
	if _, err := x.Evaluate(fhir.Object{"resourceType": "Task"}); err == nil || !strings.Contains(err.Error(), "internal error: boom") {
		t.Errorf("Evaluate of a panicking node: err = %v, want the recovered panic", err)
	}
	// data that did not come from JSON does not make the engine panic
	odd := fhir.Object{"resourceType": "Task", "identifier": []string{"x"}, "status": 42,
		"code": map[string]string{"text": "x"}, "restriction": map[string]any{"repetitions": "one"}}
	for _, src := range []string{"Task.identifier.value", "Task.status", "Task.code.text", "Task.restriction.repetitions + 1",
		"Task.descendants()", "Task.children().count()"} {
		if _, err := mustCompile(t, e, src).Evaluate(odd); err != nil && strings.Contains(err.Error(), "internal error") {
			t.Errorf("Evaluate(%q) on odd data panicked: %v", src, err)
		}
	}
}

func TestEngine_Concurrent(t *testing.T) {
	e, task := NewEngine(), benchTask(t)
	exprs := append(append([]string{}, benchSearch...), benchInvariant, "Task.descendants().ofType(Reference).resolve()")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				src := exprs[(g+i)%len(exprs)]
				x, err := e.Compile(src)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := x.Evaluate(task); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestModel(t *testing.T) {
	m, err := newModel()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, typ, name string
		want            string
	}{
		{"Task", "Task", "owner", "Reference"},
		{"Task", "Task", "id", "System.String"},
		{"Task", "Task", "text", "Narrative"},
		{"Task.restriction", typeBackbone, "period", "Period"},
		{"Task.restriction", typeBackbone, "modifierExtension", "Extension"},
		{"Questionnaire.item", typeBackbone, "item", typeBackbone},
		{"Age", "Age", "value", "decimal"},
		{"Observation", "Observation", "value", "Quantity"},
	} {
		d := m.child(tc.path, tc.typ, tc.name)
		if d == nil || d.types[0] != tc.want {
			t.Errorf("child(%s, %s) = %+v, want type %s", tc.path, tc.name, d, tc.want)
		}
	}
	if c, ok := m.choice("Observation", "Observation", "valueQuantity"); !ok || c.typ != "Quantity" {
		t.Errorf("choice valueQuantity = %+v, %v", c, ok)
	}
	if !m.isSubtype("Age", "Quantity") || !m.isSubtype("code", "string") || !m.isSubtype("Task", "Resource") || m.isSubtype("Quantity", "Age") {
		t.Error("isSubtype: wrong type hierarchy")
	}
}

func fhirNumber(s string) any {
	obj, err := fhir.DecodeObject([]byte(`{"n":`+s+`}`), 2)
	if err != nil {
		panic(err)
	}
	return obj["n"]
}
