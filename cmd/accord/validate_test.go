package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

// runVerb runs accord with args and returns its output and error.
func runVerb(t *testing.T, getenv func(string) string, args ...string) (string, error) {
	t.Helper()
	var out, errOut strings.Builder
	err := run(context.Background(), args, getenv, &out, &errOut, nil)
	return out.String() + errOut.String(), err
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// noShowWithoutCall breaks one rule only: clause 2.4, no telephone attempt before the no-show.
const noShowWithoutCall = `{"resourceType":"Appointment","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Did not attend</div>"},` +
	`"status":"noshow","start":"2025-11-03T10:00:00Z","end":"2025-11-03T10:30:00Z","participant":[{"actor":{"reference":"Patient/1"},"status":"accepted"}]}`

func TestValidateVerb(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad/Appointment.json", noShowWithoutCall)
	writeFile(t, dir, "bad/package.json", `{"name":"not a resource"}`)
	bundle := writeFile(t, dir, "bundle.json", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":`+noShowWithoutCall+`}]}`)
	broken := writeFile(t, dir, "broken.json", `{"resourceType":"Appointment",`)
	for _, tc := range []struct {
		name    string
		getenv  func(string) string
		args    []string
		wantErr bool
		want    []string
	}{
		{name: "the guide's examples pass (with warnings)", args: []string{"validate", "../../profiles/ig/examples"},
			want: []string{"24 files: 0 errors, 3 warnings", "warning invariant at Task.code: Constraint accord-8.2-prescribe-now failed"}},
		{name: "quiet prints errors only", args: []string{"validate", "-q", "../../profiles/ig/examples"},
			want: []string{"24 files: 0 errors, 3 warnings"}},
		{name: "a failing rule names its clause and fails", args: []string{"validate", filepath.Join(dir, "bad")}, wantErr: true,
			want: []string{bad + ": error invariant at Appointment.extension('https://accord-fhir.github.io/ig/StructureDefinition/telephone-contact-attempt'): Constraint accord-2.4-telephone-before-dna failed", "(Consensus clause 2.4)", "1 files: 1 errors"}},
		{name: "the entries of a Bundle are checked against the profiles", args: []string{"validate", bundle}, wantErr: true,
			want: []string{"at Bundle.entry[0].resource.extension('https://accord-fhir.github.io/ig/StructureDefinition/telephone-contact-attempt'): Constraint accord-2.4"}},
		{name: "rule levels from the environment", getenv: func(k string) string {
			if k == "ACCORD_RULE_LEVELS" {
				return "2.4=warning"
			}
			return ""
		}, args: []string{"validate", bad}, want: []string{"warning invariant at Appointment", "1 files: 0 errors, 1 warnings"}},
		{name: "rule levels flag", args: []string{"validate", "-rule-levels", "2.4=off", bad}, want: []string{"1 files: 0 errors, 0 warnings"}},
		{name: "an unknown clause in the levels", args: []string{"validate", "-rule-levels", "2.9=off", bad}, wantErr: true,
			want: []string{`"2.9" is not a clause`}},
		{name: "JSON that does not parse", args: []string{"validate", broken}, wantErr: true, want: []string{"error structure", "invalid JSON"}},
		{name: "no file", args: []string{"validate"}, wantErr: true, want: []string{"usage: accord validate"}},
		{name: "a missing file", args: []string{"validate", filepath.Join(dir, "nope.json")}, wantErr: true, want: []string{"no such file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := tc.getenv
			if getenv == nil {
				getenv = noEnv
			}
			out, err := runVerb(t, getenv, tc.args...)
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error %v\n%s", err, tc.wantErr, out)
			}
			if err != nil {
				out += err.Error()
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not contain %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestRuleLevels_FileAndVariable(t *testing.T) {
	file := writeFile(t, t.TempDir(), "levels.txt", "# local agreement\n2.4=warning\n8.3=error\n")
	got, err := ruleLevels("8.3=off", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["2.4"] != "warning" || got["8.3"] != "off" {
		t.Errorf("levels = %v, want 2.4 warning and 8.3 off (the variable wins over the file)", got)
	}
	for _, tc := range []struct{ levels, file, want string }{
		{"2.4=loud", "", "ACCORD_RULE_LEVELS"},
		{"", filepath.Join(t.TempDir(), "missing.txt"), "ACCORD_RULE_LEVELS_FILE"},
	} {
		if _, err := ruleLevels(tc.levels, tc.file); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ruleLevels(%q, %q): err = %v, want one naming %s", tc.levels, tc.file, err, tc.want)
		}
	}
}
