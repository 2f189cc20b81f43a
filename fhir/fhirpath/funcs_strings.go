package fhirpath

import (
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode/utf8"
)

// --- strings ---------------------------------------------------------------------------------------------------

// inputString returns the one String of in; ok is false when in is empty.
func inputString(name string, in []Value) (string, bool, error) {
	v, err := single(name, in)
	if v == nil || err != nil {
		return "", false, err
	}
	if v.kind != KindString {
		return "", false, errorf("%s() needs a String, not %s", name, v.kind)
	}
	return v.str, true, nil
}

func stringTest(f func(s, arg string) bool) func(*evalCtx, []Value, *call) ([]Value, error) {
	return func(c *evalCtx, in []Value, x *call) ([]Value, error) {
		s, ok, err := inputString(x.name, in)
		if err != nil || !ok {
			return nil, err
		}
		arg, ok, err := c.argString(x, 0, in)
		if err != nil || !ok {
			return nil, err
		}
		return boolColl(f(s, arg)), nil
	}
}

func hasPrefix(s, p string) bool      { return strings.HasPrefix(s, p) }
func hasSuffix(s, p string) bool      { return strings.HasSuffix(s, p) }
func containsString(s, p string) bool { return strings.Contains(s, p) }

func stringMap(f func(string) string) func(*evalCtx, []Value, *call) ([]Value, error) {
	return func(_ *evalCtx, in []Value, x *call) ([]Value, error) {
		s, ok, err := inputString(x.name, in)
		if err != nil || !ok {
			return nil, err
		}
		return []Value{StringValue(f(s))}, nil
	}
}

func upper(s string) string { return strings.ToUpper(s) }
func lower(s string) string { return strings.ToLower(s) }
func trim(s string) string  { return strings.TrimSpace(s) }

func fnIndexOf(c *evalCtx, in []Value, x *call) ([]Value, error) {
	s, ok, err := inputString(x.name, in)
	if err != nil || !ok {
		return nil, err
	}
	sub, ok, err := c.argString(x, 0, in)
	if err != nil || !ok {
		return nil, err
	}
	i := strings.Index(s, sub)
	if i > 0 {
		i = utf8.RuneCountInString(s[:i])
	}
	return []Value{IntegerValue(int64(i))}, nil
}

func fnSubstring(c *evalCtx, in []Value, x *call) ([]Value, error) {
	s, ok, err := inputString(x.name, in)
	if err != nil || !ok {
		return nil, err
	}
	start, ok, err := c.argInt(x, 0, in)
	if err != nil || !ok {
		return nil, err
	}
	runes := []rune(s)
	if start < 0 || start >= int64(len(runes)) {
		return nil, nil
	}
	end := int64(len(runes))
	if len(x.args) == 2 {
		n, ok, err := c.argInt(x, 1, in)
		if err != nil {
			return nil, err
		}
		if ok {
			end = min(end, start+max(n, 0))
		}
	}
	return []Value{StringValue(string(runes[start:end]))}, nil
}

func fnReplace(c *evalCtx, in []Value, x *call) ([]Value, error) {
	s, ok, err := inputString(x.name, in)
	if err != nil || !ok {
		return nil, err
	}
	pattern, ok1, err := c.argString(x, 0, in)
	if err != nil {
		return nil, err
	}
	sub, ok2, err := c.argString(x, 1, in)
	if err != nil || !ok1 || !ok2 {
		return nil, err
	}
	return []Value{StringValue(strings.ReplaceAll(s, pattern, sub))}, nil
}

// regex compiles a FHIRPath regular expression (single-line mode, as fhirpath.js's "su" flags), reusing the
// one compiled with the expression when the argument is a literal.
func (c *evalCtx) regex(x *call, in []Value) (*regexp.Regexp, bool, error) {
	if x.re != nil {
		return x.re, true, nil
	}
	pattern, ok, err := c.argString(x, 0, in)
	if err != nil || !ok {
		return nil, false, err
	}
	re, err := compileRegex(pattern)
	if err != nil {
		return nil, false, err
	}
	return re, true, nil
}

func compileRegex(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile("(?s)" + pattern)
	if err != nil {
		return nil, errorf("invalid regular expression: %v", err)
	}
	return re, nil
}

func fnMatches(c *evalCtx, in []Value, x *call) ([]Value, error) {
	s, ok, err := inputString(x.name, in)
	if err != nil || !ok {
		return nil, err
	}
	re, ok, err := c.regex(x, in)
	if err != nil || !ok {
		return nil, err
	}
	return boolColl(re.MatchString(s)), nil
}

func fnReplaceMatches(c *evalCtx, in []Value, x *call) ([]Value, error) {
	s, ok, err := inputString(x.name, in)
	if err != nil || !ok {
		return nil, err
	}
	re, ok, err := c.regex(x, in)
	if err != nil || !ok {
		return nil, err
	}
	sub, ok, err := c.argString(x, 1, in)
	if err != nil || !ok {
		return nil, err
	}
	return []Value{StringValue(re.ReplaceAllString(s, sub))}, nil
}

func fnLength(_ *evalCtx, in []Value, x *call) ([]Value, error) {
	s, ok, err := inputString(x.name, in)
	if err != nil || !ok {
		return nil, err
	}
	return []Value{IntegerValue(int64(utf8.RuneCountInString(s)))}, nil
}

func fnToChars(_ *evalCtx, in []Value, x *call) ([]Value, error) {
	s, ok, err := inputString(x.name, in)
	if err != nil || !ok {
		return nil, err
	}
	out := make([]Value, 0, len(s))
	for _, r := range s {
		out = append(out, StringValue(string(r)))
	}
	return out, nil
}

func fnSplit(c *evalCtx, in []Value, x *call) ([]Value, error) {
	s, ok, err := inputString(x.name, in)
	if err != nil || !ok {
		return nil, err
	}
	sep, ok, err := c.argString(x, 0, in)
	if err != nil || !ok {
		return nil, err
	}
	parts := strings.Split(s, sep)
	out := make([]Value, len(parts))
	for i, p := range parts {
		out[i] = StringValue(p)
	}
	return out, nil
}

func fnJoin(c *evalCtx, in []Value, x *call) ([]Value, error) {
	sep := ""
	if len(x.args) == 1 {
		s, ok, err := c.argString(x, 0, in)
		if err != nil {
			return nil, err
		}
		if ok {
			sep = s
		}
	}
	parts := make([]string, 0, len(in))
	for _, v := range withValues(in) {
		if v.kind != KindString {
			return nil, errorf("join() needs Strings, not %s", v.kind)
		}
		parts = append(parts, v.str)
	}
	return []Value{StringValue(strings.Join(parts, sep))}, nil
}

func fnEncode(c *evalCtx, in []Value, x *call) ([]Value, error) {
	return codec(c, in, x, true)
}

func fnDecode(c *evalCtx, in []Value, x *call) ([]Value, error) {
	return codec(c, in, x, false)
}

func codec(c *evalCtx, in []Value, x *call, encode bool) ([]Value, error) {
	s, ok, err := inputString(x.name, in)
	if err != nil || !ok {
		return nil, err
	}
	format, ok, err := c.argString(x, 0, in)
	if err != nil || !ok {
		return nil, err
	}
	var out []byte
	switch {
	case format == "base64" && encode:
		return []Value{StringValue(base64.StdEncoding.EncodeToString([]byte(s)))}, nil
	case format == "urlbase64" && encode:
		return []Value{StringValue(base64.URLEncoding.EncodeToString([]byte(s)))}, nil
	case format == "hex" && encode:
		return []Value{StringValue(hex.EncodeToString([]byte(s)))}, nil
	case format == "base64":
		out, err = base64.StdEncoding.DecodeString(s)
	case format == "urlbase64":
		out, err = base64.URLEncoding.DecodeString(s)
	case format == "hex":
		out, err = hex.DecodeString(s)
	default:
		return nil, errorf("%s() does not know the format %q", x.name, format)
	}
	if err != nil {
		return nil, nil
	}
	return []Value{StringValue(string(out))}, nil
}
