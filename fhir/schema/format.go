package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/accord-fhir/accord/fhir"
)

// The checks of R4 primitive values that the patterns of fhir.schema.json cannot make, as JSON schema formats
// that prepare.go adds to the schema (draft-06 asserts formats):
//   - integer, positiveInt and unsignedInt are JSON numbers, and the library applies patterns to strings only:
//     the schema's patterns never run on them, so 2.5, 1e2 and 2147483648 would pass;
//   - the patterns of date, dateTime and instant accept days 01 to 31 in every month (2025-02-30);
//   - Reference.reference is a string, which may be blank; a literal reference may not;
//   - the patterns of the text datatypes (string, markdown, code, id, uri …) let control characters through, as
//     regular expressions' \S matches them, though R4 allows none below U+0020 but tab, line feed and carriage
//     return.
//
// Each format is named formatPrefix + the datatype (or "reference") that issues name.
// See https://hl7.org/fhir/R4/datatypes.html#primitive and https://hl7.org/fhir/R4/json.html#primitive.
const (
	formatPrefix      = "fhir-"
	formatInteger     = formatPrefix + "integer"
	formatPositiveInt = formatPrefix + "positiveInt"
	formatUnsignedInt = formatPrefix + "unsignedInt"
	formatDate        = formatPrefix + "date"
	formatDateTime    = formatPrefix + "dateTime"
	formatInstant     = formatPrefix + "instant"
	formatReference   = formatPrefix + "reference"
)

// textDatatypes are the primitive datatypes whose values are text that R4 restricts to characters from U+0020
// (and tab, line feed, carriage return); each has the format formatPrefix + its name.
var textDatatypes = []string{"string", "markdown", "code", "id", "uri", "url", "canonical", "oid", "uuid"}

// datatypeFormats maps the primitive datatypes with a format to it.
var datatypeFormats = func() map[string]string {
	m := map[string]string{
		"integer": formatInteger, "positiveInt": formatPositiveInt, "unsignedInt": formatUnsignedInt,
		"date": formatDate, "dateTime": formatDateTime, "instant": formatInstant,
	}
	for _, dt := range textDatatypes {
		m[dt] = formatPrefix + dt
	}
	return m
}()

// formats returns the formats to register with the compiler.
func formats() []*jsonschema.Format {
	fs := []*jsonschema.Format{
		{Name: formatInteger, Validate: checkInteger(math.MinInt32, "-2147483648")},
		{Name: formatPositiveInt, Validate: checkInteger(1, "1")},
		{Name: formatUnsignedInt, Validate: checkInteger(0, "0")},
		{Name: formatDate, Validate: checkCalendar(dateOnly)},
		{Name: formatDateTime, Validate: checkCalendar(partialDateTime)},
		{Name: formatInstant, Validate: checkCalendar(fullDateTime)},
		{Name: formatReference, Validate: checkReference},
	}
	for _, dt := range textDatatypes {
		fs = append(fs, &jsonschema.Format{Name: formatPrefix + dt, Validate: checkText})
	}
	return fs
}

// maxText is the largest text value, in bytes: R4 says strings SHALL NOT exceed 1 MB.
const maxText = 1 << 20

// checkText checks that a text value holds no control character other than tab, line feed and carriage return
// (R4 datatypes: "Strings SHALL NOT contain Unicode character points below 32, except for u0009 (horizontal tab),
// u0010 (carriage return) and u0013 (line feed)"). Values of other JSON types are left to the type keyword.
func checkText(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if len(s) > maxText {
		return &formatError{"it must not exceed 1 MB (R4: strings SHALL NOT exceed 1MB in size)",
			fmt.Sprintf("%d bytes", len(s))}
	}
	for i, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return &formatError{"it must not contain control characters other than tab, line feed and carriage return",
				fmt.Sprintf("character U+%04X at byte %d", r, i)}
		}
	}
	return nil
}

// formatError is what a format check finds: rule says what the value must be, without quoting it (it goes into
// an issue's details); diagnostics say what is wrong with this value.
type formatError struct {
	rule, diagnostics string
}

func (e *formatError) Error() string { return e.diagnostics }

// checkInteger returns the check of a whole number from lo (written loText) to 2^31-1. In FHIR JSON an integer
// is a JSON number written without fraction or exponent: 2.0 and 1e2 are not integers (Accord decodes numbers
// as json.Number, which keeps their text). Values of other JSON types are left to the type keyword.
func checkInteger(lo int64, loText string) func(any) error {
	rule := "it must be a whole number from " + loText + " to 2147483647, written without a fraction or exponent"
	return func(v any) error {
		text, ok := fhir.NumberText(v)
		if !ok {
			return nil
		}
		digits := strings.TrimPrefix(text, "-")
		if digits == "" || digitRun(digits) != len(digits) {
			return &formatError{rule, fmt.Sprintf("value %s has a fraction or an exponent", text)}
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n < lo || n > math.MaxInt32 || (lo >= 0 && text[0] == '-') {
			return &formatError{rule, fmt.Sprintf("value %s is out of range", text)}
		}
		return nil
	}
}

// checkCalendar returns the check that the day of a date, dateTime or instant (chosen by form) exists: the
// patterns allow 31 days in every month. A value the pattern refuses is left to the pattern, which reports it.
func checkCalendar(form dateTimeForm) func(any) error {
	return func(v any) error {
		s, ok := v.(string)
		if !ok || len(s) < len("2006-01-02") || !matchDateTime(s, form) {
			return nil
		}
		year, _ := strconv.Atoi(s[0:4])
		month, _ := strconv.Atoi(s[5:7])
		day, _ := strconv.Atoi(s[8:10])
		if n := daysIn(year, time.Month(month)); day > n {
			return &formatError{"the day does not exist in its month",
				fmt.Sprintf("value %q: %s %04d has %d days", s, time.Month(month), year, n)}
		}
		return nil
	}
}

// daysIn returns the number of days of month in year, in the proleptic Gregorian calendar.
func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// checkReference checks a Reference.reference: a literal reference (a relative, absolute or internal URL) is
// neither blank nor padded with whitespace, although the string datatype would allow it. The empty string is
// left to the pattern.
func checkReference(v any) error {
	s, ok := v.(string)
	if !ok || s == "" || (!isSpace(s[0]) && !isSpace(s[len(s)-1])) {
		return nil
	}
	return &formatError{"it must not be blank, nor start or end with whitespace",
		fmt.Sprintf("value %q has leading or trailing whitespace", s)}
}
