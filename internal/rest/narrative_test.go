package rest

import "testing"

func TestRewriteNarrative(t *testing.T) {
	const uuid = "urn:uuid:11111111-1111-4111-8111-111111111111"
	refs := map[string]string{uuid: "Patient/p1", "http://x.test/a?b=1&c=2": "Patient/p2", `urn:q"'`: `Odd/<&>"'`}
	for _, tc := range []struct{ name, in, want string }{
		{"a href", `<div xmlns="http://www.w3.org/1999/xhtml"><a href="` + uuid + `">the patient</a></div>`,
			`<div xmlns="http://www.w3.org/1999/xhtml"><a href="Patient/p1">the patient</a></div>`},
		{"img src, single quotes and spacing", `<div><img alt="x"  src = '` + uuid + `'/></div>`, `<div><img alt="x"  src = 'Patient/p1'/></div>`},
		{"several links, the rest byte for byte", "<div>\n <p class=\"a\">x &amp; y</p><a href=\"" + uuid + "\">1</a> <a\thref=\"" + uuid + "\" title=\"t\">2</a></div>",
			"<div>\n <p class=\"a\">x &amp; y</p><a href=\"Patient/p1\">1</a> <a\thref=\"Patient/p1\" title=\"t\">2</a></div>"},
		{"escaped value matches unescaped", `<div><a href="http://x.test/a?b=1&amp;c=2">x</a></div>`, `<div><a href="Patient/p2">x</a></div>`},
		{"character references", `<div><a href="urn&#58;uuid:11111111-1111-4111-8111-11111111111&#x31;">x</a></div>`, `<div><a href="Patient/p1">x</a></div>`},
		{"replacement escaped for its quotes", `<div><a href='urn:q&quot;&apos;'>x</a></div>`, `<div><a href='Odd/&lt;&amp;>"&apos;'>x</a></div>`},
		{"other values untouched", `<div><a href="urn:uuid:other">x</a><a href="` + uuid + `x">y</a></div>`, `<div><a href="urn:uuid:other">x</a><a href="` + uuid + `x">y</a></div>`},
		{"other attributes untouched", `<div><a title="` + uuid + `" data-href="` + uuid + `">x</a></div>`, `<div><a title="` + uuid + `" data-href="` + uuid + `">x</a></div>`},
		{"text untouched", `<div>href="` + uuid + `"</div>`, `<div>href="` + uuid + `"</div>`},
		{"comment untouched", `<div><!-- <a href="` + uuid + `"> --><a href="` + uuid + `"/></div>`, `<div><!-- <a href="` + uuid + `"> --><a href="Patient/p1"/></div>`},
		{"no links", `<div>plain</div>`, `<div>plain</div>`},
		{"unterminated value", `<div><a href="` + uuid, `<div><a href="` + uuid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rewriteNarrative(tc.in, refs); got != tc.want {
				t.Errorf("rewriteNarrative(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRelativeToBase(t *testing.T) {
	const base = "http://fhir.test:8080/r4"
	for _, tc := range []struct {
		raw, base, want string
		ok              bool
	}{
		{"Patient/1", base, "Patient/1", true},
		{"/Patient?name=x", base, "/Patient?name=x", true},
		{base + "/Patient/1", base, "Patient/1", true},
		{"HTTP://FHIR.test:8080/r4/Patient", base, "Patient", true},
		{base + "?_type=Patient", base, "?_type=Patient", true},
		{base + "/metadata", base, "metadata", true},
		{"http://fhir.test:8080/R4/Patient", base, "", false},
		{"http://fhir.test:8080/r4x/Patient", base, "", false},
		{"http://evil.example/Patient", base, "", false},
		{"http://evil.example/r4/Patient?u=" + base + "/", base, "", false},
		{"http://fhir.test/Patient", "", "", false},
		{"Patient?url=http://evil.example/x", base, "Patient?url=http://evil.example/x", true},
	} {
		got, ok := relativeToBase(tc.raw, tc.base)
		if got != tc.want || ok != tc.ok {
			t.Errorf("relativeToBase(%q, %q) = %q, %v; want %q, %v", tc.raw, tc.base, got, ok, tc.want, tc.ok)
		}
	}
}
