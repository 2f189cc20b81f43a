package schema

import (
	"regexp"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The patterns of the R4 primitive datatypes, as written in fhir.schema.json. Validation spends most of its
// time matching them, so each has a hand-written matcher that accepts exactly the strings Go's regexp accepts
// (pattern_test.go checks that against regexp). Patterns of number and boolean datatypes are absent: the library
// applies patterns to strings only, and those datatypes reject strings by type (the integer datatypes' values are
// checked by their formats, format.go).
const (
	patString    = `^[ \r\n\t\S]+$`
	patURI       = `^\S*$`
	patCode      = `^[^\s]+(\s[^\s]+)*$`
	patID        = `^[A-Za-z0-9\-\.]{1,64}$`
	patDate      = `^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$`
	patDateTime  = `^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$`
	patInstant   = `^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`
	patTime      = `^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$`
	patOID       = `^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$`
	patUUID      = `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`
	patBase64Bin = `^(\s*([0-9a-zA-Z\+/=]){4}\s*)+$`
)

// fastMatcher returns the hand-written matcher of pattern, or nil when there is none.
func fastMatcher(pattern string) func(string) bool {
	switch pattern {
	case patString:
		return matchString
	case patURI:
		return matchURI
	case patCode:
		return matchCode
	case patID:
		return matchID
	case patDate:
		return func(s string) bool { return matchDateTime(s, dateOnly) }
	case patDateTime:
		return func(s string) bool { return matchDateTime(s, partialDateTime) }
	case patInstant:
		return func(s string) bool { return matchDateTime(s, fullDateTime) }
	case patTime:
		return func(s string) bool { rest, ok := clock(s); return ok && rest == "" }
	case patOID:
		return matchOID
	case patUUID:
		return matchUUID
	case patBase64Bin:
		return matchBase64
	}
	return nil
}

// compilePattern is the schema library's regexp engine: the hand-written matcher when there is one, Go's
// regexp otherwise.
func compilePattern(pattern string) (jsonschema.Regexp, error) {
	if m := fastMatcher(pattern); m != nil {
		return &fastRegexp{pattern: pattern, match: m}, nil
	}
	return regexp.Compile(pattern)
}

// patternCache returns a regexp engine that compiles each distinct pattern once: the schema repeats a few patterns
// at thousands of locations. The library calls it only while compiling, which Validator serialises.
func patternCache() jsonschema.RegexpEngine {
	cache := map[string]jsonschema.Regexp{}
	return func(pattern string) (jsonschema.Regexp, error) {
		if re, ok := cache[pattern]; ok {
			return re, nil
		}
		re, err := compilePattern(pattern)
		if err != nil {
			return nil, err
		}
		cache[pattern] = re
		return re, nil
	}
}

// fastRegexp is a hand-written matcher standing in for a compiled pattern.
type fastRegexp struct {
	pattern string
	match   func(string) bool
}

// String returns the pattern, as the library reports it in errors.
func (r *fastRegexp) String() string { return r.pattern }

// MatchString reports whether s matches the pattern.
func (r *fastRegexp) MatchString(s string) bool { return r.match(s) }

// isSpace reports whether c is in Go regexp's \s: tab, newline, form feed, carriage return or space.
// The multi-byte encodings of other characters never contain these bytes, and an invalid byte counts as
// U+FFFD (not \s) in Go's regexp, so matching byte by byte is exact.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// matchString: non-empty, and every character is space, CR, LF, tab or not \s — so only form feed is refused.
func matchString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '\f' {
			return false
		}
	}
	return true
}

// matchURI: no \s character at all (empty is allowed).
func matchURI(s string) bool {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return false
		}
	}
	return true
}

// matchCode: non-empty words separated by single \s characters, with no leading or trailing \s.
func matchCode(s string) bool {
	if s == "" || isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if isSpace(s[i]) && isSpace(s[i-1]) {
			return false
		}
	}
	return true
}

// matchID: 1 to 64 of A-Z, a-z, 0-9, '-' and '.'.
func matchID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// dateTimeForm selects how much of a date-time a pattern allows or requires.
type dateTimeForm int

const (
	dateOnly        dateTimeForm = iota // YYYY, YYYY-MM or YYYY-MM-DD
	partialDateTime                     // a date, or YYYY-MM-DDThh:mm:ss(.f+)(Z|±hh:mm)
	fullDateTime                        // YYYY-MM-DDThh:mm:ss(.f+)(Z|±hh:mm) only
)

// matchDateTime matches the R4 date, dateTime and instant patterns, chosen by form.
func matchDateTime(s string, form dateTimeForm) bool {
	if len(s) < 4 || !digits(s[:4]) || s[:4] == "0000" {
		return false
	}
	s = s[4:]
	if s == "" {
		return form != fullDateTime
	}
	if len(s) < 3 || s[0] != '-' || !inRange(s[1:3], "01", "12") {
		return false
	}
	s = s[3:]
	if s == "" {
		return form != fullDateTime
	}
	if len(s) < 3 || s[0] != '-' || !inRange(s[1:3], "01", "31") {
		return false
	}
	s = s[3:]
	if s == "" {
		return form != fullDateTime
	}
	if form == dateOnly || s[0] != 'T' {
		return false
	}
	s, ok := clock(s[1:])
	return ok && zone(s)
}

// clock consumes hh:mm:ss(.f+) from the start of s, hh 00-23, mm 00-59, ss 00-60, and returns the rest.
func clock(s string) (string, bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' ||
		!inRange(s[0:2], "00", "23") || !inRange(s[3:5], "00", "59") || !inRange(s[6:8], "00", "60") {
		return s, false
	}
	s = s[8:]
	if s != "" && s[0] == '.' {
		n := 1
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		if n == 1 {
			return s, false
		}
		s = s[n:]
	}
	return s, true
}

// zone matches exactly Z or ±hh:mm with hh:mm from 00:00 to 13:59, or 14:00.
func zone(s string) bool {
	if s == "Z" {
		return true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return false
	}
	return (inRange(s[1:3], "00", "13") && inRange(s[4:6], "00", "59")) || s[1:] == "14:00"
}

// matchOID: urn:oid: then 0, 1 or 2, then one or more .n with no leading zeros.
func matchOID(s string) bool {
	const prefix = "urn:oid:"
	if len(s) < len(prefix)+3 || s[:len(prefix)] != prefix || s[len(prefix)] < '0' || s[len(prefix)] > '2' {
		return false
	}
	s = s[len(prefix)+1:]
	if s == "" {
		return false
	}
	for s != "" {
		if s[0] != '.' {
			return false
		}
		n := digitRun(s[1:])
		if n == 0 || (n > 1 && s[1] == '0') {
			return false
		}
		s = s[1+n:]
	}
	return true
}

// matchUUID: urn:uuid: then a lower-case 8-4-4-4-12 hexadecimal UUID.
func matchUUID(s string) bool {
	const prefix = "urn:uuid:"
	if len(s) != len(prefix)+36 || s[:len(prefix)] != prefix {
		return false
	}
	s = s[len(prefix):]
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isDigit(s[i]) && !('a' <= s[i] && s[i] <= 'f') {
				return false
			}
		}
	}
	return true
}

// matchBase64: one or more groups of four base64 characters, with \s allowed only between groups. So each run
// of non-\s characters must be base64 characters and a multiple of four long, and there must be at least one.
func matchBase64(s string) bool {
	run, runs := 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || isSpace(s[i]) {
			if run%4 != 0 {
				return false
			}
			if run > 0 {
				runs++
			}
			run = 0
			continue
		}
		c := s[i]
		if !isDigit(c) && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && c != '+' && c != '/' && c != '=' {
			return false
		}
		run++
	}
	return runs > 0
}

// digits reports whether s is all ASCII digits.
func digits(s string) bool {
	return digitRun(s) == len(s)
}

// inRange reports whether two-digit s is between lo and hi inclusive.
func inRange(s, lo, hi string) bool {
	return len(s) == 2 && isDigit(s[0]) && isDigit(s[1]) && s >= lo && s <= hi
}
