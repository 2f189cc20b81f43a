package fhirpath

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

const xhtmlNS = "http://www.w3.org/1999/xhtml"

// checkNarrative is htmlChecks(): the narrative rules of https://hl7.org/fhir/R4/narrative.html#rules, as the R4
// invariants txt-1 and txt-2 use them. The XHTML must be well-formed XML whose root is a div, use only the basic
// formatting elements and attributes (no scripts, forms, frames, event handlers or namespaced attributes), declare
// no namespace but XHTML, use no entity but XML's own, and contain some non-whitespace text.
func checkNarrative(s string) bool {
	if strings.Contains(s, "<?") || strings.Contains(s, "<![CDATA[") || strings.Contains(s, "<!DOCTYPE") {
		return false
	}
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	depth, roots, content := 0, 0, false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return roots == 1 && depth == 0 && content
		}
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 || t.Name.Local != "div" {
					return false
				}
			}
			if !allowedElement(t) {
				return false
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			blank := strings.TrimSpace(string(t)) == ""
			if depth == 0 && !blank {
				return false
			}
			content = content || !blank
		case xml.Comment:
			if depth == 0 {
				return false
			}
		default: // processing instructions and directives
			return false
		}
	}
}

func allowedElement(t xml.StartElement) bool {
	if t.Name.Space != "" && t.Name.Space != xhtmlNS {
		return false
	}
	if !narrativeElement(t.Name.Local) {
		return false
	}
	seen := make(map[string]bool, len(t.Attr))
	for _, a := range t.Attr {
		name := a.Name.Local
		if a.Name.Space != "" || seen[name] {
			return false
		}
		seen[name] = true
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
// 7-11 and 15 of HTML 4.0, anchors and images (the list fhirpath.js uses).
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

// narrativeAttribute reports whether FHIR narrative allows an attribute on an element.
func narrativeAttribute(element, name string) bool {
	switch name {
	case "title", "style", "class", "id", "lang", "dir", "accesskey", "tabindex", "span", "align", "valign",
		"char", "charoff", "abbr", "axis", "headers", "scope", "rowspan", "colspan":
		return true
	}
	switch element + "." + name {
	case "a.href", "a.name", "img.src", "img.border", "img.alt", "img.longdesc", "img.height", "img.width",
		"blockquote.cite", "q.cite", "table.summary", "table.width", "table.border", "table.frame", "table.rules",
		"table.cellspacing", "table.cellpadding", "col.width", "colgroup.width", "th.width", "td.width",
		"td.nowrap":
		return true
	}
	return false
}
