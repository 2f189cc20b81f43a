package search

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// ParseOptions adjust Parse.
type ParseOptions struct {
	// Strict makes an unknown parameter an error (Prefer: handling=strict) instead of a warning.
	Strict bool
	// BaseURL is the service's base URL, if known: a reference value to one of its resources matches it written
	// relative (Type/id) or absolute ([base]/Type/id), and :Type takes either form.
	BaseURL string
}

// resultParams are the parameters that shape results rather than select them.
var resultParams = []string{"_sort", "_count", "_include", "_revinclude", "_summary", "_elements", "_total", "_cursor",
	"_format", "_pretty", "_type", "_contained", "_containedType"}

// Parse parses a search request on typ. It returns an *fhir.Error of code invalid (HTTP 400), whose expression
// names the parameter, for a malformed value, an unknown modifier or prefix, a chain on a parameter that is not
// a reference, a bad _count, _sort, _include or _revinclude; of code not-supported for a parameter Accord does
// not implement (_text, _content …, _contained=true or both, _containedType=contained); and for an unknown
// parameter when opts.Strict. Otherwise an unknown parameter is ignored and reported in Query.Issues.
func (r *Registry) Parse(typ string, params url.Values, opts ParseOptions) (*Query, error) {
	q := &Query{Type: typ, Count: -1, Params: map[string][]string{}}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	slices.Sort(names)
	p := parser{r: r, opts: opts}
	for _, name := range names {
		values := params[name]
		if strings.ContainsRune(name, 0) || slices.ContainsFunc(values, func(v string) bool { return strings.ContainsRune(v, 0) }) {
			return nil, invalid(truncate(strings.ReplaceAll(name, "\x00", ""), 60), "a search parameter or value holds a NUL character")
		}
		if base, _, _ := strings.Cut(name, ":"); slices.Contains(resultParams, base) {
			if err := p.result(q, name, values); err != nil {
				return nil, err
			}
			continue
		}
		known, unknown := false, false
		for _, raw := range values {
			if raw == "" {
				continue // R4: empty parameters are ignored
			}
			c, err := p.criterion(typ, name, raw, 0)
			if err != nil {
				return nil, err
			}
			if c == nil {
				unknown = true
				break
			}
			known = true
			q.Criteria = append(q.Criteria, *c)
		}
		switch {
		case unknown && opts.Strict:
			return nil, fhir.Errorf(fhir.IssueNotSupported, name, "unknown search parameter %s for %s", truncate(name, 60), typ)
		case unknown:
			q.Issues = append(q.Issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: fhir.IssueNotSupported,
				Details: "unknown search parameter " + truncate(name, 60) + " for " + typ + ": ignored", Expression: []string{name}})
		case known:
			q.Params[name] = values
		}
	}
	return q, nil
}

// parser parses the parameters of one request.
type parser struct {
	r    *Registry
	opts ParseOptions
}

// maxChain bounds the depth of chains and reverse chains.
const maxChain = 4

func invalid(name, format string, args ...any) error {
	return fhir.Errorf(fhir.IssueInvalid, name, format, args...)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// criterion parses one parameter (name, one raw value) on typ; nil when the parameter is unknown.
func (p *parser) criterion(typ, name, raw string, depth int) (*Criterion, error) {
	if depth > maxChain {
		return nil, invalid(name, "chains and reverse chains may be at most %d levels deep", maxChain)
	}
	if rest, ok := strings.CutPrefix(name, "_has:"); ok {
		return p.has(typ, name, rest, raw, depth)
	}
	head, chain, chained := strings.Cut(name, ".")
	code, modifier, _ := strings.Cut(head, ":")
	if Unsupported(code) {
		return nil, fhir.Errorf(fhir.IssueNotSupported, name, "the search parameter %s is not supported", truncate(code, 40))
	}
	param, ok := p.r.Param(typ, code)
	if !ok {
		return nil, nil
	}
	c := &Criterion{Name: name, Type: typ, Param: param}
	if chained {
		return p.chain(c, modifier, chain, raw, depth)
	}
	if err := p.modifier(c, modifier); err != nil {
		return nil, err
	}
	vals, err := p.values(c, raw)
	if err != nil {
		return nil, err
	}
	c.Values = vals
	return c, nil
}

// chain parses a chained parameter: ref[:Type].rest.
func (p *parser) chain(c *Criterion, modifier, rest, raw string, depth int) (*Criterion, error) {
	if c.Param.Type != TypeReference {
		return nil, invalid(c.Name, "%s is a %s parameter, not a reference: it cannot be chained", c.Param.Code, c.Param.Type)
	}
	types := c.Param.Targets
	if modifier != "" {
		if !fhir.IsResourceType(modifier) || (len(types) > 0 && !slices.Contains(types, modifier)) {
			return nil, invalid(c.Name, "%s cannot refer to a resource of type %s", c.Param.Code, truncate(modifier, 40))
		}
		types = []string{modifier}
		c.Modifier, c.Target = "type", modifier
	}
	if len(types) == 0 {
		return nil, invalid(c.Name, "%s may refer to any type: name the type to chain on, as %s:Type.%s", c.Param.Code, c.Param.Code, truncate(rest, 40))
	}
	for _, t := range types {
		inner, err := p.criterion(t, rest, raw, depth+1)
		if err != nil {
			return nil, err
		}
		if inner != nil {
			inner.Name = c.Name
			c.Chain = append(c.Chain, *inner)
		}
	}
	if len(c.Chain) == 0 {
		return nil, nil
	}
	return c, nil
}

// has parses a reverse chain: _has:Type:ref:rest.
func (p *parser) has(typ, name, spec, raw string, depth int) (*Criterion, error) {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) < 3 {
		return nil, invalid(name, "_has needs the form _has:Type:reference:parameter")
	}
	src, refCode, rest := parts[0], parts[1], parts[2]
	if !fhir.IsResourceType(src) {
		return nil, invalid(name, "%s in _has is not a resource type", truncate(src, 40))
	}
	ref, ok := p.r.Param(src, refCode)
	if !ok || ref.Type != TypeReference {
		return nil, invalid(name, "%s is not a reference parameter of %s", truncate(refCode, 40), src)
	}
	if len(ref.Targets) > 0 && !slices.Contains(ref.Targets, typ) {
		return nil, invalid(name, "%s.%s cannot refer to a %s", src, refCode, typ)
	}
	inner, err := p.criterion(src, rest, raw, depth+1)
	if err != nil || inner == nil {
		return nil, err
	}
	inner.Name = name
	return &Criterion{Name: name, Type: typ, Has: &Has{Type: src, Ref: ref, Criterion: *inner}}, nil
}

// modifiers lists the modifiers each parameter type accepts (besides missing, which all accept). On tokens, in,
// not-in, below and above need terminology, which the searcher resolves.
var modifiers = map[Type][]string{
	TypeString:    {"exact", "contains"},
	TypeToken:     {"not", "text", "of-type", "in", "not-in", "below", "above"},
	TypeReference: {"identifier"},
	TypeURI:       {"below", "above"},
}

// unsupportedModifiers are R4 modifiers that Accord implements on some types only (tokens and uris), refused as
// not supported on the others.
var unsupportedModifiers = []string{"in", "not-in", "below", "above"}

func (p *parser) modifier(c *Criterion, m string) error {
	switch {
	case m == "" || m == "missing" || slices.Contains(modifiers[c.Param.Type], m):
		c.Modifier = m
	case c.Param.Type == TypeReference && fhir.IsResourceType(m):
		if len(c.Param.Targets) > 0 && !slices.Contains(c.Param.Targets, m) {
			return invalid(c.Name, "%s cannot refer to a resource of type %s", c.Param.Code, m)
		}
		c.Modifier, c.Target = "type", m
	case slices.Contains(unsupportedModifiers, m):
		return fhir.Errorf(fhir.IssueNotSupported, c.Name, "the modifier :%s is not supported on %s", m, c.Param.Code)
	default:
		return invalid(c.Name, "unknown modifier :%s for the %s parameter %s", truncate(m, 40), c.Param.Type, c.Param.Code)
	}
	return nil
}

// values parses the comma-separated alternatives of a criterion.
func (p *parser) values(c *Criterion, raw string) ([]Value, error) {
	var out []Value
	for _, alt := range Alternatives(raw) {
		if alt == "" {
			continue
		}
		v, err := p.value(c, c.Param, c.Modifier, alt)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, invalid(c.Name, "the parameter %s has no value", c.Name)
	}
	if c.Modifier == "missing" && len(out) > 1 {
		return nil, invalid(c.Name, ":missing takes one value, true or false")
	}
	return out, nil
}

// value parses one alternative (still escaped) of a parameter.
func (p *parser) value(c *Criterion, param *Param, modifier, alt string) (Value, error) {
	if modifier == "missing" {
		switch alt {
		case "true", "false":
			return Value{Raw: alt, Missing: alt == "true"}, nil
		}
		return Value{}, invalid(c.Name, ":missing takes true or false, not %q", truncate(alt, 40))
	}
	switch param.Type {
	case TypeToken:
		return parseToken(c.Name, modifier, alt)
	case TypeString:
		return Value{Raw: unescape(alt), Text: unescape(alt)}, nil
	case TypeURI:
		return Value{Raw: unescape(alt), Text: unescape(alt)}, nil
	case TypeReference:
		return p.parseReference(c.Name, param, modifier, c.Target, alt)
	case TypeDate:
		return parseDate(c.Name, alt)
	case TypeNumber:
		return parseNumber(c.Name, alt)
	case TypeQuantity:
		return parseQuantity(c.Name, alt)
	case TypeComposite:
		return p.parseComposite(c, param, alt)
	}
	return Value{}, fhir.Errorf(fhir.IssueNotSupported, c.Name, "parameters of type %s are not supported", param.Type)
}

// parseComposite parses "a$b": one part per component.
func (p *parser) parseComposite(c *Criterion, param *Param, alt string) (Value, error) {
	parts := splitEscaped(alt, '$')
	if len(parts) != len(param.Components) {
		return Value{}, invalid(c.Name, "%s takes %d values separated by $", param.Code, len(param.Components))
	}
	v := Value{Raw: unescape(alt)}
	for i, part := range parts {
		pv, err := p.value(c, param.Components[i].Param, "", part)
		if err != nil {
			return Value{}, err
		}
		v.Parts = append(v.Parts, pv)
	}
	return v, nil
}

// result parses a result parameter.
func (p *parser) result(q *Query, name string, values []string) error {
	base, modifier, _ := strings.Cut(name, ":")
	first := ""
	if len(values) > 0 {
		first = values[0]
	}
	if modifier != "" && base != "_include" && base != "_revinclude" {
		return invalid(name, "%s takes no modifier", base)
	}
	switch base {
	case "_count":
		n, err := strconv.Atoi(first)
		if err != nil || n < 0 {
			return invalid(name, "_count must be a whole number of 0 or more")
		}
		q.Count = n
	case "_cursor":
		q.Cursor = first
		return nil
	case "_total":
		if !slices.Contains([]string{"none", "estimate", "accurate"}, first) {
			return invalid(name, "_total must be none, estimate or accurate")
		}
		q.Total = first
	case "_summary":
		if !slices.Contains([]string{"true", "false", "text", "data", "count"}, first) {
			return invalid(name, "_summary must be true, false, text, data or count")
		}
		q.Summary = first
	case "_elements":
		for _, v := range values {
			for _, e := range strings.Split(v, ",") {
				if e = strings.TrimSpace(e); e != "" {
					q.Elements = append(q.Elements, e)
				}
			}
		}
	case "_sort":
		if err := p.sort(q, name, values); err != nil {
			return err
		}
	case "_include", "_revinclude":
		if err := p.include(q, base, modifier, name, values); err != nil {
			return err
		}
	case "_contained", "_containedType":
		for _, v := range values {
			if err := contained(name, base, v); err != nil {
				return err
			}
		}
		return nil
	case "_format", "_pretty", "_type":
		return nil
	}
	q.Params[name] = values
	return nil
}

// contained checks _contained and _containedType: Accord searches containers only, so it takes their defaults
// (false, container) and refuses the searches of contained resources as not supported.
// See https://hl7.org/fhir/R4/search.html#contained.
func contained(name, base, value string) error {
	def, other := "false", []string{"true", "both"}
	if base == "_containedType" {
		def, other = "container", []string{"contained"}
	}
	switch {
	case value == def || value == "":
		return nil
	case slices.Contains(other, value):
		return fhir.Errorf(fhir.IssueNotSupported, name, "%s=%s is not supported: Accord does not search contained resources", base, value)
	}
	return invalid(name, "%s must be %s or %s", base, def, strings.Join(other, " or "))
}

// sort parses _sort: comma-separated parameter codes, each with - for descending.
func (p *parser) sort(q *Query, name string, values []string) error {
	for _, v := range values {
		for _, key := range strings.Split(v, ",") {
			key = strings.TrimSpace(key)
			desc := strings.HasPrefix(key, "-")
			code := strings.TrimPrefix(key, "-")
			param, ok := p.r.Param(q.Type, code)
			if !ok {
				return invalid(name, "cannot sort on %q: not a search parameter of %s", truncate(code, 40), q.Type)
			}
			if param.Type == TypeComposite {
				return invalid(name, "cannot sort on the composite parameter %s", code)
			}
			q.Sort = append(q.Sort, SortKey{Param: param, Descending: desc})
		}
	}
	return nil
}

// include parses _include and _revinclude: Type:param[:target], or *.
func (p *parser) include(q *Query, base, modifier, name string, values []string) error {
	if modifier != "" && modifier != "iterate" && modifier != "recurse" {
		return invalid(name, "unknown modifier :%s for %s (only :iterate)", truncate(modifier, 40), base)
	}
	for _, v := range values {
		inc := Include{Iterate: modifier != "", Raw: v}
		if v == "*" {
			inc.Type = q.Type
			if base == "_revinclude" {
				return invalid(name, "%s=* is not supported: name the type and parameter", base)
			}
		} else {
			parts := strings.Split(v, ":")
			if len(parts) < 2 || len(parts) > 3 || !fhir.IsResourceType(parts[0]) {
				return invalid(name, "%s must be Type:parameter or Type:parameter:TargetType, not %q", base, truncate(v, 60))
			}
			inc.Type = parts[0]
			if parts[1] == "*" && base == "_revinclude" {
				return invalid(name, "%s=%s is not supported: name the parameter", base, truncate(v, 60))
			}
			if parts[1] != "*" {
				param, ok := p.r.Param(parts[0], parts[1])
				if !ok || param.Type != TypeReference {
					return invalid(name, "%s is not a reference parameter of %s", truncate(parts[1], 40), parts[0])
				}
				inc.Param = param
			}
			if len(parts) == 3 {
				if !fhir.IsResourceType(parts[2]) || (inc.Param != nil && len(inc.Param.Targets) > 0 && !slices.Contains(inc.Param.Targets, parts[2])) {
					return invalid(name, "%s cannot refer to a %s", v, truncate(parts[2], 40))
				}
				inc.Target = parts[2]
			}
		}
		if base == "_include" && !inc.Iterate && inc.Type != q.Type {
			return invalid(name, "_include=%s names a type other than %s: use _include:iterate", truncate(v, 60), q.Type)
		}
		if base == "_include" {
			q.Includes = append(q.Includes, inc)
		} else {
			q.RevIncludes = append(q.RevIncludes, inc)
		}
	}
	return nil
}

// Alternatives splits a parameter's value into its comma-separated alternatives (OR), at the commas not escaped
// as \,; each alternative keeps its escapes.
func Alternatives(value string) []string { return splitEscaped(value, ',') }

// splitEscaped splits s at the separators not escaped by a backslash; the parts keep their escapes.
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescape removes the backslash escapes of a search value (\, \$ \| \\).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
