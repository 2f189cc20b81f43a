package rest

import (
	"strconv"
	"strings"
)

// rewriteNarrative replaces the value of every href and src attribute of xhtml (a Narrative's div) that equals a
// key of refs, compared after XML unescaping, by that key's value, escaped; the rest of the XHTML stays byte for
// byte as it was. R4 http.html#trules: "Servers SHALL replace all matching links in the bundle, whether they are
// found in … <a href="" & <img src="" in the narrative."
func rewriteNarrative(xhtml string, refs map[string]string) string {
	if !strings.Contains(xhtml, "href") && !strings.Contains(xhtml, "src") {
		return xhtml
	}
	var b strings.Builder
	done := 0 // xhtml[:done] is in b
	for i := 0; i < len(xhtml); {
		j := strings.IndexByte(xhtml[i:], '<')
		if j < 0 {
			break
		}
		i += j
		if end, skip := markupEnd(xhtml, i); skip {
			i = end
			continue
		}
		i = scanTag(xhtml, i+1, func(name string, start, end int, quote byte) {
			if name != "href" && name != "src" {
				return
			}
			to, ok := refs[xmlUnescape(xhtml[start:end])]
			if !ok {
				return
			}
			b.WriteString(xhtml[done:start])
			b.WriteString(xmlEscape(to, quote))
			done = end
		})
	}
	if done == 0 {
		return xhtml
	}
	b.WriteString(xhtml[done:])
	return b.String()
}

// markupEnd returns the end of the comment, CDATA section, declaration or processing instruction at xhtml[i]
// (which is '<') and true; or false for a tag.
func markupEnd(xhtml string, i int) (int, bool) {
	rest := xhtml[i:]
	closing := ""
	switch {
	case strings.HasPrefix(rest, "<!--"):
		closing = "-->"
	case strings.HasPrefix(rest, "<![CDATA["):
		closing = "]]>"
	case strings.HasPrefix(rest, "<!"), strings.HasPrefix(rest, "<?"), strings.HasPrefix(rest, "</"):
		closing = ">"
	default:
		return 0, false
	}
	end := strings.Index(rest[2:], closing)
	if end < 0 {
		return len(xhtml), true
	}
	return i + 2 + end + len(closing), true
}

// scanTag reads the start tag whose name begins at xhtml[i] and calls attr with each attribute's name, the bounds
// of its value (without the quotes) and its quote character; it returns the position after the tag.
func scanTag(xhtml string, i int, attr func(name string, start, end int, quote byte)) int {
	i = skipName(xhtml, i) // the element's name
	for i < len(xhtml) {
		i = skipSpace(xhtml, i)
		if i >= len(xhtml) || xhtml[i] == '>' || xhtml[i] == '/' || xhtml[i] == '<' {
			break
		}
		nameStart := i
		i = skipName(xhtml, i)
		if i == nameStart { // not a name: malformed, step over it
			i++
			continue
		}
		name := xhtml[nameStart:i]
		i = skipSpace(xhtml, i)
		if i >= len(xhtml) || xhtml[i] != '=' {
			continue
		}
		i = skipSpace(xhtml, i+1)
		if i >= len(xhtml) || (xhtml[i] != '"' && xhtml[i] != '\'') {
			continue
		}
		quote := xhtml[i]
		end := strings.IndexByte(xhtml[i+1:], quote)
		if end < 0 {
			return len(xhtml)
		}
		attr(name, i+1, i+1+end, quote)
		i += end + 2
	}
	if end := strings.IndexByte(xhtml[min(i, len(xhtml)):], '>'); end >= 0 {
		return i + end + 1
	}
	return len(xhtml)
}

func skipName(s string, i int) int {
	for i < len(s) && !strings.ContainsRune(" \t\r\n=/<>\"'", rune(s[i])) {
		i++
	}
	return i
}

func skipSpace(s string, i int) int {
	for i < len(s) && strings.ContainsRune(" \t\r\n", rune(s[i])) {
		i++
	}
	return i
}

// xmlEntities are the entities XML predefines.
var xmlEntities = map[string]string{"amp": "&", "lt": "<", "gt": ">", "quot": `"`, "apos": "'"}

// xmlUnescape replaces the predefined entities and the character references of an attribute value; anything
// else is left as written.
func xmlUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for {
		amp := strings.IndexByte(s, '&')
		semi := strings.IndexByte(s[max(amp, 0):], ';')
		if amp < 0 || semi < 0 {
			break
		}
		b.WriteString(s[:amp])
		name := s[amp+1 : amp+semi]
		if r, ok := charRef(name); ok {
			b.WriteString(r)
		} else {
			b.WriteString(s[amp : amp+semi+1])
		}
		s = s[amp+semi+1:]
	}
	b.WriteString(s)
	return b.String()
}

// charRef is the text of an entity or character reference name (amp, #38, #x26).
func charRef(name string) (string, bool) {
	if e, ok := xmlEntities[name]; ok {
		return e, true
	}
	num, ok := strings.CutPrefix(name, "#")
	if !ok {
		return "", false
	}
	base := 10
	if hex, ok := strings.CutPrefix(num, "x"); ok {
		num, base = hex, 16
	}
	n, err := strconv.ParseUint(num, base, 32)
	if err != nil || n == 0 || n > 0x10FFFF {
		return "", false
	}
	return string(rune(n)), true
}

// xmlEscape escapes s for an attribute value quoted by quote.
func xmlEscape(s string, quote byte) string {
	q := "&quot;"
	if quote == '\'' {
		q = "&apos;"
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", string(quote), q).Replace(s)
}
