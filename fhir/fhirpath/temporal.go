package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Precision is how much of a date, date-time or time is given.
type Precision uint8

// Precisions, from the coarsest. A fraction of a second of any length is PrecisionMillisecond.
const (
	PrecisionYear Precision = iota + 1
	PrecisionMonth
	PrecisionDay
	PrecisionHour
	PrecisionMinute
	PrecisionSecond
	PrecisionMillisecond
)

// Temporal is a date, date-time or time, with its precision: 2024-03 is the whole of March 2024.
type Temporal struct {
	Kind                                   Kind // KindDate, KindDateTime or KindTime
	Precision                              Precision
	Year, Month, Day, Hour, Minute, Second int
	Nanosecond                             int
	HasZone                                bool // a date-time with Z or an offset
	ZoneOffset                             int  // seconds east of UTC, when HasZone
	fracDigits                             int
}

// Start returns the first instant t denotes; a date-time without a time zone, and a date, are read in loc.
// A Time has no instant: Start returns that time of day on 0000-01-01 in loc.
func (t Temporal) Start(loc *time.Location) time.Time {
	if t.HasZone {
		loc = time.FixedZone("", t.ZoneOffset)
	}
	month, day := max(t.Month, 1), max(t.Day, 1)
	return time.Date(t.Year, time.Month(month), day, t.Hour, t.Minute, t.Second, t.Nanosecond, loc)
}

// End returns the first instant after the period t denotes (2024-03 ends at 2024-04-01T00:00), for indexing a
// date as a range.
func (t Temporal) End(loc *time.Location) time.Time {
	s := t.Start(loc)
	switch t.Precision {
	case PrecisionYear:
		return s.AddDate(1, 0, 0)
	case PrecisionMonth:
		return s.AddDate(0, 1, 0)
	case PrecisionDay:
		return s.AddDate(0, 0, 1)
	case PrecisionHour:
		return s.Add(time.Hour)
	case PrecisionMinute:
		return s.Add(time.Minute)
	case PrecisionSecond:
		return s.Add(time.Second)
	}
	step := time.Duration(1)
	for i := t.fracDigits; i < 9; i++ {
		step *= 10
	}
	return s.Add(step)
}

// String returns t in FHIR format at its precision.
func (t Temporal) String() string {
	var b strings.Builder
	if t.Kind != KindTime {
		fmt.Fprintf(&b, "%04d", t.Year)
		if t.Precision >= PrecisionMonth {
			fmt.Fprintf(&b, "-%02d", t.Month)
		}
		if t.Precision >= PrecisionDay {
			fmt.Fprintf(&b, "-%02d", t.Day)
		}
		if t.Kind == KindDate || t.Precision < PrecisionHour {
			return b.String()
		}
		b.WriteByte('T')
	}
	fmt.Fprintf(&b, "%02d", t.Hour)
	if t.Precision >= PrecisionMinute {
		fmt.Fprintf(&b, ":%02d", t.Minute)
	}
	if t.Precision >= PrecisionSecond {
		fmt.Fprintf(&b, ":%02d", t.Second)
	}
	if t.Precision == PrecisionMillisecond {
		digits := max(t.fracDigits, 3)
		frac := fmt.Sprintf("%09d", t.Nanosecond)[:min(digits, 9)]
		b.WriteString("." + frac)
	}
	if t.HasZone && t.Kind == KindDateTime {
		if t.ZoneOffset == 0 {
			b.WriteByte('Z')
		} else {
			off, sign := t.ZoneOffset, '+'
			if off < 0 {
				off, sign = -off, '-'
			}
			fmt.Fprintf(&b, "%c%02d:%02d", sign, off/3600, off%3600/60)
		}
	}
	return b.String()
}

// parseTemporal parses FHIR date, dateTime (and instant) or time text, or the same after a FHIRPath literal's @.
// A date-time may stop at any precision (2024, 2024-03-15T10); a trailing T is allowed.
func parseTemporal(k Kind, s string) (Temporal, error) {
	t := Temporal{Kind: k}
	p := scanner{s: s}
	if k != KindTime {
		if !t.parseDate(&p) {
			return t, fmt.Errorf("fhirpath: %q is not a %s", s, k)
		}
		if k == KindDate {
			if p.done() {
				return t, nil
			}
			return t, fmt.Errorf("fhirpath: %q is not a Date", s)
		}
		if p.done() {
			return t, nil
		}
		if !p.byte('T') {
			return t, fmt.Errorf("fhirpath: %q is not a DateTime", s)
		}
		if p.done() {
			return t, nil // a literal such as @2024-03T
		}
		if t.Precision != PrecisionDay {
			return t, fmt.Errorf("fhirpath: %q is not a DateTime", s)
		}
	}
	if !t.parseTime(&p) {
		return t, fmt.Errorf("fhirpath: %q is not a %s", s, k)
	}
	if k == KindDateTime && !p.done() && !t.parseZone(&p) {
		return t, fmt.Errorf("fhirpath: %q has an invalid time zone", s)
	}
	if !p.done() {
		return t, fmt.Errorf("fhirpath: %q is not a %s", s, k)
	}
	return t, nil
}

func (t *Temporal) parseDate(p *scanner) bool {
	var ok bool
	if t.Year, ok = p.digits(4); !ok {
		return false
	}
	t.Precision = PrecisionYear
	if !p.byte('-') {
		return true
	}
	if t.Month, ok = p.digits(2); !ok || t.Month < 1 || t.Month > 12 {
		return false
	}
	t.Precision = PrecisionMonth
	if !p.byte('-') {
		return true
	}
	if t.Day, ok = p.digits(2); !ok || t.Day < 1 || t.Day > daysIn(t.Year, t.Month) {
		return false
	}
	t.Precision = PrecisionDay
	return true
}

func (t *Temporal) parseTime(p *scanner) bool {
	var ok bool
	if t.Hour, ok = p.digits(2); !ok || t.Hour > 23 {
		return false
	}
	t.Precision = PrecisionHour
	if !p.byte(':') {
		return true
	}
	if t.Minute, ok = p.digits(2); !ok || t.Minute > 59 {
		return false
	}
	t.Precision = PrecisionMinute
	if !p.byte(':') {
		return true
	}
	if t.Second, ok = p.digits(2); !ok || t.Second > 60 {
		return false
	}
	t.Precision = PrecisionSecond
	if !p.byte('.') {
		return true
	}
	start := p.i
	for !p.done() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	n := p.i - start
	if n == 0 {
		return false
	}
	frac := p.s[start:min(p.i, start+9)]
	v, _ := strconv.Atoi(frac)
	for i := len(frac); i < 9; i++ {
		v *= 10
	}
	t.Nanosecond, t.fracDigits, t.Precision = v, n, PrecisionMillisecond
	return true
}

func (t *Temporal) parseZone(p *scanner) bool {
	if p.byte('Z') {
		t.HasZone = true
		return true
	}
	sign := 1
	switch {
	case p.byte('+'):
	case p.byte('-'):
		sign = -1
	default:
		return false
	}
	h, ok1 := p.digits(2)
	ok2 := p.byte(':')
	m, ok3 := p.digits(2)
	if !ok1 || !ok2 || !ok3 || h > 14 || m > 59 {
		return false
	}
	t.HasZone, t.ZoneOffset = true, sign*(h*3600+m*60)
	return true
}

type scanner struct {
	s string
	i int
}

func (p *scanner) done() bool { return p.i >= len(p.s) }

func (p *scanner) byte(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *scanner) digits(n int) (int, bool) {
	if p.i+n > len(p.s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(p.s[p.i : p.i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v, true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// fields returns t's components from year to nanosecond, in UTC when t has a zone and a time of day; a value
// without a zone is read as UTC.
func (t Temporal) fields() [7]int {
	if t.Kind == KindDateTime && t.HasZone && t.ZoneOffset != 0 && t.Precision >= PrecisionHour {
		u := t.Start(time.UTC).UTC()
		return [7]int{u.Year(), int(u.Month()), u.Day(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond()}
	}
	return [7]int{t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, t.Nanosecond}
}

// compareTemporal compares a and b as FHIRPath does: component by component to the precision both have. When
// they are equal that far but one is more precise, the order is unknown (ok false). Seconds and their fractions
// are one precision.
func compareTemporal(a, b Temporal) (int, bool) {
	if (a.Kind == KindTime) != (b.Kind == KindTime) {
		return 0, false
	}
	fa, fb := a.fields(), b.fields()
	first, pa, pb := 0, int(a.Precision), int(b.Precision)
	if a.Kind == KindTime {
		first, pa, pb = 3, pa+3, pb+3
	}
	pa, pb = min(pa, int(PrecisionSecond)), min(pb, int(PrecisionSecond))
	common := min(pa, pb)
	for i := first; i < common; i++ {
		if fa[i] != fb[i] {
			return cmpInt(fa[i], fb[i]), true
		}
	}
	if pa != pb {
		return 0, false
	}
	if common == int(PrecisionSecond) {
		return cmpInt(fa[6], fb[6]), true
	}
	return 0, true
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// calendarUnit maps a FHIRPath calendar duration or UCUM time unit to a precision for date arithmetic.
func calendarUnit(unit string) (Precision, int, bool) {
	switch unit {
	case "year", "years", "a":
		return PrecisionYear, 1, true
	case "month", "months", "mo":
		return PrecisionMonth, 1, true
	case "week", "weeks", "wk":
		return PrecisionDay, 7, true
	case "day", "days", "d":
		return PrecisionDay, 1, true
	case "hour", "hours", "h":
		return PrecisionHour, 1, true
	case "minute", "minutes", "min":
		return PrecisionMinute, 1, true
	case "second", "seconds", "s":
		return PrecisionSecond, 1, true
	case "millisecond", "milliseconds", "ms":
		return PrecisionMillisecond, 1, true
	}
	return 0, 0, false
}

// addDuration adds n units (a calendar duration) to t, keeping t's precision: a unit finer than t's precision is
// converted to whole units of that precision (a date plus 36 hours is a date plus 1 day). Adding months or years
// keeps the day within the month (2024-01-31 + 1 month is 2024-02-29).
func addDuration(t Temporal, n float64, unit string) (Temporal, error) {
	prec, mult, ok := calendarUnit(unit)
	if !ok {
		return t, fmt.Errorf("fhirpath: %q is not a calendar duration", unit)
	}
	n *= float64(mult)
	if t.Kind == KindTime && prec < PrecisionHour {
		return t, fmt.Errorf("fhirpath: cannot add %s to a Time", unit)
	}
	if prec > t.Precision && t.Precision < PrecisionSecond {
		n, prec = convertDuration(n, prec, t.Precision), t.Precision
	}
	switch prec {
	case PrecisionYear, PrecisionMonth:
		months := int(n)
		if prec == PrecisionYear {
			months *= 12
		}
		y, m := t.Year, t.Month
		if t.Precision < PrecisionMonth {
			y += months / 12
			return t.with(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)), nil
		}
		total := y*12 + (m - 1) + months
		y, m = total/12, total%12+1
		d := min(max(t.Day, 1), daysIn(y, m))
		s := t.Start(time.UTC)
		return t.with(time.Date(y, time.Month(m), d, s.Hour(), s.Minute(), s.Second(), s.Nanosecond(), time.UTC)), nil
	case PrecisionDay:
		return t.with(t.Start(time.UTC).AddDate(0, 0, int(n))), nil
	}
	step := map[Precision]time.Duration{PrecisionHour: time.Hour, PrecisionMinute: time.Minute,
		PrecisionSecond: time.Second, PrecisionMillisecond: time.Millisecond}[prec]
	out := t.with(t.Start(time.UTC).Add(time.Duration(n * float64(step))))
	if t.Kind == KindTime {
		out.Year, out.Month, out.Day = t.Year, t.Month, t.Day
	}
	return out, nil
}

// convertDuration converts n units of precision from to whole units of the coarser precision to, truncating.
func convertDuration(n float64, from, to Precision) float64 {
	seconds := map[Precision]float64{PrecisionDay: 86400, PrecisionHour: 3600, PrecisionMinute: 60,
		PrecisionSecond: 1, PrecisionMillisecond: 0.001}
	switch to {
	case PrecisionYear:
		if from == PrecisionMonth {
			return float64(int(n / 12))
		}
		return float64(int(n * seconds[from] / (365 * 86400)))
	case PrecisionMonth:
		return float64(int(n * seconds[from] / (30 * 86400)))
	}
	return float64(int(n * seconds[from] / seconds[to]))
}

// with returns t moved to the wall-clock time u, keeping t's kind, precision and zone.
func (t Temporal) with(u time.Time) Temporal {
	t.Year, t.Month, t.Day = u.Year(), int(u.Month()), u.Day()
	t.Hour, t.Minute, t.Second, t.Nanosecond = u.Hour(), u.Minute(), u.Second(), u.Nanosecond()
	if t.Precision == PrecisionMillisecond && t.fracDigits < 3 {
		t.fracDigits = 3
	}
	return t
}
