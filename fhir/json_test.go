package fhir

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeObject(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		wantErr  string // "" for success
	}{
		{"object", `{"resourceType":"Patient","a":{"b":[1,2]}}`, ""},
		{"duplicate key", `{"resourceType":"Patient","gender":"male","gender":"female"}`, `the key "gender" twice`},
		{"duplicate nested key", `{"a":[{"x":1,"y":2,"x":3}]}`, `the key "x" twice`},
		{"same key in sibling objects", `{"a":[{"x":1},{"x":2}],"b":{"x":1}}`, ""},
		{"key-like string value", `{"a":"x","b":"x"}`, ""},
		{"escaped quote in key", `{"a\"b":1,"a":2}`, ""},
		{"not json", `{"a":`, "invalid JSON"},
		{"array", `[1]`, "must be a JSON object, not an array"},
		{"trailing data", `{"a":1} {}`, "unexpected data"},
		{"empty", ``, "invalid JSON"},
		{"too deep", strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70), "deeper than the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeObject([]byte(tc.in), 64)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("DecodeObject(%s) = %v", tc.in, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("DecodeObject(%s) = %v, want an error containing %q", tc.in, err, tc.wantErr)
			}
		})
	}
}

func TestMarshal_KeepsNumbersAndPutsIdentityFirst(t *testing.T) {
	obj, err := DecodeObject([]byte(`{"valueDecimal":1.50,"meta":{"versionId":"1"},"id":"x","resourceType":"Observation","text":"<a&b>"}`), 64)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"resourceType":"Observation","id":"x","meta":{"versionId":"1"},"text":"<a&b>","valueDecimal":1.50}`
	if string(got) != want {
		t.Errorf("Marshal = %s\nwant      %s", got, want)
	}
}

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // expressions
	}{
		{"valid", `{"resourceType":"Patient","name":[{"given":["A","B"],"_given":[null,{"extension":[{"url":"u","valueString":"x"}]}]}]}`, nil},
		{"empty array", `{"resourceType":"Patient","name":[]}`, []string{"Patient.name"}},
		{"empty object", `{"resourceType":"Patient","maritalStatus":{}}`, []string{"Patient.maritalStatus"}},
		{"null property", `{"resourceType":"Patient","gender":null}`, []string{"Patient.gender"}},
		{"null items are the schema's to check", `{"resourceType":"Patient","name":[{"given":["A",null]}]}`, nil},
		{"null property inside an array item", `{"resourceType":"Patient","name":[{"family":null}]}`, []string{"Patient.name[0].family"}},
		{"inside contained", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","alias":[]}]}`, []string{"Patient.contained[0].alias"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := DecodeObject([]byte(tc.in), 64)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, is := range CheckJSON(obj) {
				if is.Severity != SeverityError || is.Code != IssueStructure {
					t.Errorf("issue %+v: want an error of code structure", is)
				}
				got = append(got, is.Expression...)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("expressions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []any
	}{
		{nil, []any{}},
		{[]string{"a"}, []any{"a"}},
		{[]string{"a", "b", "a"}, []any{"a", "b", "a"}},
	} {
		if got := Strings(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Strings(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}
