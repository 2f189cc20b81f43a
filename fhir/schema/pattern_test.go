package schema

import (
	"math/rand/v2"
	"os"
	"regexp"
	"testing"
)

// patternSamples are strings near the edges of each hand-written pattern, valid and invalid.
func patternSamples() map[string][]string {
	return map[string][]string{
		patString: {"a", " ", "Peter James", "line\r\nbreak\ttab", "", "form\ffeed", "nbsp\u00a0ok", "vtab\vok", "\xff"},
		patURI:    {"", "http://a/b?c=d", "urn:uuid:x", "a b", "a\tb", "a\fb", "\u00a0", "\xff"},
		patCode:   {"a", "in-progress", "a b", "a  b", " a", "a ", "", "a\tb", "a\t\nb", "\u00a0x"},
		patID: {"a", "A-z.0", "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234",
			"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12345", "", "a_b", "a b", "é"},
		patDate: {"2024", "2024-03", "2024-03-14", "0001", "0000", "1000", "0010", "0100", "2024-00", "2024-13",
			"2024-3", "2024-03-00", "2024-03-31", "2024-03-32", "2024-02-30", "2024-03-14T10:00:00Z", "24", "2024-"},
		patDateTime: {"2024", "2024-03", "2024-03-14", "2024-03-14T09:20:11Z", "2024-03-14T09:20:11.123+01:00",
			"2024-03-14T23:59:60-14:00", "2024-03-14T24:00:00Z", "2024-03-14T09:20Z", "2024-03-14T09:20:11",
			"2024-03-14T09:20:11+14:01", "2024-03-14T09:20:11+13:59", "2024-03-14T09:20:11.Z", "2024-03T09:20:11Z",
			"2024-03-14T09:20:11+0100", "2024-03-14T09:20:11z", "2024-03-14 09:20:11Z", "2024-03-14T09:20:11Z "},
		patInstant: {"2024-03-14T09:20:11Z", "2024-03-14T09:20:11.000+00:00", "2024-03-14", "2024-03-14T09:20:11",
			"0000-01-01T00:00:00Z", "2024-03-14T09:20:61Z", "2024-03-14T09:60:11Z", "2024-03-14T09:20:11.5-00:00"},
		patTime: {"09:20:11", "23:59:60.123", "24:00:00", "9:20:11", "09:20", "09:20:11.", "09:20:11Z", "09:20:11.1.2"},
		patOID: {"urn:oid:1.2.3", "urn:oid:2.16.840.1.113883", "urn:oid:0.0", "urn:oid:3.1", "urn:oid:1",
			"urn:oid:1.", "urn:oid:1.02", "urn:oid:1..2", "urn:oid:", "oid:1.2", "urn:oid:1.2 "},
		patUUID: {"urn:uuid:c757873d-ec9a-4326-a141-556f43239520", "urn:uuid:C757873D-ec9a-4326-a141-556f43239520",
			"urn:uuid:c757873d-ec9a-4326-a141-556f4323952", "urn:uuid:c757873d-ec9a-4326-a141-556f432395201",
			"urn:uuid:c757873dec9a-4326-a141-556f43239520a", "c757873d-ec9a-4326-a141-556f43239520"},
		patBase64Bin: {"AAAA", "AAAA BBBB", " AAAA\n", "AAAABBBB", "AA==", "AAA", "AA AA", "", " ", "AAAA!",
			"AAAA\f", "AAAA BB", "+/==", "\tAAAA\t\tBBBB"},
	}
}

// mutate returns s with one random edit drawn from alphabet: replace, insert or delete a byte.
func mutate(r *rand.Rand, s, alphabet string) string {
	c := string(alphabet[r.IntN(len(alphabet))])
	i := 0
	if len(s) > 0 {
		i = r.IntN(len(s))
	}
	switch r.IntN(3) {
	case 0:
		if len(s) > 0 {
			return s[:i] + c + s[i+1:]
		}
		return c
	case 1:
		return s[:i] + c + s[i:]
	default:
		if len(s) > 0 {
			return s[:i] + s[i+1:]
		}
		return s
	}
}

func TestFastMatchers_AgreeWithRegexp(t *testing.T) {
	const alphabet = "0123456789-:.TZ+ \t\n\f\rabcfAZ=/_urnoiduuid\xff"
	r := rand.New(rand.NewPCG(1, 2)) // fixed seed: the test is deterministic
	for pattern, samples := range patternSamples() {
		re := regexp.MustCompile(pattern)
		fast := fastMatcher(pattern)
		if fast == nil {
			t.Fatalf("no fast matcher for %s", pattern)
		}
		matched, unmatched := 0, 0
		check := func(s string) {
			want := re.MatchString(s)
			if got := fast(s); got != want {
				t.Errorf("pattern %s, %q: fast matcher = %v, regexp = %v", pattern, s, got, want)
			}
			if want {
				matched++
			} else {
				unmatched++
			}
		}
		for _, s := range samples {
			check(s)
			m := s
			for range 2000 { // random walks away from each sample
				m = mutate(r, m, alphabet)
				check(m)
				if r.IntN(8) == 0 {
					m = s
				}
			}
		}
		if matched < len(samples)/3 || unmatched < len(samples)/3 {
			t.Errorf("pattern %s: %d matching and %d non-matching inputs; the samples no longer test both sides",
				pattern, matched, unmatched)
		}
	}
}

func FuzzFastMatchers(f *testing.F) {
	for _, samples := range patternSamples() {
		for _, s := range samples {
			f.Add(s)
		}
	}
	compiled := map[string]*regexp.Regexp{}
	for pattern := range patternSamples() {
		compiled[pattern] = regexp.MustCompile(pattern)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for pattern, re := range compiled {
			if got, want := fastMatcher(pattern)(s), re.MatchString(s); got != want {
				t.Errorf("pattern %s, %q: fast matcher = %v, regexp = %v", pattern, s, got, want)
			}
		}
	})
}

// TestFastMatchers_CoverSchemaStringPatterns fails when the schema has a pattern for strings without a
// hand-written matcher: validation would fall back to the slower regexp engine.
func TestFastMatchers_CoverSchemaStringPatterns(t *testing.T) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	var missing []string
	var visit func(v any)
	visit = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if p, ok := t["pattern"].(string); ok && t["type"] == "string" {
				seen++
				if fastMatcher(p) == nil {
					missing = append(missing, p)
				}
			}
			for _, x := range t {
				visit(x)
			}
		case []any:
			for _, x := range t {
				visit(x)
			}
		}
	}
	visit(doc.root)
	if len(missing) > 0 {
		t.Errorf("string patterns without a fast matcher: %q", missing)
	}
	if seen < 100 {
		t.Errorf("found %d string patterns in the schema; want the hundreds of R4", seen)
	}
}

func TestCompilePattern(t *testing.T) {
	engine := patternCache()
	for _, tc := range []struct {
		pattern  string
		wantFast bool
		wantErr  bool
	}{
		{patDate, true, false},
		{`^[1-9][0-9]*$`, false, false},
		{`(`, false, true},
	} {
		re, err := engine(tc.pattern)
		if (err != nil) != tc.wantErr {
			t.Errorf("engine(%q) error = %v, want error %v", tc.pattern, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if _, fast := re.(*fastRegexp); fast != tc.wantFast || re.String() != tc.pattern {
			t.Errorf("engine(%q) = %T %q; want fast %v and the pattern back", tc.pattern, re, re.String(), tc.wantFast)
		}
		again, _ := engine(tc.pattern)
		if again != re {
			t.Errorf("engine(%q) compiled twice; want the cached value", tc.pattern)
		}
	}
}
