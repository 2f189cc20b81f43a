package ledger

import (
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		in       string
		from, to time.Time
		ok       bool
	}{
		{"2026", d(2026, 1, 1), d(2027, 1, 1), true},
		{"2026-03", d(2026, 3, 1), d(2026, 4, 1), true},
		{"2026-03-15", d(2026, 3, 15), d(2026, 3, 16), true},
		{"2026-01/2026-03", d(2026, 1, 1), d(2026, 4, 1), true},
		{"2026-01-01T00:00:00Z/2026-01-31T23:59:59Z", d(2026, 1, 1), d(2026, 2, 1), true},
		{"2026-03/2026-01", time.Time{}, time.Time{}, false},
		{"last month", time.Time{}, time.Time{}, false},
		{"2026-13", time.Time{}, time.Time{}, false},
		{"", time.Time{}, time.Time{}, false},
		{"2026-01/", time.Time{}, time.Time{}, false},
		{"0000", time.Time{}, time.Time{}, false},
		{"0000-01/2026", time.Time{}, time.Time{}, false},
		{"2026-11-21T13:00:00", time.Time{}, time.Time{}, false},
		{"2026-11-21T13:00:00+01:00/2026-11-21T14:00:00-01:00", time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 15, 0, 1, 0, time.UTC), true},
	} {
		from, to, err := ParsePeriod("period", tc.in)
		if (err == nil) != tc.ok || !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("ParsePeriod(%q) = %v, %v, %v; want %v, %v, ok %v", tc.in, from, to, err, tc.from, tc.to, tc.ok)
		}
	}
}
