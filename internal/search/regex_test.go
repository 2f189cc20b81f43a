package search

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	fhirsearch "github.com/accord-fhir/accord/fhir/search"
)

// TestDigitRange_MatchesExactlyTheInterval compares the regular expression of random intervals with the interval
// itself on every digit string of the width.
func TestDigitRange_MatchesExactlyTheInterval(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, width := range []int{1, 2, 3, 4} {
		limit := 1
		for range width {
			limit *= 10
		}
		format := fmt.Sprintf("%%0%dd", width)
		for range 60 {
			a, b := rng.IntN(limit), rng.IntN(limit)
			if a > b {
				a, b = b, a
			}
			if rng.IntN(5) == 0 { // edges: all zeros and all nines
				a = 0
			}
			lo, hi := fmt.Sprintf(format, a), fmt.Sprintf(format, b)
			re := regexp.MustCompile("^" + digitRange(lo, hi) + "$")
			for n := range limit {
				s := fmt.Sprintf(format, n)
				if got, want := re.MatchString(s), n >= a && n <= b; got != want {
					t.Fatalf("digitRange(%s, %s) = %s: matches %s = %v, want %v", lo, hi, re, s, got, want)
				}
			}
		}
	}
}

func TestDigitInterval_EmptyMatchesNothing(t *testing.T) {
	re := regexp.MustCompile("^" + digitInterval("5", "4") + "$")
	for n := range 10 {
		if re.MatchString(fmt.Sprint(n)) {
			t.Errorf("empty interval matches %d", n)
		}
	}
}

func TestStepKey(t *testing.T) {
	for _, tc := range []struct{ in, inc, dec string }{
		{"0000", "0001", "0000"},
		{"0099", "0100", "0098"},
		{"1000", "1001", "0999"},
		{"9999", "9999", "9998"},
	} {
		if got := incKey(tc.in); got != tc.inc {
			t.Errorf("incKey(%s) = %s, want %s", tc.in, got, tc.inc)
		}
		if got := decKey(tc.in); got != tc.dec {
			t.Errorf("decKey(%s) = %s, want %s", tc.in, got, tc.dec)
		}
	}
}

// TestNumberKey_SortsAsNumbers checks that number keys have one width and sort as their numbers.
func TestNumberKey_SortsAsNumbers(t *testing.T) {
	values := []string{"-1e18", "-123456789.5", "-100", "-0.000000001", "0", "0.000000001", "0.5", "1", "1.5", "99.5", "100", "100.000000001", "1e17"}
	var prev string
	for i, v := range values {
		k := numberKey(decimal.RequireFromString(v))
		if len(k) != numberWidth {
			t.Fatalf("numberKey(%s) = %q: %d digits, want %d", v, k, len(k), numberWidth)
		}
		if i > 0 && k <= prev {
			t.Errorf("numberKey(%s) = %s does not sort after numberKey(%s) = %s", v, k, values[i-1], prev)
		}
		prev = k
	}
	if got := numberKey(decimal.RequireFromString("2e30")); got != maxNumberKey {
		t.Errorf("a number beyond the range is %s, want the largest key", got)
	}
}

func TestInstantKey(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2024, 3, 15, 10, 30, 5, 123e6, time.UTC), "20240315103005123"},
		{time.Date(2024, 3, 15, 11, 30, 5, 0, time.FixedZone("", 3600)), "20240315103005000"},
		{fhirsearch.MinInstant, "00010101000000000"},
		{fhirsearch.MaxInstant, "99991231235959999"},
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), "00010101000000000"},
	} {
		if got := instantKey(tc.t); got != tc.want {
			t.Errorf("instantKey(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
}
