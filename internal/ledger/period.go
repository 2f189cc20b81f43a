package ledger

import (
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
)

// ParsePeriod reads a period: a FHIR date or date-time of any precision ("2026", "2026-03", "2026-03-15",
// "2026-03-15T09:00:00Z") stands for all of it, and "start/end" runs from the start of start to the end of end
// (both included at their precision). It returns [from, to) in UTC, or an *fhir.Error (invalid, at param).
func ParsePeriod(param, s string) (from, to time.Time, err error) {
	bad := func(format string, args ...any) (time.Time, time.Time, error) {
		return time.Time{}, time.Time{}, fhir.Errorf(fhir.IssueInvalid, param, format, args...)
	}
	startText, endText, ranged := strings.Cut(s, "/")
	if !ranged {
		endText = startText
	}
	start, ok := temporal(startText)
	if !ok {
		return bad("%s: %q is not a date (2026, 2026-03, 2026-03-15), a date-time, or start/end", param, truncate(startText, 40))
	}
	end, ok := temporal(endText)
	if !ok {
		return bad("%s: %q is not a date (2026, 2026-03, 2026-03-15), a date-time, or start/end", param, truncate(endText, 40))
	}
	from, to = start.Start(time.UTC).UTC(), end.End(time.UTC).UTC()
	if !from.Before(to) {
		return bad("%s: the period ends before it starts", param)
	}
	return from, to, nil
}

// temporal parses a FHIR date or dateTime: a year from 0001 (R4's regex has no year 0000), and a time of day only
// with its time zone.
func temporal(s string) (fhirpath.Temporal, bool) {
	if strings.HasPrefix(s, "0000") {
		return fhirpath.Temporal{}, false
	}
	if _, clock, timed := strings.Cut(s, "T"); timed && !strings.ContainsAny(clock, "Z+-") {
		return fhirpath.Temporal{}, false
	}
	v, err := fhirpath.DateTimeValue(s)
	if err != nil {
		return fhirpath.Temporal{}, false
	}
	return v.Temporal()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
