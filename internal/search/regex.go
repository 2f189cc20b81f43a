package search

import (
	"regexp"
	"strconv"
	"strings"
)

// digitRange returns a regular expression (without anchors) that matches the digit strings of len(lo) from lo to
// hi inclusive; lo and hi are digit strings of one length and lo <= hi.
func digitRange(lo, hi string) string {
	i := 0
	for i < len(lo) && lo[i] == hi[i] {
		i++
	}
	if i == len(lo) {
		return lo
	}
	prefix, a, b := lo[:i], lo[i], hi[i]
	restLo, restHi := lo[i+1:], hi[i+1:]
	if allOf(restLo, '0') && allOf(restHi, '9') {
		return prefix + class(a, b) + anyDigits(len(restLo))
	}
	alts := []string{string(a) + atLeast(restLo)}
	if b-a > 1 {
		alts = append(alts, class(a+1, b-1)+anyDigits(len(restLo)))
	}
	alts = append(alts, string(b)+atMost(restHi))
	return prefix + "(?:" + strings.Join(alts, "|") + ")"
}

// atLeast matches the digit strings of len(s) that are >= s.
func atLeast(s string) string {
	if allOf(s, '0') {
		return anyDigits(len(s))
	}
	alt := string(s[0]) + atLeast(s[1:])
	if s[0] < '9' {
		alt += "|" + class(s[0]+1, '9') + anyDigits(len(s)-1)
	}
	return "(?:" + alt + ")"
}

// atMost matches the digit strings of len(s) that are <= s.
func atMost(s string) string {
	if allOf(s, '9') {
		return anyDigits(len(s))
	}
	alt := string(s[0]) + atMost(s[1:])
	if s[0] > '0' {
		alt += "|" + class('0', s[0]-1) + anyDigits(len(s)-1)
	}
	return "(?:" + alt + ")"
}

func allOf(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != c {
			return false
		}
	}
	return true
}

func class(a, b byte) string {
	if a == b {
		return string(a)
	}
	return "[" + string(a) + "-" + string(b) + "]"
}

func anyDigits(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "[0-9]"
	}
	return "[0-9]{" + strconv.Itoa(n) + "}"
}

// quote escapes s for a regular expression.
func quote(s string) string { return regexp.QuoteMeta(s) }

// anyKeyPart matches one escaped key part: no unescaped $ (the composite separator).
const anyKeyPart = `(?:[^\\$]|\\.)*`

// alternatives joins regular expressions as alternatives in a group.
func alternatives(res []string) string {
	if len(res) == 1 {
		return res[0]
	}
	return "(?:" + strings.Join(res, "|") + ")"
}
