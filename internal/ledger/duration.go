package ledger

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Duration is a calendar duration: years, months and days follow the calendar (a month from 31 January is the end
// of February), the rest is exact.
type Duration struct {
	Years, Months, Days int
	Exact               time.Duration
}

// AddTo returns t plus d.
func (d Duration) AddTo(t time.Time) time.Time {
	return t.AddDate(d.Years, d.Months, d.Days).Add(d.Exact)
}

// InDays is d in days, counting a year as 365 days and a month as 30: for expressions that compare with a number
// of days.
func (d Duration) InDays() float64 {
	return float64(d.Years*365+d.Months*30+d.Days) + d.Exact.Hours()/24
}

// String returns d in ISO 8601 form (P14D, PT24H).
func (d Duration) String() string {
	var b strings.Builder
	b.WriteByte('P')
	for _, p := range []struct {
		n    int
		unit string
	}{{d.Years, "Y"}, {d.Months, "M"}, {d.Days, "D"}} {
		if p.n != 0 {
			fmt.Fprintf(&b, "%d%s", p.n, p.unit)
		}
	}
	if d.Exact != 0 {
		b.WriteByte('T')
		rest := d.Exact
		if h := rest / time.Hour; h != 0 {
			fmt.Fprintf(&b, "%dH", h)
			rest -= h * time.Hour
		}
		if m := rest / time.Minute; m != 0 {
			fmt.Fprintf(&b, "%dM", m)
			rest -= m * time.Minute
		}
		if rest != 0 {
			b.WriteString(strconv.FormatFloat(rest.Seconds(), 'f', -1, 64) + "S")
		}
	}
	if b.Len() == 1 {
		return "PT0S"
	}
	return b.String()
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// ParseDuration reads an ISO 8601 duration such as P14D, PT24H or P1Y2M3DT4H5M6S (no negative or fractional parts
// but seconds). It fails on anything else.
func ParseDuration(s string) (Duration, error) {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return Duration{}, fmt.Errorf("%q is not an ISO 8601 duration such as P14D or PT24H", s)
	}
	n := func(i int) int {
		v, _ := strconv.Atoi(m[i])
		return v
	}
	d := Duration{Years: n(1), Months: n(2), Days: n(4) + 7*n(3)}
	d.Exact = time.Duration(n(5))*time.Hour + time.Duration(n(6))*time.Minute
	if m[7] != "" {
		sec, _ := strconv.ParseFloat(m[7], 64)
		d.Exact += time.Duration(sec * float64(time.Second))
	}
	return d, nil
}

// fhirDuration is a FHIR Duration: a value and a UCUM unit code.
type fhirDuration struct {
	Value *json.Number `json:"value"`
	Code  string       `json:"code"`
	Unit  string       `json:"unit"`
}

// ucumUnits maps the UCUM time units a FHIR Duration may use to a Duration of one unit.
var ucumUnits = map[string]Duration{
	"s": {Exact: time.Second}, "min": {Exact: time.Minute}, "h": {Exact: time.Hour},
	"d": {Days: 1}, "wk": {Days: 7}, "mo": {Months: 1}, "a": {Years: 1},
}

// parseFHIRDuration reads {"value": 10, "code": "d"} (code, or else unit, a UCUM time unit; whole values only).
func parseFHIRDuration(raw json.RawMessage) (Duration, error) {
	var fd fhirDuration
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fd); err != nil || fd.Value == nil {
		return Duration{}, fmt.Errorf("not a duration: give an ISO 8601 string (\"P10D\"), a FHIR Duration ({\"value\": 10, \"code\": \"d\"}) or {\"local\": \"name\"}")
	}
	code := fd.Code
	if code == "" {
		code = fd.Unit
	}
	unit, ok := ucumUnits[code]
	if !ok {
		return Duration{}, fmt.Errorf("unit %q is not a UCUM time unit (s, min, h, d, wk, mo, a)", code)
	}
	n, err := strconv.Atoi(fd.Value.String())
	if err != nil || n < 0 {
		return Duration{}, fmt.Errorf("value %s is not a whole number of %s", fd.Value.String(), code)
	}
	return Duration{Years: unit.Years * n, Months: unit.Months * n, Days: unit.Days * n, Exact: unit.Exact * time.Duration(n)}, nil
}
