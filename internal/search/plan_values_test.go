package search

import (
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	fhirsearch "github.com/accord-fhir/accord/fhir/search"
)

// r4DatePrefix states R4's definition of each prefix for one value range v against a search range p (ends
// exclusive). See https://hl7.org/fhir/R4/search.html#prefix.
func r4DatePrefix(prefix fhirsearch.Prefix, v, p fhirsearch.Range) bool {
	eq := !v.Start.Before(p.Start) && !v.End.After(p.End)
	gt := v.End.After(p.End)
	lt := v.Start.Before(p.Start)
	switch prefix {
	case fhirsearch.PrefixNe:
		return !eq
	case fhirsearch.PrefixGt:
		return gt
	case fhirsearch.PrefixLt:
		return lt
	case fhirsearch.PrefixGe:
		return gt || eq
	case fhirsearch.PrefixLe:
		return lt || eq
	case fhirsearch.PrefixSa:
		return !v.Start.Before(p.End)
	case fhirsearch.PrefixEb:
		return !v.End.After(p.Start)
	}
	return eq
}

// TestDateRegex_AgreesWithR4 checks the regular expression of each prefix on random value and search ranges
// against R4's definition, including ranges that share an end.
func TestDateRegex_AgreesWithR4(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)
	instant := func() time.Time { return base.Add(time.Duration(rng.IntN(48)) * 30 * time.Minute) }
	span := func() fhirsearch.Range {
		a, b := instant(), instant()
		if b.Before(a) {
			a, b = b, a
		}
		return fhirsearch.Range{Start: a, End: b.Add(time.Millisecond)}
	}
	prefixes := []fhirsearch.Prefix{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"}
	for range 300 {
		p := span()
		for _, prefix := range prefixes {
			re := regexp.MustCompile("^" + dateRegex(prefix, p, base) + "$")
			for range 20 {
				v := span()
				if rng.IntN(4) == 0 {
					v = fhirsearch.Range{Start: p.Start, End: p.End}
				}
				if got, want := re.MatchString(rangeKey(v)), r4DatePrefix(prefix, v, p); got != want {
					t.Fatalf("%s %v..%v against value %v..%v: regex says %v, R4 says %v", prefix, p.Start, p.End, v.Start, v.End, got, want)
				}
			}
		}
	}
}

// TestDateRegex_OpenEnds: a period without an end is after every search range; one without a start before.
func TestDateRegex_OpenEnds(t *testing.T) {
	p := fhirsearch.Range{Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	open := fhirsearch.Range{Start: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), End: fhirsearch.MaxInstant}
	for prefix, want := range map[fhirsearch.Prefix]bool{"eq": false, "gt": true, "ge": true, "lt": false, "sa": false} {
		re := regexp.MustCompile("^" + dateRegex(prefix, p, time.Now()) + "$")
		if got := re.MatchString(rangeKey(open)); got != want {
			t.Errorf("%s 2024 on a period from 2024-06 without end: %v, want %v", prefix, got, want)
		}
	}
}

// TestNumberRegex_AgreesWithR4 checks the number prefixes on random values: eq and ne use the implicit range of
// the search value's precision, the others its exact value.
func TestNumberRegex_AgreesWithR4(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, text := range []string{"100", "100.0", "0.5", "-3", "1e1", "99.95", "0"} {
		v := mustNumber(t, text)
		for _, prefix := range []fhirsearch.Prefix{"eq", "ne", "gt", "lt", "ge", "le", "ap"} {
			v.Prefix = prefix
			re := regexp.MustCompile("^" + numberRegex(prefix, v) + "$")
			for range 400 {
				x := decimal.New(rng.Int64N(40000)-20000, -2) // -200.00 … 200.00
				if rng.IntN(10) == 0 {
					x = v.Low
				}
				want := map[fhirsearch.Prefix]bool{
					"eq": !x.LessThan(v.Low) && x.LessThan(v.High),
					"ne": x.LessThan(v.Low) || !x.LessThan(v.High),
					"gt": x.GreaterThan(v.Number), "lt": x.LessThan(v.Number),
					"ge": !x.LessThan(v.Number), "le": !x.GreaterThan(v.Number),
					"ap": !x.LessThan(v.Number.Sub(v.Number.Abs().Div(decimal.New(10, 0)))) && !x.GreaterThan(v.Number.Add(v.Number.Abs().Div(decimal.New(10, 0)))),
				}[prefix]
				if got := re.MatchString(numberKey(x)); got != want {
					t.Fatalf("%s%s on %s: %v, want %v", prefix, text, x, got, want)
				}
			}
		}
	}
}

func mustNumber(t *testing.T, text string) fhirsearch.Value {
	t.Helper()
	reg := testRegistry(t)
	q, err := reg.Parse("RiskAssessment", map[string][]string{"probability": {text}}, fhirsearch.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return q.Criteria[0].Values[0]
}
