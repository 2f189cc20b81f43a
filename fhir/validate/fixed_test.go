package validate

import (
	"testing"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeValue([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestEqualJSON_AndMatchesPattern(t *testing.T) {
	for _, tc := range []struct {
		name         string
		want, value  string
		fixed, match bool
	}{
		{"same code", `"order"`, `"order"`, true, true},
		{"other code", `"order"`, `"plan"`, false, false},
		{"number as written", `1.0`, `1.0`, true, true},
		{"number of other precision", `1.0`, `1`, false, false},
		{"number and string", `1`, `"1"`, false, false},
		{"boolean", `true`, `true`, true, true},
		{"object with extra property", `{"system":"s","code":"c"}`, `{"system":"s","code":"c","display":"d"}`, false, true},
		{"object missing property", `{"system":"s","code":"c"}`, `{"code":"c"}`, false, false},
		{"array item among others", `{"coding":[{"system":"s","code":"c"}]}`,
			`{"coding":[{"system":"x","code":"y"},{"system":"s","code":"c","display":"d"}],"text":"t"}`, false, true},
		{"array item absent", `{"coding":[{"system":"s","code":"c"}]}`, `{"coding":[{"system":"s","code":"d"}]}`, false, false},
		{"arrays in other order", `[1,2]`, `[2,1]`, false, true},
		{"nested equal", `{"a":[{"b":"c"}]}`, `{"a":[{"b":"c"}]}`, true, true},
		{"object against string", `{"a":"b"}`, `"a"`, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, value := mustJSON(t, tc.want), mustJSON(t, tc.value)
			if got := equalJSON(want, value); got != tc.fixed {
				t.Errorf("equalJSON(%s, %s) = %v, want %v", tc.want, tc.value, got, tc.fixed)
			}
			if got := matchesPattern(want, value); got != tc.match {
				t.Errorf("matchesPattern(%s, %s) = %v, want %v", tc.want, tc.value, got, tc.match)
			}
		})
	}
}

func TestNaturalCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int // sign
	}{
		{"Task.input[2]", "Task.input[10]", -1},
		{"Task.input[10]", "Task.input[2]", 1},
		{"Task.input[2].value", "Task.input[2]", 1},
		{"Task.intent", "Task.intent", 0},
		{"Task.code", "Task.contained[0]", -1},
		{"a[01]", "a[1]", -1},
	} {
		got := naturalCompare(tc.a, tc.b)
		if sign(got) != tc.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want sign %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
