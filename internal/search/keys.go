package search

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"

	fhirsearch "github.com/accord-fhir/accord/fhir/search"
)

// fieldPrefix starts the name of every search index field.
const fieldPrefix = "sp_"

// field is the name of the index field of parameter code with an optional suffix (text, exact, sort …).
func field(code, suffix string) string {
	if suffix == "" {
		return fieldPrefix + code
	}
	return fieldPrefix + code + ":" + suffix
}

// esc escapes the characters that separate the parts of keys: \, | and $.
func esc(s string) string {
	if !strings.ContainsAny(s, `\|$`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '|' || c == '$' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// tokenKey is the key of a system and a code; bareKey is the key of a code whatever its system.
func tokenKey(system, code string) string { return esc(system) + "|" + esc(code) }
func bareKey(code string) string          { return esc(code) }

// instantLayout is the fixed-width form of an instant in keys: yyyymmddhhmmssSSS, UTC.
const instantLayout = "20060102150405.000"

const instantWidth = 17

// instantKey encodes t (clamped to the open ends) as 17 digits that sort as t does.
func instantKey(t time.Time) string {
	t = t.UTC()
	if t.Before(fhirsearch.MinInstant) {
		t = fhirsearch.MinInstant
	}
	if t.After(fhirsearch.MaxInstant) {
		t = fhirsearch.MaxInstant
	}
	return strings.Replace(t.Format(instantLayout), ".", "", 1)
}

// rangeKey is the key of a date range: "start|end".
func rangeKey(r fhirsearch.Range) string { return instantKey(r.Start) + "|" + instantKey(r.End) }

var (
	minInstantKey = instantKey(fhirsearch.MinInstant)
	maxInstantKey = instantKey(fhirsearch.MaxInstant)
)

// Numbers are keyed as fixed-point integers: (value + 10^18) × 10^9, 28 digits. Values beyond ±10^18 are clamped,
// and digits beyond the ninth decimal rounded.
const numberWidth = 28

var (
	numberOffset = decimal.New(1, 18)
	numberMax    = decimal.New(1, numberWidth).Sub(decimal.New(1, 0))
	numberUnit   = decimal.New(1, -9)
)

// numberKey encodes d as 28 digits that sort as the numbers do.
func numberKey(d decimal.Decimal) string {
	n := d.Add(numberOffset).Shift(9).Round(0)
	if n.IsNegative() {
		n = decimal.Zero
	}
	if n.GreaterThan(numberMax) {
		n = numberMax
	}
	s := n.String()
	return strings.Repeat("0", numberWidth-len(s)) + s
}

// numberTextKey encodes decimal text; ok is false when the text is not a number.
func numberTextKey(text string) (string, bool) {
	d, err := decimal.NewFromString(text)
	if err != nil {
		return "", false
	}
	return numberKey(d), true
}

var (
	minNumberKey = strings.Repeat("0", numberWidth)
	maxNumberKey = strings.Repeat("9", numberWidth)
)

// quantityKeys are the unit keys of a quantity whose number key is n: "system|code|n" for a coded unit, and
// "|code|n" and "|unit|n" for the number||code form, which matches the code or the unit.
func quantityKeys(q fhirsearch.Quantity, n string) []string {
	var out []string
	if q.Code != "" {
		out = append(out, tokenKey(q.System, q.Code)+"|"+n)
		if q.System != "" {
			out = append(out, tokenKey("", q.Code)+"|"+n)
		}
	}
	if q.Unit != "" && q.Unit != q.Code {
		out = append(out, tokenKey("", q.Unit)+"|"+n)
	}
	if q.Code == "" && q.Unit == "" {
		out = append(out, "||"+n)
	}
	return out
}
