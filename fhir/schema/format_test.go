package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/fhir"
	"github.com/google/go-cmp/cmp"
)

// inputValue replaces the value of the first input of testdata/task.json with val under key (valueInteger …).
func inputValue(key string, val any) func(testing.TB, fhir.Object) {
	return func(tb testing.TB, o fhir.Object) {
		set(tb, o, map[string]any{"type": get(tb, o, "input", 0, "type"), key: val}, "input", 0)
	}
}

// setAt returns a mutation that sets the value at path.
func setAt(val any, path ...any) func(testing.TB, fhir.Object) {
	return func(tb testing.TB, o fhir.Object) { set(tb, o, val, path...) }
}

func TestValidate_PrimitiveValues(t *testing.T) {
	v := newValidator(t)
	ext := map[string]any{"extension": []any{map[string]any{"url": "http://example.org/x", "valueString": "y"}}}
	for _, tc := range []struct {
		name   string
		file   string // as readExample takes it
		mutate func(tb testing.TB, o fhir.Object)
		want   []issueKey // nil: valid
	}{
		// integer, positiveInt, unsignedInt: JSON numbers without fraction or exponent, in range
		{"integer", "./task.json", inputValue("valueInteger", json.Number("2")), nil},
		{"integer minimum", "./task.json", inputValue("valueInteger", json.Number("-2147483648")), nil},
		{"integer maximum", "./task.json", inputValue("valueInteger", json.Number("2147483647")), nil},
		{"integer with a fraction", "./task.json", inputValue("valueInteger", json.Number("2.5")),
			[]issueKey{{"Task.input[0].valueInteger", "value"}}},
		{"integer with a zero fraction", "./task.json", inputValue("valueInteger", json.Number("2.0")),
			[]issueKey{{"Task.input[0].valueInteger", "value"}}},
		{"integer with an exponent", "./task.json", inputValue("valueInteger", json.Number("1e2")),
			[]issueKey{{"Task.input[0].valueInteger", "value"}}},
		{"integer above 2^31-1", "./task.json", inputValue("valueInteger", json.Number("2147483648")),
			[]issueKey{{"Task.input[0].valueInteger", "value"}}},
		{"integer below -2^31", "./task.json", inputValue("valueInteger", json.Number("-2147483649")),
			[]issueKey{{"Task.input[0].valueInteger", "value"}}},
		{"integer far out of range", "./task.json", inputValue("valueInteger", json.Number("99999999999999999999")),
			[]issueKey{{"Task.input[0].valueInteger", "value"}}},
		{"integer as a string", "./task.json", inputValue("valueInteger", "2"),
			[]issueKey{{"Task.input[0].valueInteger", "structure"}}},
		// text: no control characters but tab, line feed and carriage return
		{"string with tab and line breaks", "./task.json", inputValue("valueString", "a\tb\r\nc"), nil},
		{"string with NUL", "./task.json", inputValue("valueString", "a\x00b"), []issueKey{{"Task.input[0].valueString", "value"}}},
		{"string with vertical tab", "./task.json", inputValue("valueString", "a\vb"), []issueKey{{"Task.input[0].valueString", "value"}}},
		{"string with escape", "./task.json", inputValue("valueString", "a\x1bb"), []issueKey{{"Task.input[0].valueString", "value"}}},
		{"markdown with NUL", "./task.json", inputValue("valueMarkdown", "a\x00b"), []issueKey{{"Task.input[0].valueMarkdown", "value"}}},
		{"code with NUL", "./task.json", setAt("requested\x00", "status"), []issueKey{{"Task.status", "value"}}},
		{"uri with NUL", "./task.json", inputValue("valueUri", "http://x/\x00"), []issueKey{{"Task.input[0].valueUri", "value"}}},
		{"string of 1 MB", "./task.json", inputValue("valueString", strings.Repeat("a", 1<<20)), nil},
		{"string over 1 MB", "./task.json", inputValue("valueString", strings.Repeat("a", 1<<20+1)), []issueKey{{"Task.input[0].valueString", "value"}}},
		{"positiveInt 1", "./task.json", inputValue("valuePositiveInt", json.Number("1")), nil},
		{"positiveInt 0", "./task.json", inputValue("valuePositiveInt", json.Number("0")),
			[]issueKey{{"Task.input[0].valuePositiveInt", "value"}}},
		{"positiveInt above 2^31-1", "./task.json", inputValue("valuePositiveInt", json.Number("2147483648")),
			[]issueKey{{"Task.input[0].valuePositiveInt", "value"}}},
		{"positiveInt element 0", "./task.json", setAt(json.Number("0"), "restriction", "repetitions"),
			[]issueKey{{"Task.restriction.repetitions", "value"}}},
		{"unsignedInt 0", "./task.json", inputValue("valueUnsignedInt", json.Number("0")), nil},
		{"unsignedInt -1", "./task.json", inputValue("valueUnsignedInt", json.Number("-1")),
			[]issueKey{{"Task.input[0].valueUnsignedInt", "value"}}},
		{"unsignedInt -0", "./task.json", inputValue("valueUnsignedInt", json.Number("-0")),
			[]issueKey{{"Task.input[0].valueUnsignedInt", "value"}}},
		{"multipleBirthInteger with a fraction", "Patient-example.json", func(tb testing.TB, o fhir.Object) {
			o["multipleBirthInteger"] = json.Number("1.5")
		}, []issueKey{{"Patient.multipleBirthInteger", "value"}}},
		{"decimal with an exponent", "./task.json", inputValue("valueDecimal", json.Number("1e2")), nil},
		{"decimal with a fraction", "./task.json", inputValue("valueDecimal", json.Number("2.5")), nil},

		// date, dateTime, instant: the day exists in its month
		{"date 29 February in a leap year", "Patient-example.json", setAt("2024-02-29", "birthDate"), nil},
		{"date 29 February 2000", "Patient-example.json", setAt("2000-02-29", "birthDate"), nil},
		{"date year and month", "Patient-example.json", setAt("2025-02", "birthDate"), nil},
		{"date 31 December", "Patient-example.json", setAt("2025-12-31", "birthDate"), nil},
		{"date 30 February", "Patient-example.json", setAt("2026-02-30", "birthDate"),
			[]issueKey{{"Patient.birthDate", "value"}}},
		{"date 31 April", "Patient-example.json", setAt("2025-04-31", "birthDate"),
			[]issueKey{{"Patient.birthDate", "value"}}},
		{"date 29 February in a common year", "Patient-example.json", setAt("2025-02-29", "birthDate"),
			[]issueKey{{"Patient.birthDate", "value"}}},
		{"date 29 February 1900", "Patient-example.json", setAt("1900-02-29", "birthDate"),
			[]issueKey{{"Patient.birthDate", "value"}}},
		{"date 30 February 1970", "Patient-example.json", setAt("1970-02-30", "birthDate"),
			[]issueKey{{"Patient.birthDate", "value"}}},
		{"date month 00", "Patient-example.json", setAt("2025-00-10", "birthDate"),
			[]issueKey{{"Patient.birthDate", "value"}}},
		{"dateTime 30 February", "./task.json", setAt("2025-02-30T10:00:00Z", "authoredOn"),
			[]issueKey{{"Task.authoredOn", "value"}}},
		{"dateTime 30 February, date only", "./task.json", setAt("2025-02-30", "authoredOn"),
			[]issueKey{{"Task.authoredOn", "value"}}},
		{"dateTime leap second and extreme zones", "./task.json", func(tb testing.TB, o fhir.Object) {
			set(tb, o, "2024-02-29T23:59:60+14:00", "authoredOn")
			set(tb, o, "2024-12-31T00:00:00-13:59", "lastModified")
		}, nil},
		{"dateTime hour 24", "./task.json", setAt("2025-02-28T24:00:00Z", "authoredOn"),
			[]issueKey{{"Task.authoredOn", "value"}}},
		{"dateTime minute 60", "./task.json", setAt("2025-02-28T10:60:00Z", "authoredOn"),
			[]issueKey{{"Task.authoredOn", "value"}}},
		{"dateTime second 61", "./task.json", setAt("2025-02-28T10:00:61Z", "authoredOn"),
			[]issueKey{{"Task.authoredOn", "value"}}},
		{"dateTime zone +14:01", "./task.json", setAt("2025-02-28T10:00:00+14:01", "authoredOn"),
			[]issueKey{{"Task.authoredOn", "value"}}},
		{"dateTime zone -15:00", "./task.json", setAt("2025-02-28T10:00:00-15:00", "authoredOn"),
			[]issueKey{{"Task.authoredOn", "value"}}},
		{"instant 29 February in a common year", "./task.json", setAt("2025-02-29T10:00:00Z", "meta", "lastUpdated"),
			[]issueKey{{"Task.meta.lastUpdated", "value"}}},
		{"date choice 31 June", "./task.json", inputValue("valueDate", "2025-06-31"),
			[]issueKey{{"Task.input[0].valueDate", "value"}}},
		{"dateTime choice 31 November", "./task.json", setAt("2025-11-31T17:00:00+00:00", "extension", 1, "valueDateTime"),
			[]issueKey{{"Task.extension[1].valueDateTime", "value"}}},
		{"time hour 24", "./task.json", inputValue("valueTime", "24:00:00"),
			[]issueKey{{"Task.input[0].valueTime", "value"}}},

		// Reference.reference is a literal reference; strings may be blank, codes, ids and uris follow their patterns
		{"reference blank", "./task.json", setAt("  ", "focus", "reference"),
			[]issueKey{{"Task.focus.reference", "value"}}},
		{"reference with leading space", "./task.json", setAt(" ServiceRequest/1", "basedOn", 0, "reference"),
			[]issueKey{{"Task.basedOn[0].reference", "value"}}},
		{"reference with trailing newline", "./task.json", setAt("Encounter/1\n", "encounter", "reference"),
			[]issueKey{{"Task.encounter.reference", "value"}}},
		{"reference empty", "./task.json", setAt("", "focus", "reference"),
			[]issueKey{{"Task.focus.reference", "value"}}},
		{"reference in a nested datatype", "./task.json", setAt("\t", "note", 0, "authorReference", "reference"),
			[]issueKey{{"Task.note[0].authorReference.reference", "value"}}},
		{"string of spaces only", "./task.json", setAt("   ", "description"), nil},
		{"code with leading space", "./task.json", setAt(" C4.2", "meta", "tag", 0, "code"),
			[]issueKey{{"Task.meta.tag[0].code", "value"}}},
		{"code with two spaces", "./task.json", setAt("C4  2", "meta", "tag", 0, "code"),
			[]issueKey{{"Task.meta.tag[0].code", "value"}}},
		{"code with one inner space", "./task.json", setAt("C4 2", "meta", "tag", 0, "code"), nil},
		{"uri with a space", "./task.json", setAt("https://example.org/a b", "identifier", 0, "system"),
			[]issueKey{{"Task.identifier[0].system", "value"}}},
		{"id with an underscore", "./task.json", setAt("a_b", "id"), []issueKey{{"Task.id", "value"}}},

		// repeating primitives: null only where the extensions array has the item's extensions
		{"null value with extensions", "Patient-example.json", func(tb testing.TB, o fhir.Object) {
			set(tb, o, []any{"Ann", nil}, "name", 0, "given")
			set(tb, o, []any{nil, ext}, "name", 0, "_given")
		}, nil},
		{"extensions only, no values array", "Patient-example.json", func(tb testing.TB, o fhir.Object) {
			delete(get(tb, o, "name", 1).(map[string]any), "given")
			set(tb, o, []any{ext}, "name", 1, "_given")
		}, nil},
		{"null value without extensions array", "Patient-example.json", setAt([]any{"Ann", nil}, "name", 0, "given"),
			[]issueKey{{"Patient.name[0].given[1]", "structure"}}},
		{"null in both arrays", "Patient-example.json", func(tb testing.TB, o fhir.Object) {
			set(tb, o, []any{"Ann", nil}, "name", 0, "given")
			set(tb, o, []any{ext, nil}, "name", 0, "_given")
		}, []issueKey{{"Patient.name[0].given[1]", "structure"}}},
		{"extensions array longer", "Patient-example.json", func(tb testing.TB, o fhir.Object) {
			set(tb, o, []any{"Ann"}, "name", 0, "given")
			set(tb, o, []any{nil, ext}, "name", 0, "_given")
		}, []issueKey{{"Patient.name[0].given", "structure"}}},
		{"extensions array shorter", "Patient-example.json", setAt([]any{ext}, "name", 0, "_given"),
			[]issueKey{{"Patient.name[0].given", "structure"}}},
		{"null in an extensions array without values", "Patient-example.json", func(tb testing.TB, o fhir.Object) {
			delete(get(tb, o, "name", 1).(map[string]any), "given")
			set(tb, o, []any{ext, nil}, "name", 1, "_given")
		}, []issueKey{{"Patient.name[1].given[1]", "structure"}}},
		{"null in an array of datatypes", "Patient-example.json", setAt([]any{nil}, "name"),
			[]issueKey{{"Patient.name[0]", "structure"}}},
		{"null in a contained resource's primitive array", "CareTeam-example.json", func(tb testing.TB, o fhir.Object) {
			set(tb, o, []any{map[string]any{"family": "X", "given": []any{nil}}}, "contained", 0, "name")
		}, []issueKey{{"CareTeam.contained[0].name[0].given[0]", "structure"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readExample(t, tc.file)
			tc.mutate(t, obj)
			got := v.Validate(obj)
			if diff := cmp.Diff(tc.want, keys(got)); diff != "" {
				t.Errorf("Validate (-want +got):\n%s\nissues: %+v", diff, got)
			}
		})
	}
}

func TestValidate_PrimitiveValues_Wording(t *testing.T) {
	v := newValidator(t)
	ext := map[string]any{"extension": []any{map[string]any{"url": "http://example.org/x", "valueString": "y"}}}
	for _, tc := range []struct {
		name   string
		file   string
		mutate func(tb testing.TB, o fhir.Object)
		want   fhir.Issue
	}{{
		name: "integer with a fraction", file: "./task.json", mutate: inputValue("valueInteger", json.Number("2.5")),
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue, Expression: []string{"Task.input[0].valueInteger"},
			Details:     "Task.input[0].valueInteger is not a valid integer: it must be a whole number from -2147483648 to 2147483647, written without a fraction or exponent",
			Diagnostics: "value 2.5 has a fraction or an exponent"},
	}, {
		name: "positiveInt out of range", file: "./task.json", mutate: setAt(json.Number("0"), "restriction", "repetitions"),
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue, Expression: []string{"Task.restriction.repetitions"},
			Details:     "Task.restriction.repetitions is not a valid positiveInt: it must be a whole number from 1 to 2147483647, written without a fraction or exponent",
			Diagnostics: "value 0 is out of range"},
	}, {
		name: "day not in its month", file: "Patient-example.json", mutate: setAt("2025-02-29", "birthDate"),
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue, Expression: []string{"Patient.birthDate"},
			Details:     "Patient.birthDate is not a valid date: the day does not exist in its month",
			Diagnostics: `value "2025-02-29": February 2025 has 28 days`},
	}, {
		name: "blank reference", file: "./task.json", mutate: setAt("  ", "focus", "reference"),
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue, Expression: []string{"Task.focus.reference"},
			Details:     "Task.focus.reference is not a valid reference: it must not be blank, nor start or end with whitespace",
			Diagnostics: `value "  " has leading or trailing whitespace`},
	}, {
		name: "null value without extensions", file: "Patient-example.json", mutate: setAt([]any{"Ann", nil}, "name", 0, "given"),
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueStructure, Expression: []string{"Patient.name[0].given[1]"},
			Details: "Patient.name[0].given[1] must not be null: null stands in a repeating primitive only for an item " +
				"whose extensions are in Patient.name[0]._given at the same index"},
	}, {
		name: "null in both arrays", file: "Patient-example.json", mutate: func(tb testing.TB, o fhir.Object) {
			set(tb, o, []any{"Ann", nil}, "name", 0, "given")
			set(tb, o, []any{ext, nil}, "name", 0, "_given")
		},
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueStructure, Expression: []string{"Patient.name[0].given[1]"},
			Details: "Patient.name[0].given[1] has neither a value nor extensions: Patient.name[0].given and " +
				"Patient.name[0]._given both hold null at index 1"},
	}, {
		name: "arrays of different lengths", file: "Patient-example.json", mutate: setAt([]any{ext}, "name", 0, "_given"),
		want: fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueStructure, Expression: []string{"Patient.name[0].given"},
			Details: "Patient.name[0].given has 2 items and Patient.name[0]._given has 1: the two arrays must have the " +
				"same length, with null for the value or the extensions an item lacks"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			obj := readExample(t, tc.file)
			tc.mutate(t, obj)
			if diff := cmp.Diff([]fhir.Issue{tc.want}, v.Validate(obj)); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFormats_GoNumbers checks the integer formats on numbers built in Go rather than decoded as json.Number.
func TestFormats_GoNumbers(t *testing.T) {
	check := checkInteger(1, "1")
	for _, tc := range []struct {
		v    any
		want bool // valid
	}{
		{float64(3), true}, {2.5, false}, {0, false}, {int64(1 << 31), false}, {1, true}, {"1", true},
	} {
		if got := check(tc.v) == nil; got != tc.want {
			t.Errorf("positiveInt check of %#v: valid %v, want %v", tc.v, got, tc.want)
		}
	}
}
