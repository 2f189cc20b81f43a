package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// MaxDepth is the default limit on the nesting of JSON objects and arrays in a resource.
const MaxDepth = 64

// Object is a FHIR resource or element as decoded JSON: numbers stay json.Number so that decimal precision survives.
type Object = map[string]any

// Strings returns values as a JSON array, in the form an Object holds arrays ([]any).
func Strings(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// DecodeObject parses data as one JSON object nested at most maxDepth levels.
// It returns an *Error of code structure (HTTP 400) for invalid JSON, a non-object, trailing data or excess depth.
func DecodeObject(data []byte, maxDepth int) (Object, error) {
	if err := checkDepth(data, maxDepth); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, Errorf(IssueStructure, "", "invalid JSON: %s", jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Errorf(IssueStructure, "", "invalid JSON: unexpected data after the top-level value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, Errorf(IssueStructure, "", "the body must be a JSON object, not %s", jsonKind(v))
	}
	return obj, nil
}

// checkDepth scans data, without building it, for nesting deeper than limit and for an object that has the same
// key twice (which JSON decoders silently resolve by keeping the last: FHIR JSON forbids it).
func checkDepth(data []byte, limit int) error {
	depth, inString, escaped := 0, false, false
	var keys []map[string]struct{} // the keys of each open object; nil for an array
	start := 0
	for i, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if len(keys) > 0 && keys[len(keys)-1] != nil && isKey(data[i+1:]) {
					k := string(data[start:i])
					if _, dup := keys[len(keys)-1][k]; dup {
						return Errorf(IssueStructure, "", "invalid JSON: an object has the key %q twice", truncateKey(k))
					}
					keys[len(keys)-1][k] = struct{}{}
				}
			}
		case c == '"':
			inString, start = true, i+1
		case c == '{' || c == '[':
			depth++
			if depth > limit {
				return Errorf(IssueTooCostly, "", "JSON nesting is deeper than the limit of %d levels", limit)
			}
			if c == '{' {
				keys = append(keys, map[string]struct{}{})
			} else {
				keys = append(keys, nil)
			}
		case c == '}' || c == ']':
			depth--
			if len(keys) > 0 {
				keys = keys[:len(keys)-1]
			}
		}
	}
	return nil
}

// isKey reports whether the string that ended just before rest is an object key: a ':' follows it.
func isKey(rest []byte) bool {
	for _, c := range rest {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case ':':
			return true
		}
		return false
	}
	return false
}

func truncateKey(k string) string {
	if len(k) > 64 {
		return k[:64] + "…"
	}
	return k
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if ok := asSyntax(err, &se); ok {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if err == io.EOF {
		return "empty body"
	}
	return err.Error()
}

func asSyntax(err error, target **json.SyntaxError) bool {
	se, ok := err.(*json.SyntaxError)
	if ok {
		*target = se
	}
	return ok
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a value"
}

// Marshal encodes a resource or any JSON value without HTML escaping; in an object with a resourceType, the
// resourceType, id and meta come first (R4 convention), and the remaining keys follow in sorted order.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := encode(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var leading = []string{"resourceType", "id", "meta"}

func encode(buf *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			if !slices.Contains(leading, k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		if _, ok := t["resourceType"]; ok {
			front := make([]string, 0, 3)
			for _, k := range leading {
				if _, ok := t[k]; ok {
					front = append(front, k)
				}
			}
			keys = append(front, keys...)
		} else {
			for _, k := range leading {
				if _, ok := t[k]; ok {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
		}
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k)
			buf.WriteByte(':')
			if err := encode(buf, t[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encode(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case string:
		writeString(buf, t)
	case json.Number:
		buf.WriteString(string(t))
	case json.RawMessage:
		buf.Write(t)
	case nil:
		buf.WriteString("null")
	case bool:
		if t {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("marshal %T: %w", v, err)
		}
		buf.Write(b)
	}
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if !needsEscape(s) {
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
		return
	}
	_ = enc.Encode(s) // strings always encode
	buf.Truncate(buf.Len() - 1)
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return true
		}
	}
	return strings.Contains(s, "\u2028")
}

// NumberText returns the text of a JSON number: that of a json.Number (as Accord decodes them), or the shortest
// form of a Go number (for objects built in Go rather than decoded).
func NumberText(v any) (string, bool) {
	switch n := v.(type) {
	case json.Number:
		return string(n), true
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64), true
	case int:
		return strconv.Itoa(n), true
	case int64:
		return strconv.FormatInt(n, 10), true
	}
	return "", false
}
