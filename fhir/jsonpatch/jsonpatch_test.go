package jsonpatch

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/fhir"
)

func TestApply(t *testing.T) {
	doc := `{"resourceType":"Task","id":"t1","status":"requested","input":[{"a":1},{"a":2}],"note":[{"text":"x"}]}`
	for _, tc := range []struct {
		name, patch, want string
	}{
		{"replace", `[{"op":"replace","path":"/status","value":"accepted"}]`, `{"resourceType":"Task","id":"t1","status":"accepted","input":[{"a":1},{"a":2}],"note":[{"text":"x"}]}`},
		{"add member", `[{"op":"add","path":"/priority","value":"urgent"}]`, `{"resourceType":"Task","id":"t1","status":"requested","priority":"urgent","input":[{"a":1},{"a":2}],"note":[{"text":"x"}]}`},
		{"add into array", `[{"op":"add","path":"/input/1","value":{"a":9}}]`, `{"resourceType":"Task","id":"t1","status":"requested","input":[{"a":1},{"a":9},{"a":2}],"note":[{"text":"x"}]}`},
		{"append", `[{"op":"add","path":"/input/-","value":{"a":3}}]`, `{"resourceType":"Task","id":"t1","status":"requested","input":[{"a":1},{"a":2},{"a":3}],"note":[{"text":"x"}]}`},
		{"remove from array", `[{"op":"remove","path":"/input/0"}]`, `{"resourceType":"Task","id":"t1","status":"requested","input":[{"a":2}],"note":[{"text":"x"}]}`},
		{"move", `[{"op":"move","from":"/note/0/text","path":"/description"}]`, `{"resourceType":"Task","id":"t1","status":"requested","description":"x","input":[{"a":1},{"a":2}],"note":[{}]}`},
		{"copy", `[{"op":"copy","from":"/status","path":"/description"}]`, `{"resourceType":"Task","id":"t1","status":"requested","description":"requested","input":[{"a":1},{"a":2}],"note":[{"text":"x"}]}`},
		{"test then replace", `[{"op":"test","path":"/input/1/a","value":2.0},{"op":"replace","path":"/input/1/a","value":5}]`, `{"resourceType":"Task","id":"t1","status":"requested","input":[{"a":1},{"a":5}],"note":[{"text":"x"}]}`},
		{"escaped pointer", `[{"op":"add","path":"/a~1b","value":1}]`, `{"resourceType":"Task","id":"t1","status":"requested","a/b":1,"input":[{"a":1},{"a":2}],"note":[{"text":"x"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Apply(mustObj(t, doc), []byte(tc.patch), 64)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if diff := cmp.Diff(mustObj(t, tc.want), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestApply_Errors(t *testing.T) {
	doc := `{"resourceType":"Task","status":"requested","input":[{"a":1}]}`
	for _, tc := range []struct{ name, patch string }{
		{"not an array", `{"op":"add"}`},
		{"unknown op", `[{"op":"frob","path":"/status"}]`},
		{"missing path", `[{"op":"remove"}]`},
		{"missing value", `[{"op":"add","path":"/x"}]`},
		{"no such member", `[{"op":"remove","path":"/nothing"}]`},
		{"index out of range", `[{"op":"add","path":"/input/5","value":1}]`},
		{"leading zero index", `[{"op":"remove","path":"/input/00"}]`},
		{"failed test", `[{"op":"test","path":"/status","value":"done"}]`},
		{"bad pointer", `[{"op":"remove","path":"status"}]`},
		{"move into itself", `[{"op":"move","from":"/input","path":"/input/0/x"}]`},
		{"replace root with scalar", `[{"op":"replace","path":"","value":1}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := mustObj(t, doc)
			_, err := Apply(orig, []byte(tc.patch), 64)
			fe, ok := fhir.AsError(err)
			if !ok {
				t.Fatalf("Apply(%s) error = %v, want *fhir.Error", tc.patch, err)
			}
			if fe.Code != fhir.IssueInvalid && fe.Code != fhir.IssueStructure {
				t.Errorf("code = %s", fe.Code)
			}
			if diff := cmp.Diff(mustObj(t, doc), orig); diff != "" {
				t.Errorf("the input document changed:\n%s", diff)
			}
		})
	}
}

func mustObj(t *testing.T, s string) fhir.Object {
	t.Helper()
	o, err := fhir.DecodeObject([]byte(s), 64)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
