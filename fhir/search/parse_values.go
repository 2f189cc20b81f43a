package search

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accord-fhir/accord/fhir"
)

var prefixes = []Prefix{PrefixEq, PrefixNe, PrefixGt, PrefixLt, PrefixGe, PrefixLe, PrefixSa, PrefixEb, PrefixAp}

// splitPrefix separates the prefix of a number, date or quantity value; eq when none is written.
func splitPrefix(name, alt string) (Prefix, string, error) {
	if len(alt) >= 2 && isLetter(alt[0]) && isLetter(alt[1]) {
		p := Prefix(alt[:2])
		if !slices.Contains(prefixes, p) {
			return "", "", invalid(name, "unknown prefix %q in %s (use eq, ne, gt, lt, ge, le, sa, eb or ap)", truncate(alt[:2], 2), name)
		}
		return p, alt[2:], nil
	}
	return PrefixEq, alt, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// parseToken parses [system]|[code], [code], |[code], [system]|; with :of-type, type-system|type-code|value;
// with :below and :above, system|code; with :text any text, with :in and :not-in a value set's URI (Text).
func parseToken(name, modifier, alt string) (Value, error) {
	v := Value{Raw: unescape(alt)}
	switch modifier {
	case "text", "in", "not-in":
		v.Text = v.Raw
		return v, nil
	case "below", "above":
		parts := splitEscaped(alt, '|')
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return v, invalid(name, "%s takes system|code: the code system whose hierarchy to follow, and a code", name)
		}
		v.System, v.Code, v.HasSystem = unescape(parts[0]), unescape(parts[1]), true
		return v, nil
	}
	parts := splitEscaped(alt, '|')
	if modifier == "of-type" {
		if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
			return v, invalid(name, ":of-type takes type-system|type-code|value")
		}
		v.TypeSystem, v.TypeCode, v.Code = unescape(parts[0]), unescape(parts[1]), unescape(parts[2])
		return v, nil
	}
	switch len(parts) {
	case 1:
		v.Code = unescape(parts[0])
	case 2:
		v.System, v.Code, v.HasSystem = unescape(parts[0]), unescape(parts[1]), true
		if v.System == "" && v.Code == "" {
			return v, invalid(name, "a token needs a code or a system: %s=|", name)
		}
	default:
		return v, invalid(name, "a token is code, system|code, |code or system| (escape a | in a code as \\|)")
	}
	return v, nil
}

// parseReference parses a reference value: Type/id, id (any of the parameter's target types), an absolute URL,
// a canonical URL (with |version); with :Type, id or Type/id; with :identifier, a token. When the service's base
// URL is known, a reference to one of its resources is the same whether written relative (Type/id) or absolute
// ([base]/Type/id): the value matches both forms, and :Type takes either.
func (p *parser) parseReference(name string, param *Param, modifier, target, alt string) (Value, error) {
	if modifier == "identifier" {
		return parseToken(name, "", alt)
	}
	raw := unescape(alt)
	v := Value{Raw: raw}
	local, own := p.cutBase(raw)
	switch {
	case target != "":
		id := local
		if typ, rest, ok := strings.Cut(local, "/"); ok {
			if typ != target {
				return v, invalid(name, "%s: the reference %q is not to a %s", name, truncate(raw, 60), target)
			}
			id = rest
		}
		v.Refs = p.withBase(target + "/" + NormalizeReference(id))
	case own:
		v.Refs = []string{NormalizeReference(raw), NormalizeReference(local)}
	case strings.Contains(raw, "://") || strings.HasPrefix(raw, "urn:"):
		v.Refs = []string{NormalizeReference(raw)}
	case strings.Contains(raw, "/"):
		v.Refs = p.withBase(NormalizeReference(raw))
	default:
		if !fhir.ValidID(raw) {
			v.Refs = []string{raw}
			break
		}
		types := param.Targets
		if len(types) == 0 {
			types = fhir.ResourceTypes()
		}
		for _, t := range types {
			v.Refs = append(v.Refs, p.withBase(t+"/"+raw)...)
		}
		v.Refs = append(v.Refs, raw) // a canonical or relative URI written as is
	}
	return v, nil
}

// cutBase returns ref relative to the service's base URL and true when ref is an absolute URL under it (ref and
// false otherwise).
func (p *parser) cutBase(ref string) (string, bool) {
	if base := strings.TrimSuffix(p.opts.BaseURL, "/"); base != "" {
		if rel, ok := strings.CutPrefix(ref, base+"/"); ok && rel != "" {
			return rel, true
		}
	}
	return ref, false
}

// withBase returns the keys a relative reference Type/id is indexed under: itself, and its absolute form when
// the service's base URL is known.
func (p *parser) withBase(ref string) []string {
	base := strings.TrimSuffix(p.opts.BaseURL, "/")
	if typ, _, ok := strings.Cut(ref, "/"); ok && base != "" && fhir.IsResourceType(typ) {
		return []string{ref, base + "/" + ref}
	}
	return []string{ref}
}

// parseDate parses [prefix]date: a date or date-time at any precision (2024, 2024-03, 2024-03-15T10:00Z …).
// Without a time zone it is read as UTC. A + in the time zone that URL decoding turned into a space is restored.
func parseDate(name, alt string) (Value, error) {
	prefix, rest, err := splitPrefix(name, alt)
	if err != nil {
		return Value{}, err
	}
	rest = strings.ReplaceAll(unescape(rest), " ", "+")
	r, ok := instantRange(rest)
	if !ok {
		return Value{}, invalid(name, "%q is not a date or date-time (such as 2024-03-15 or 2024-03-15T10:00:00Z)", truncate(rest, 40))
	}
	return Value{Raw: unescape(alt), Prefix: prefix, Range: r}, nil
}

// parseNumber parses [prefix]number; its implicit range is half a unit of its last significant digit on either
// side (100 is [99.5, 100.5), 100.00 is [99.995, 100.005), 1e2 is [50, 150)).
func parseNumber(name, alt string) (Value, error) {
	prefix, rest, err := splitPrefix(name, alt)
	if err != nil {
		return Value{}, err
	}
	n, half, ok := decimalWithPrecision(rest)
	if !ok {
		return Value{}, invalid(name, "%q is not a number", truncate(rest, 40))
	}
	return Value{Raw: alt, Prefix: prefix, Number: n, Low: n.Sub(half), High: n.Add(half)}, nil
}

// decimalWithPrecision parses a decimal (with an optional exponent) and returns half a unit of its last digit.
func decimalWithPrecision(s string) (decimal.Decimal, decimal.Decimal, bool) {
	mant, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return decimal.Decimal{}, decimal.Decimal{}, false
		}
		mant, exp = s[:i], e
	}
	if !isDecimal(mant) {
		return decimal.Decimal{}, decimal.Decimal{}, false
	}
	n, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, decimal.Decimal{}, false
	}
	places := int64(0)
	if _, frac, ok := strings.Cut(mant, "."); ok {
		places = int64(len(frac))
	}
	half := decimal.New(5, int32(exp-places-1))
	return n, half, true
}

// isDecimal reports whether s is an optional sign, digits and an optional fraction.
func isDecimal(s string) bool {
	s = strings.TrimLeft(s, "+-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	digits := func(d string) bool {
		for i := 0; i < len(d); i++ {
			if d[i] < '0' || d[i] > '9' {
				return false
			}
		}
		return d != ""
	}
	return digits(whole) && (!hasFrac || digits(frac))
}

// parseQuantity parses [prefix]number, [prefix]number|system|code or [prefix]number||code.
func parseQuantity(name, alt string) (Value, error) {
	parts := splitEscaped(alt, '|')
	if len(parts) != 1 && len(parts) != 3 {
		return Value{}, invalid(name, "a quantity is number, number|system|code or number||code")
	}
	v, err := parseNumber(name, parts[0])
	if err != nil {
		return Value{}, err
	}
	v.Raw = unescape(alt)
	if len(parts) == 3 {
		v.UnitSystem, v.UnitCode = unescape(parts[1]), unescape(parts[2])
	}
	return v, nil
}

// ApproximateRange is the range "ap" searches for a date range r at time now: r widened on each side by 10% of
// the gap between now and that side, as R4 recommends.
func ApproximateRange(r Range, now time.Time) Range {
	widen := func(t time.Time) time.Duration {
		d := now.Sub(t)
		if d < 0 {
			d = -d
		}
		return d / 10
	}
	return Range{Start: r.Start.Add(-widen(r.Start)), End: r.End.Add(widen(r.End))}
}
