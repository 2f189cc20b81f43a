package fhirpath

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

const (
	xhtmlNS  = "http://www.w3.org/1999/xhtml"
	xmlSpace = " \t\r\n" // XML's white space characters
)

// CheckNarrative applies the narrative rules of https://hl7.org/fhir/R4/narrative.html#rules to an XHTML
// narrative. allowed reports what txt-1 asks: well-formed XML whose root is a div, using only the basic
// formatting elements and their attributes (no scripts, forms, frames, event handlers or namespaced attributes),
// declaring no namespace but XHTML and using no entity but XML's own. hasContent reports what txt-2 asks: some
// non-whitespace text, or an image (an img with a src, as the R4 txt-2 XPath says). hasContent is false when
// the XHTML is not well-formed.
//
// R4 gives txt-1 and txt-2 the same expression, htmlChecks(), which holds when both hold; their XPaths say which
// rule is which, so a validator that reports them apart calls this.
func CheckNarrative(xhtml string) (allowed, hasContent bool) {
	if strings.Contains(xhtml, "<?") || strings.Contains(xhtml, "<![CDATA[") || strings.Contains(xhtml, "<!DOCTYPE") {
		return false, false
	}
	d := xml.NewDecoder(strings.NewReader(xhtml))
	d.Strict = true
	depth, roots := 0, 0
	allowed = true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			wellFormed := roots == 1 && depth == 0
			return allowed && wellFormed, hasContent && wellFormed
		}
		if err != nil {
			return false, false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if duplicateAttribute(t) { // not well-formed, though encoding/xml accepts it
				return false, false
			}
			if depth == 0 {
				roots++
				allowed = allowed && roots == 1 && t.Name.Local == "div"
			}
			allowed = allowed && allowedElement(t)
			hasContent = hasContent || isImage(t)
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			blank := strings.Trim(string(t), xmlSpace) == "" // normalize-space(): U+00A0 is content
			if depth == 0 && !blank {
				return false, false
			}
			hasContent = hasContent || !blank
		case xml.Comment:
			allowed = allowed && depth > 0
		default: // processing instructions and directives
			return false, false
		}
	}
}

// checkNarrative is htmlChecks(): true when the narrative meets every rule, those of txt-1 and of txt-2.
func checkNarrative(s string) bool {
	allowed, content := CheckNarrative(s)
	return allowed && content
}

// isImage reports whether an element is an image that counts as content: an img with a src.
func isImage(t xml.StartElement) bool {
	if t.Name.Local != "img" {
		return false
	}
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == "src" {
			return true
		}
	}
	return false
}

// duplicateAttribute reports whether an element has an attribute twice.
func duplicateAttribute(t xml.StartElement) bool {
	if len(t.Attr) < 2 {
		return false
	}
	seen := make(map[xml.Name]bool, len(t.Attr))
	for _, a := range t.Attr {
		if seen[a.Name] {
			return true
		}
		seen[a.Name] = true
	}
	return false
}

func allowedElement(t xml.StartElement) bool {
	if t.Name.Space != "" && t.Name.Space != xhtmlNS {
		return false
	}
	if !narrativeElement(t.Name.Local) {
		return false
	}
	for _, a := range t.Attr {
		name := a.Name.Local
		if a.Name.Space != "" {
			return false
		}
		switch {
		case name == "xmlns":
			if a.Value != xhtmlNS {
				return false
			}
		case narrativeAttribute(t.Name.Local, name):
		default:
			return false
		}
	}
	return true
}

// narrativeElement reports whether FHIR narrative allows an element: the basic formatting elements of chapters
// 7-11 and 15 of HTML 4.0, anchors and images (the list fhirpath.js uses; the R4 txt-1 XPath lacks address, bdo
// and kbd, which those chapters define).
func narrativeElement(name string) bool {
	switch name {
	case "p", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "a", "span", "b", "em", "i", "strong", "small",
		"big", "tt", "dfn", "q", "var", "abbr", "acronym", "cite", "blockquote", "hr", "address", "bdo", "kbd",
		"sub", "sup", "ul", "ol", "li", "dl", "dt", "dd", "pre", "table", "caption", "colgroup", "col", "thead",
		"tr", "tfoot", "tbody", "th", "td", "code", "samp", "img":
		return true
	}
	return false
}

// narrativeAttribute reports whether FHIR narrative allows an attribute on an element: the attributes the R4
// txt-1 XPath lists, on the elements HTML 4.0 defines them for (the XPath allows them on any element). The HL7
// Java validator allows the same attributes on anchors, images and tables.
func narrativeAttribute(element, name string) bool {
	switch name {
	case "title", "style", "class", "id", "lang", "dir", "accesskey", "tabindex", "span", "align", "valign",
		"char", "charoff", "abbr", "axis", "headers", "scope", "rowspan", "colspan":
		return true
	}
	switch element + "." + name {
	case "a.href", "a.name", "a.charset", "a.type", "a.hreflang", "a.rel", "a.rev", "a.shape", "a.coords",
		"img.src", "img.border", "img.alt", "img.longdesc", "img.height", "img.width", "img.hspace", "img.vspace",
		"blockquote.cite", "q.cite",
		"ol.start", "ol.type", "ol.compact", "ul.type", "ul.compact", "li.type", "li.value", "dl.compact",
		"table.summary", "table.width", "table.border", "table.frame", "table.rules", "table.cellspacing",
		"table.cellpadding", "table.bgcolor", "tr.bgcolor", "th.bgcolor", "td.bgcolor",
		"col.width", "colgroup.width", "th.width", "td.width", "th.height", "td.height", "th.nowrap", "td.nowrap":
		return true
	}
	return false
}
