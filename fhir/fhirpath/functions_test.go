package fhirpath

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestFunctions_Literals checks operators and functions on literals, where FHIRPath N1 gives the answer.
func TestFunctions_Literals(t *testing.T) {
	e := NewEngine()
	for _, tc := range []struct {
		expr string
		want []string
	}{
		// equality, equivalence, ordering
		{"1 = 1.0", []string{"Boolean//true"}},
		{"1.2 ~ 1.24", []string{"Boolean//true"}},
		{"'Ab c' ~ 'ab C'", []string{"Boolean//true"}},
		{"(1 | 2) ~ (2 | 1)", []string{"Boolean//true"}},
		{"@2012-04 = @2012-04-15", nil},
		{"@2012-04 < @2012-05-15", []string{"Boolean//true"}},
		{"@2012-04-15T10:00:00Z = @2012-04-15T12:00:00+02:00", []string{"Boolean//true"}},
		{"@2012-04-15T10:00:00.5Z > @2012-04-15T10:00:00Z", []string{"Boolean//true"}},
		{"@T10:00 < @T11:00", []string{"Boolean//true"}},
		{"1 'g' = 1000 'mg'", []string{"Boolean//true"}},
		{"5 'mg' < 1 'g'", []string{"Boolean//true"}},
		{"5 'mg' < 1 'm'", nil},
		{"'b' > 'a'", []string{"Boolean//true"}},
		// three-valued logic
		{"true and {}", nil},
		{"false and {}", []string{"Boolean//false"}},
		{"true or {}", []string{"Boolean//true"}},
		{"{} implies true", []string{"Boolean//true"}},
		{"false implies {}", []string{"Boolean//true"}},
		{"true xor true", []string{"Boolean//false"}},
		{"{}.not()", nil},
		// arithmetic
		{"7 div 2", []string{"Integer//3"}},
		{"-7 mod 3", []string{"Integer//-1"}},
		{"10 / 4", []string{"Decimal//2.5"}},
		{"10 / 0", nil},
		{"0.1 + 0.2", []string{"Decimal//0.3"}},
		{"1.50 + 1", []string{"Decimal//2.50"}},
		{"2 * 3 'mg'", []string{"Quantity//6 'mg'"}},
		{"'abc' & {} & 'def'", []string{"String//abcdef"}},
		// date arithmetic: obligations add durations to dates
		{"@2024-01-31 + 1 month", []string{"Date//2024-02-29"}},
		{"@2024-02-29 + 1 year", []string{"Date//2025-02-28"}},
		{"@2025-03-14 + 36 hours", []string{"Date//2025-03-15"}},
		{"@2025-03-14 - 2 weeks", []string{"Date//2025-02-28"}},
		{"@2025-03-14T23:30:00Z + 90 minutes", []string{"DateTime//2025-03-15T01:00:00Z"}},
		{"@2025-03-14T09:20:00+01:00 + 14 'd'", []string{"DateTime//2025-03-28T09:20:00+01:00"}},
		{"@2025-03 + 40 days", []string{"Date//2025-04"}},
		{"@T10:00 + 3 hours", []string{"Time//13:00"}},
		// collections
		{"(1 | 1 | 2).count()", []string{"Integer//2"}},
		{"(1 | 2).combine(2 | 3)", []string{"Integer//1", "Integer//2", "Integer//2", "Integer//3"}},
		{"(1 | 2 | 3).intersect(2 | 3 | 4)", []string{"Integer//2", "Integer//3"}},
		{"(1 | 2 | 3).exclude(2)", []string{"Integer//1", "Integer//3"}},
		{"(1 | 2 | 3).skip(1).take(1)", []string{"Integer//2"}},
		{"(1 | 2 | 3).where($this > 1).select($this * 10)", []string{"Integer//20", "Integer//30"}},
		{"(1 | 2 | 3).aggregate($this + $total, 0)", []string{"Integer//6"}},
		{"(1 | 2).all($this > 0) and (1 | 2).exists($this > 1)", []string{"Boolean//true"}},
		{"(true | false).anyTrue() and (true | false).anyFalse()", []string{"Boolean//true"}},
		{"(1 | 2).subsetOf(1 | 2 | 3)", []string{"Boolean//true"}},
		{"(1 | 2 | 3)[1]", []string{"Integer//2"}},
		{"iif(1 > 2, 'a', 'b')", []string{"String//b"}},
		// strings
		{"'abcdef'.substring(2, 3)", []string{"String//cde"}},
		{"'abc'.indexOf('c')", []string{"Integer//2"}},
		{"'a,b'.split(',')", []string{"String//a", "String//b"}},
		{"('a' | 'b').join('-')", []string{"String//a-b"}},
		{"'abc'.matches('^a.c$')", []string{"Boolean//true"}},
		{"'a1b22'.replaceMatches('[0-9]+', '#')", []string{"String//a#b#"}},
		{"'abc'.replace('b', 'x')", []string{"String//axc"}},
		{"'Ab'.upper() + 'Ab'.lower()", []string{"String//ABab"}},
		{"'  x '.trim().length()", []string{"Integer//1"}},
		{"'abc'.encode('base64').decode('base64')", []string{"String//abc"}},
		// conversion
		{"'5'.toInteger() + 1", []string{"Integer//6"}},
		{"'2.50'.toDecimal()", []string{"Decimal//2.50"}},
		{"'yes'.toBoolean()", []string{"Boolean//true"}},
		{"'x'.convertsToInteger()", []string{"Boolean//false"}},
		{"'2025-03-14'.toDate()", []string{"Date//2025-03-14"}},
		{"@2025-03-14T10:00:00Z.toDate()", []string{"Date//2025-03-14"}},
		{"'14 days'.toQuantity()", []string{"Quantity//14 'days'"}},
		{"'5 \\'mg\\''.toQuantity()", []string{"Quantity//5 'mg'"}},
		{"12.toString()", []string{"String//12"}},
		// math
		{"(3.14159).round(2)", []string{"Decimal//3.14"}},
		{"(-5).abs()", []string{"Integer//5"}},
		{"(2.5).ceiling() | (2.5).floor() | (-2.5).truncate()", []string{"Integer//3", "Integer//2", "Integer//-2"}},
		{"(16).sqrt()", []string{"Decimal//4"}},
		{"(2).power(10)", []string{"Integer//1024"}},
		{"(100).log(10)", []string{"Decimal//2"}},
		// quantities
		{"2 'mg' + 3 'mg'", []string{"Quantity//5 'mg'"}},
		{"6 'mg' / 2 'mg'", []string{"Quantity//3 '1'"}},
		{"6 'mg' / 2", []string{"Quantity//3 'mg'"}},
		{"2 'mg' * 3 'mg'", []string{"Quantity//6 'mg.mg'"}},
		{"(-5.5 'mg').abs()", []string{"Quantity//5.5 'mg'"}},
		{"'x'.convertsToQuantity() | '2 days'.convertsToQuantity()", []string{"Boolean//false", "Boolean//true"}},
		{"(5 'mg').toQuantity('mg')", []string{"Quantity//5 'mg'"}},
		{"(5 'mg').toQuantity('g')", nil},
		// more collection functions
		{"(1 | 2).combine(2).distinct()", []string{"Integer//1", "Integer//2"}},
		{"(1 | 2).supersetOf(1)", []string{"Boolean//true"}},
		{"(1 | 2).union(2 | 3)", []string{"Integer//1", "Integer//2", "Integer//3"}},
		{"(1).single()", []string{"Integer//1"}},
		{"(1).is(Integer)", []string{"Boolean//true"}},
		{"'1.0'.toBoolean() | 0.0.toBoolean() | 'maybe'.toBoolean()", []string{"Boolean//true", "Boolean//false"}},
		{"true.toDecimal() | '1e3'.toDecimal()", []string{"Decimal//1.0"}},
		{"'abc'.matches('a' + 'b')", []string{"Boolean//true"}},
		// types
		{"1 is Integer", []string{"Boolean//true"}},
		{"1 is System.Integer", []string{"Boolean//true"}},
		{"'a' is String", []string{"Boolean//true"}},
		{"'a' is FHIR.string", []string{"Boolean//false"}},
		{"(1 | 'a' | 2.0).ofType(Integer)", []string{"Integer//1"}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got := showAll(mustEvaluate(t, e, tc.expr, nil))
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Evaluate(%q) (-want +got):\n%s", tc.expr, diff)
			}
		})
	}
}

// TestCheckNarrative checks the narrative rules, each reported by the invariant that states it: txt-1 (allowed
// elements and attributes, well-formed XHTML) and txt-2 (some non-whitespace content, text or an image).
// htmlChecks(), the expression of both in R4, holds when both do.
func TestCheckNarrative(t *testing.T) {
	const ns = `<div xmlns="http://www.w3.org/1999/xhtml">`
	for _, tc := range []struct {
		name, xhtml      string
		allowed, content bool
	}{
		{"generated narrative", ns + `<p>Repeat <b>HbA1c</b> &amp; review</p></div>`, true, true},
		{"table and image", ns + `<table border="1"><tr><td>x</td></tr></table><img src="#a" alt="a"/></div>`, true, true},
		{"no namespace", `<div><p>x</p></div>`, true, true},
		// List-prognosis.json: an image is content (R4 narrative rules: "text or an image"; txt-2 XPath
		// descendant::h:img[@src]).
		{"only an image", ns + "\n      <img src=\"#image\" alt=\"Family history diagram\"/>\n    </div>", true, true},
		{"image without src", ns + `<img alt="nothing to show"/></div>`, true, false},
		// ActivityDefinition-heart-valve-replacement.json and EventDefinition-example.json: only whitespace. The
		// elements are allowed (txt-1 holds); only txt-2 fails.
		{"only whitespace", ns + "\n    </div>", true, false},
		{"empty elements", ns + ` <p/> </div>`, true, false},
		{"whitespace in pre", ns + "<pre>\n      </pre></div>", true, false},
		{"empty", `<div/>`, true, false},
		{"character reference is text", ns + `&#160;</div>`, true, true},
		// attributes of the R4 txt-1 XPath, on the elements HTML 4.0 defines them for
		{"list attributes", ns + `<ol start="3" type="a" compact="compact"><li value="4">x</li></ol></div>`, true, true},
		{"anchor attributes", ns + `<a href="https://example.org" rel="next" type="text/html" hreflang="en">x</a></div>`, true, true},
		{"table colours", ns + `<table bgcolor="#fff"><tr bgcolor="#eee"><td bgcolor="#ddd" height="2" nowrap="nowrap">x</td></tr></table></div>`, true, true},
		{"image spacing", ns + `<img src="#a" hspace="2" vspace="2"/></div>`, true, true},
		{"list attribute on a paragraph", ns + `<p start="2">x</p></div>`, false, true},
		{"script", ns + `<script>alert(1)</script>x</div>`, false, true},
		{"event handler", ns + `<p onclick="x()">x</p></div>`, false, true},
		{"form", ns + `<form><p>x</p></form></div>`, false, true},
		{"HTML entity", ns + `<p>a&nbsp;b</p></div>`, false, false},
		{"other namespace", `<div xmlns="http://example.org"><p>x</p></div>`, false, true},
		{"namespaced attribute", ns + `<p xml:lang="en">x</p></div>`, false, true},
		{"root is not a div", `<p xmlns="http://www.w3.org/1999/xhtml">x</p>`, false, true},
		{"two roots", `<div>x</div><div>y</div>`, false, false},
		{"comment outside the root", `<!-- x --><div>x</div>`, false, true},
		{"text outside the root", `x<div>y</div>`, false, false},
		{"not well-formed", ns + `<p>x</div>`, false, false},
		{"doctype", `<!DOCTYPE div><div>x</div>`, false, false},
		{"duplicate attribute", `<div class="a" class="b">x</div>`, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allowed, content := CheckNarrative(tc.xhtml)
			if allowed != tc.allowed || content != tc.content {
				t.Errorf("CheckNarrative(%s) = %v, %v; want %v, %v", tc.xhtml, allowed, content, tc.allowed, tc.content)
			}
			if got, want := checkNarrative(tc.xhtml), tc.allowed && tc.content; got != want {
				t.Errorf("htmlChecks() of %s = %v, want %v", tc.xhtml, got, want)
			}
		})
	}
}

func TestParseTemporal(t *testing.T) {
	for _, tc := range []struct {
		kind    Kind
		text    string
		want    string // String() of the parse, "" for an error
		wantPre Precision
	}{
		{KindDate, "2024", "2024", PrecisionYear},
		{KindDate, "2024-02-29", "2024-02-29", PrecisionDay},
		{KindDate, "2023-02-29", "", 0},
		{KindDate, "2024-1-01", "", 0},
		{KindDateTime, "2024-02-03", "2024-02-03", PrecisionDay},
		{KindDateTime, "2024-02-03T", "2024-02-03", PrecisionDay},
		{KindDateTime, "2024T", "2024", PrecisionYear},
		{KindDateTime, "2024-02-03T04", "2024-02-03T04", PrecisionHour},
		{KindDateTime, "2024-02-03T04:05:06.7891Z", "2024-02-03T04:05:06.7891Z", PrecisionMillisecond},
		{KindDateTime, "2024-02-03T04:05:06-05:30", "2024-02-03T04:05:06-05:30", PrecisionSecond},
		{KindDateTime, "2024-02T04:05", "", 0},
		{KindDateTime, "2024-02-03T24:00:00Z", "", 0},
		{KindTime, "04:05:06.007", "04:05:06.007", PrecisionMillisecond},
		{KindTime, "04:60", "", 0},
	} {
		t.Run(tc.text, func(t *testing.T) {
			got, err := parseTemporal(tc.kind, tc.text)
			if tc.want == "" {
				if err == nil {
					t.Errorf("parseTemporal(%s, %q) = %v, want an error", tc.kind, tc.text, got)
				}
				return
			}
			if err != nil || got.String() != tc.want || got.Precision != tc.wantPre {
				t.Errorf("parseTemporal(%s, %q) = %q precision %d, %v; want %q precision %d", tc.kind, tc.text, got.String(), got.Precision, err, tc.want, tc.wantPre)
			}
		})
	}
}

func TestEvaluate_UntypedData(t *testing.T) {
	e := NewEngine()
	obj := map[string]any{"count": fhirNumber("2"), "ratio": fhirNumber("0.75"), "ok": true, "name": "x",
		"child": map[string]any{"n": fhirNumber("1")}}
	got := showAll(mustEvaluate(t, e, "count + 1 | ratio * 2 | ok | name | child.n", obj))
	want := []string{"Integer//3", "Decimal//1.50", "Boolean//true", "String//x", "Integer//1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("untyped data (-want +got):\n%s", diff)
	}
	if _, err := mustCompile(t, e, "(1 | 2).single()").Evaluate(nil); err == nil {
		t.Error("single() of two items: want an error")
	}
}
