package ledger

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/accord-fhir/accord/profiles"
)

func TestLoadPack_Default(t *testing.T) {
	p, err := LoadPack(profiles.FS, DefaultPack, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range p.Obligations {
		ids = append(ids, r.Clause+" "+r.ID)
	}
	want := []string{"2.5 2.5-discharge-summary", "2.5 2.5-clinic-letter", "2.3 2.3-concluding-communication", "2.2 2.2-fit-note", "3.1 3.1-result-communicated", "6.2 6.2-appointment-or-waiting-time"}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("obligations = %v, want %v", ids, want)
	}
	if len(p.Findings) != 5 {
		t.Errorf("findings = %d, want 5", len(p.Findings))
	}
	if d := p.Rule("2.5-discharge-summary").DueAfter; d != (Duration{Exact: 24 * time.Hour}) {
		t.Errorf("discharge summary due after %v, want PT24H", d)
	}
	if r := p.Rule("6.2-appointment-or-waiting-time"); r.Local != "referral-first-contact" || r.DueAfter != (Duration{Days: 14}) {
		t.Errorf("6.2 due after %v (local %q), want P14D from referral-first-contact", r.DueAfter, r.Local)
	}
	if p.WaitingTimes == nil || p.WaitingTimes.Obligation.ID != "6.2-appointment-or-waiting-time" {
		t.Errorf("waiting times not defined on 6.2")
	}
	for _, typ := range []string{"Encounter", "Communication", "DiagnosticReport", "ServiceRequest", "Appointment", "Task", "MedicationRequest"} {
		if !p.Watches(typ) {
			t.Errorf("the pack does not watch %s", typ)
		}
	}
	if p.Watches("Patient") {
		t.Error("the pack watches Patient")
	}
}

func TestLoadPack_LocalDurations(t *testing.T) {
	p, err := LoadPack(profiles.FS, DefaultPack, nil, map[string]string{"result-communication": "P7D", "referral-first-contact": "P3W"})
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Rule("3.1-result-communicated").DueAfter; d != (Duration{Days: 7}) {
		t.Errorf("3.1 due after %v, want P7D", d)
	}
	if d := p.Rule("6.2-appointment-or-waiting-time").DueAfter; d != (Duration{Days: 21}) {
		t.Errorf("6.2 due after %v, want P21D", d)
	}
}

// packFS is the default pack's folder with pack.json replaced by edit(the default pack).
func packFS(t *testing.T, edit func(string) string) fs.FS {
	t.Helper()
	pack, err := fs.ReadFile(profiles.FS, DefaultPack)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := fs.ReadFile(profiles.FS, "ig/CodeSystem-consensus-clause.json")
	if err != nil {
		t.Fatal(err)
	}
	return fstest.MapFS{
		"rules/pack.json":                     {Data: []byte(edit(string(pack)))},
		"ig/CodeSystem-consensus-clause.json": {Data: cs},
	}
}

func TestLoadPack_Invalid(t *testing.T) {
	for _, tc := range []struct {
		name      string
		edit      func(string) string
		durations map[string]string
		want      []string
	}{
		{
			name: "syntax error",
			edit: func(s string) string {
				return strings.Replace(s, `"condition": "status = 'finished' and class`, `"condition": "status = = 'finished' and class`, 1)
			},
			want: []string{"obligations[0] (2.5-discharge-summary).trigger.condition:", "syntax error"},
		},
		{
			name: "unknown function",
			edit: func(s string) string {
				return strings.Replace(s, `"accountable": "serviceProvider"`, `"accountable": "serviceProvider.frobnicate()"`, 1)
			},
			want: []string{"obligations[0] (2.5-discharge-summary).accountable:", "frobnicate"},
		},
		{
			name: "undefined variable",
			edit: func(s string) string {
				return strings.Replace(s, `system = %actCode and code = 'AMB'`, `system = %actcode and code = 'AMB'`, 1)
			},
			want: []string{"obligations[1] (2.5-clinic-letter).trigger.condition:", "undefined variable %actcode"},
		},
		{
			name: "unknown clause",
			edit: func(s string) string { return strings.Replace(s, `"clause": "2.2"`, `"clause": "2.9"`, 1) },
			want: []string{"obligations[3] (2.2-fit-note).clause:", `"2.9" is not a clause of ` + "https://accord-fhir.github.io/ig/CodeSystem/consensus-clause"},
		},
		{
			name: "unknown resource type",
			edit: func(s string) string {
				return strings.Replace(s, `"resourceType": "DiagnosticReport"`, `"resourceType": "DiagnosticRapport"`, 1)
			},
			want: []string{"obligations[4] (3.1-result-communicated).trigger.resourceType:", `"DiagnosticRapport" is not a FHIR R4 resource type`},
		},
		{
			name: "unknown local duration",
			edit: func(s string) string {
				return strings.Replace(s, `{"local": "result-communication"}`, `{"local": "result-comms"}`, 1)
			},
			want: []string{"obligations[4] (3.1-result-communicated).due.after:", `"result-comms" is not a local duration`},
		},
		{
			name: "bad duration",
			edit: func(s string) string { return strings.Replace(s, `"after": "P10D"`, `"after": "10 days"`, 1) },
			want: []string{"obligations[1] (2.5-clinic-letter).due.after:", `"10 days" is not an ISO 8601 duration`},
		},
		{
			name: "unknown field",
			edit: func(s string) string { return strings.Replace(s, `"fulfilledBy"`, `"fulfiledBy"`, 1) },
			want: []string{"not a rule pack", `unknown field "fulfiledBy"`},
		},
		{
			name: "duplicate id",
			edit: func(s string) string {
				return strings.Replace(s, `"id": "2.5-clinic-letter"`, `"id": "2.5-discharge-summary"`, 1)
			},
			want: []string{"obligations[1] (2.5-discharge-summary).id:", "used twice"},
		},
		{
			name:      "configured duration unknown",
			edit:      func(s string) string { return s },
			durations: map[string]string{"results": "P7D"},
			want:      []string{"configured duration results:", `the pack has no local duration "results"`},
		},
		{
			name:      "configured duration malformed",
			edit:      func(s string) string { return s },
			durations: map[string]string{"result-communication": "seven days"},
			want:      []string{"configured duration result-communication:", "not an ISO 8601 duration"},
		},
		{
			name: "every problem is listed",
			edit: func(s string) string {
				s = strings.Replace(s, `"clause": "2.2"`, `"clause": "2.9"`, 1)
				return strings.Replace(s, `"change": "reported"`, `"change": "noticed"`, 1)
			},
			want: []string{"2 problem(s)", `"2.9" is not a clause`, `findings[4] (issues-interface-report).change: "noticed" is not`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPack(packFS(t, tc.edit), "rules/pack.json", nil, tc.durations)
			var pe *PackError
			if !errors.As(err, &pe) {
				t.Fatalf("LoadPack error = %v, want a *PackError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Duration
		ok   bool
	}{
		{"P14D", Duration{Days: 14}, true},
		{"PT24H", Duration{Exact: 24 * time.Hour}, true},
		{"P2W", Duration{Days: 14}, true},
		{"P1Y2M3DT4H5M6.5S", Duration{Years: 1, Months: 2, Days: 3, Exact: 4*time.Hour + 5*time.Minute + 6500*time.Millisecond}, true},
		{"PT0S", Duration{}, true},
		{"P", Duration{}, false},
		{"P1DT", Duration{}, false},
		{"14d", Duration{}, false},
		{"-P1D", Duration{}, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	end := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	if got := (Duration{Months: 1}).AddTo(end); !got.Equal(time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("a month after 31 January = %v", got)
	}
}
