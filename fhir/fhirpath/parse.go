package fhirpath

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/antlr4-go/antlr/v4"
	"github.com/gofhir/fhirpath/parser/grammar"
)

// SyntaxError is a FHIRPath expression that does not parse: Line and Column (from 1 and 0) locate the first
// problem.
type SyntaxError struct {
	Expr   string
	Line   int
	Column int
	Msg    string
}

// Error describes the problem and where it is.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("fhirpath: syntax error at %d:%d in %q: %s", e.Line, e.Column, e.Expr, e.Msg)
}

type errorListener struct {
	*antlr.DefaultErrorListener
	expr  string
	first *SyntaxError
}

func (l *errorListener) SyntaxError(_ antlr.Recognizer, _ any, line, column int, msg string, _ antlr.RecognitionException) {
	if l.first == nil {
		l.first = &SyntaxError{Expr: l.expr, Line: line, Column: column, Msg: msg}
	}
}

// parse turns FHIRPath source into the evaluator's tree, with gofhir's ANTLR parser of the FHIRPath grammar.
func parse(src string, funcs map[string]*funcDef) (expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &SyntaxError{Expr: src, Line: 1, Msg: "empty expression"}
	}
	listener := &errorListener{DefaultErrorListener: antlr.NewDefaultErrorListener(), expr: src}
	lexer := grammar.NewfhirpathLexer(antlr.NewInputStream(src))
	lexer.RemoveErrorListeners()
	lexer.AddErrorListener(listener)
	p := grammar.NewfhirpathParser(antlr.NewCommonTokenStream(lexer, antlr.TokenDefaultChannel))
	p.RemoveErrorListeners()
	p.AddErrorListener(listener)
	tree := p.EntireExpression()
	if listener.first != nil {
		return nil, listener.first
	}
	b := builder{src: src, funcs: funcs}
	e := b.expression(tree.Expression())
	if b.err != nil {
		return nil, b.err
	}
	return e, nil
}

// builder converts the parse tree; the first error sticks.
type builder struct {
	src   string
	funcs map[string]*funcDef
	err   error
}

func (b *builder) fail(ctx antlr.ParserRuleContext, format string, args ...any) expr {
	if b.err == nil {
		tok := ctx.GetStart()
		b.err = &SyntaxError{Expr: b.src, Line: tok.GetLine(), Column: tok.GetColumn(), Msg: fmt.Sprintf(format, args...)}
	}
	return literal{}
}

func operator(ctx antlr.ParserRuleContext) string {
	if t, ok := ctx.GetChild(1).(antlr.TerminalNode); ok {
		return t.GetText()
	}
	return ""
}

func (b *builder) expression(ctx grammar.IExpressionContext) expr {
	switch c := ctx.(type) {
	case *grammar.TermExpressionContext:
		return b.term(c.Term())
	case *grammar.InvocationExpressionContext:
		return chain{left: b.expression(c.Expression()), right: b.invocation(c.Invocation())}
	case *grammar.IndexerExpressionContext:
		return indexer{left: b.expression(c.Expression(0)), index: b.expression(c.Expression(1))}
	case *grammar.PolarityExpressionContext:
		x := b.expression(c.Expression())
		if c.GetChild(0).(antlr.TerminalNode).GetText() == "-" {
			return negate{x: x}
		}
		return x
	case *grammar.TypeExpressionContext:
		t := parseTypeSpec(c.TypeSpecifier().GetText())
		return typeOp{as: operator(c) == "as", x: b.expression(c.Expression()), t: t}
	case *grammar.MultiplicativeExpressionContext:
		return b.binary(c, c.Expression(0), c.Expression(1))
	case *grammar.AdditiveExpressionContext:
		return b.binary(c, c.Expression(0), c.Expression(1))
	case *grammar.UnionExpressionContext:
		return b.binary(c, c.Expression(0), c.Expression(1))
	case *grammar.InequalityExpressionContext:
		return b.binary(c, c.Expression(0), c.Expression(1))
	case *grammar.EqualityExpressionContext:
		return b.binary(c, c.Expression(0), c.Expression(1))
	case *grammar.MembershipExpressionContext:
		return b.binary(c, c.Expression(0), c.Expression(1))
	case *grammar.AndExpressionContext:
		return b.binary(c, c.Expression(0), c.Expression(1))
	case *grammar.OrExpressionContext:
		return b.binary(c, c.Expression(0), c.Expression(1))
	case *grammar.ImpliesExpressionContext:
		return b.binary(c, c.Expression(0), c.Expression(1))
	case antlr.ParserRuleContext:
		return b.fail(c, "unsupported expression %q", c.GetText())
	}
	if b.err == nil {
		b.err = &SyntaxError{Expr: b.src, Line: 1, Msg: "incomplete expression"}
	}
	return literal{}
}

func (b *builder) binary(ctx antlr.ParserRuleContext, l, r grammar.IExpressionContext) expr {
	op, ok := binaryOp(operator(ctx))
	if !ok {
		return b.fail(ctx, "unknown operator %q", operator(ctx))
	}
	return binary{op: op, l: b.expression(l), r: b.expression(r)}
}

func (b *builder) term(ctx grammar.ITermContext) expr {
	switch c := ctx.(type) {
	case *grammar.InvocationTermContext:
		return b.invocation(c.Invocation())
	case *grammar.LiteralTermContext:
		return b.literal(c.Literal())
	case *grammar.ExternalConstantTermContext:
		ec := c.ExternalConstant().(*grammar.ExternalConstantContext)
		if ec.STRING() != nil {
			return variable{name: unquote(ec.STRING().GetText())}
		}
		return variable{name: identifier(ec.Identifier())}
	case *grammar.ParenthesizedTermContext:
		return b.expression(c.Expression())
	case antlr.ParserRuleContext:
		return b.fail(c, "unsupported term %q", c.GetText())
	}
	return literal{}
}

func (b *builder) invocation(ctx grammar.IInvocationContext) expr {
	switch c := ctx.(type) {
	case *grammar.MemberInvocationContext:
		return member{name: identifier(c.Identifier())}
	case *grammar.FunctionInvocationContext:
		return b.function(c.Function().(*grammar.FunctionContext))
	case *grammar.ThisInvocationContext:
		return thisRef{}
	case *grammar.IndexInvocationContext:
		return indexRef{}
	case *grammar.TotalInvocationContext:
		return totalRef{}
	case antlr.ParserRuleContext:
		return b.fail(c, "unsupported invocation %q", c.GetText())
	}
	return literal{}
}

func (b *builder) function(c *grammar.FunctionContext) expr {
	name := identifier(c.Identifier())
	def, ok := b.funcs[name]
	if !ok {
		return b.fail(c, "unknown function %s()", name)
	}
	var params []grammar.IExpressionContext
	if pl := c.ParamList(); pl != nil {
		params = pl.AllExpression()
	}
	if len(params) < def.min || len(params) > def.max {
		return b.fail(c, "%s() takes %s, not %d", name, arity(def), len(params))
	}
	x := &call{name: name, def: def}
	for i, p := range params {
		if i == 0 && def.typeArg {
			x.typ = parseTypeSpec(p.GetText())
			continue
		}
		x.args = append(x.args, b.expression(p))
	}
	re, err := literalRegex(x)
	if err != nil {
		return b.fail(c, "%s() pattern: %v", name, err)
	}
	x.re = re
	return x
}

func arity(d *funcDef) string {
	switch {
	case d.min == d.max && d.min == 1:
		return "1 argument"
	case d.min == d.max:
		return strconv.Itoa(d.min) + " arguments"
	}
	return fmt.Sprintf("%d to %d arguments", d.min, d.max)
}

func (b *builder) literal(ctx grammar.ILiteralContext) expr {
	switch c := ctx.(type) {
	case *grammar.NullLiteralContext:
		return literal{}
	case *grammar.BooleanLiteralContext:
		return literal{v: []Value{BooleanValue(c.GetText() == "true")}}
	case *grammar.StringLiteralContext:
		return literal{v: []Value{StringValue(unquote(c.STRING().GetText()))}}
	case *grammar.NumberLiteralContext:
		text := c.NUMBER().GetText()
		if !strings.ContainsAny(text, ".eE") {
			if i, err := strconv.ParseInt(text, 10, 64); err == nil {
				return literal{v: []Value{IntegerValue(i)}}
			}
		}
		return literal{v: []Value{{kind: KindDecimal, str: text}}}
	case *grammar.DateLiteralContext:
		return b.temporal(c, KindDate, c.DATE().GetText())
	case *grammar.DateTimeLiteralContext:
		return b.temporal(c, KindDateTime, c.DATETIME().GetText())
	case *grammar.TimeLiteralContext:
		return b.temporal(c, KindTime, strings.TrimPrefix(c.TIME().GetText(), "@T"))
	case *grammar.QuantityLiteralContext:
		q := c.Quantity().(*grammar.QuantityContext)
		unit := ""
		if u := q.Unit(); u != nil {
			unit = u.GetText()
			if strings.HasPrefix(unit, "'") {
				unit = unquote(unit)
			}
		}
		return literal{v: []Value{{kind: KindQuantity, str: q.NUMBER().GetText(), unit: unit}}}
	case antlr.ParserRuleContext:
		return b.fail(c, "unsupported literal %q", c.GetText())
	}
	return literal{}
}

func (b *builder) temporal(ctx antlr.ParserRuleContext, k Kind, text string) expr {
	text = strings.TrimPrefix(text, "@")
	if _, err := parseTemporal(k, text); err != nil {
		return b.fail(ctx, "invalid %s literal @%s", k, text)
	}
	if k == KindDateTime && strings.HasSuffix(text, "T") {
		text = strings.TrimSuffix(text, "T")
	}
	return literal{v: []Value{{kind: k, str: text}}}
}

// identifier returns an identifier's name, without the backquotes of a delimited identifier.
func identifier(ctx grammar.IIdentifierContext) string {
	s := ctx.GetText()
	if len(s) >= 2 && s[0] == '`' {
		return unescape(s[1 : len(s)-1])
	}
	return s
}

// unquote returns the content of a quoted string literal, with its escapes resolved.
func unquote(s string) string {
	if len(s) >= 2 {
		s = s[1 : len(s)-1]
	}
	return unescape(s)
}

func unescape(s string) string {
	if !strings.ContainsRune(s, '\\') {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		default: // \' \" \` \\ \/
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// typeSpec is a type name in is, as and ofType: an optional namespace (FHIR or System) and a name.
type typeSpec struct {
	ns   string
	name string
}

func parseTypeSpec(s string) typeSpec {
	s = strings.ReplaceAll(s, "`", "")
	if ns, name, ok := strings.Cut(s, "."); ok && (ns == "FHIR" || ns == "System") {
		return typeSpec{ns: ns, name: name}
	}
	return typeSpec{name: s}
}

func (t typeSpec) String() string {
	if t.ns != "" {
		return t.ns + "." + t.name
	}
	return t.name
}
