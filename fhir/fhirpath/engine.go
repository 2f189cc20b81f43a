package fhirpath

import (
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/accord-fhir/accord/fhir"
)

// maxCached bounds the compiled expressions an Engine keeps. Accord's expressions come from definitions and the
// rule pack (a few thousand); beyond the bound, expressions are compiled each time rather than kept.
const maxCached = 8192

// Engine compiles and caches expressions; safe for concurrent use. It holds the FHIR R4 type model that types
// the elements of resources.
type Engine struct {
	m     *model
	funcs map[string]*funcDef
	mu    sync.RWMutex
	cache map[string]*Expr
}

// NewEngine returns an Engine for FHIR R4 (4.0.1). It panics if the embedded R4 model is corrupt, which the
// package tests rule out.
func NewEngine() *Engine {
	m, err := newModel()
	if err != nil {
		panic(err)
	}
	return &Engine{m: m, funcs: newFunctions(), cache: make(map[string]*Expr, 256)}
}

// Compile parses src once and returns the compiled expression, from the cache when src was compiled before.
// It returns a *SyntaxError for an expression that does not parse, names an unknown function or passes a
// function the wrong number of arguments, or holds an invalid regular expression literal.
func (e *Engine) Compile(src string) (*Expr, error) {
	e.mu.RLock()
	x, ok := e.cache[src]
	e.mu.RUnlock()
	if ok {
		return x, nil
	}
	root, err := parse(src, e.funcs)
	if err != nil {
		return nil, err
	}
	x = &Expr{src: src, root: root, e: e}
	e.mu.Lock()
	if len(e.cache) < maxCached {
		e.cache[src] = x
	}
	e.mu.Unlock()
	return x, nil
}

// Expr is a compiled FHIRPath expression; safe for concurrent use.
type Expr struct {
	src  string
	root expr
	e    *Engine
}

// String returns the expression's source.
func (x *Expr) String() string { return x.src }

// Option adjusts one evaluation.
type Option func(*options)

type options struct {
	context *Value
	root    fhir.Object
	vars    map[string][]Value
	now     time.Time
}

// WithContext evaluates the expression on node rather than on the resource: node is $this and %context, while
// the resource stays %resource (and %rootResource). Validators use it for invariants on elements, with a node
// from an earlier evaluation or made by ElementValue or PrimitiveValue.
func WithContext(node Value) Option {
	return func(o *options) { o.context = &node }
}

// WithRootResource sets %rootResource, the resource that contains the evaluated one (a contained resource's
// container, or a Bundle): "#id" references and Bundle fullUrls resolve in it. It defaults to the resource.
func WithRootResource(root fhir.Object) Option {
	return func(o *options) { o.root = root }
}

// WithVariable sets the environment variable %name to values: %trigger, %due … for the obligations engine.
func WithVariable(name string, values ...Value) Option {
	return func(o *options) {
		if o.vars == nil {
			o.vars = make(map[string][]Value, 2)
		}
		o.vars[name] = values
	}
}

// WithNow sets the instant now(), today() and timeOfDay() return (in t's location), for deterministic due dates
// and tests. It defaults to the time of the call.
func WithNow(t time.Time) Option {
	return func(o *options) { o.now = t }
}

// Evaluate evaluates x on resource (which may be nil for expressions that use only variables) and returns the
// result items in order. It never panics: a panic inside the engine is returned as an error. It returns an error
// for a failed evaluation (a function given several items where FHIRPath wants one, a type mismatch, an undefined
// variable); the error names the expression but never resource content.
func (x *Expr) Evaluate(resource fhir.Object, opts ...Option) (out []Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("fhirpath: evaluate %q: internal error: %v", x.src, p)
		}
	}()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	c := x.newContext(resource, &o)
	out, err = x.root.eval(c, c.context)
	if err != nil {
		return nil, fmt.Errorf("evaluate %q: %w", x.src, err)
	}
	return withValues(out), nil
}

// EvaluateBool evaluates an invariant. It returns true when the result is true or empty (an invariant whose
// result is empty does not apply: ref-1 on a Reference that has only a display), or a single non-Boolean item
// (FHIRPath's singleton evaluation); false when the result is false; and an error when the result has several
// items or the evaluation fails.
func (x *Expr) EvaluateBool(resource fhir.Object, opts ...Option) (bool, error) {
	out, err := x.Evaluate(resource, opts...)
	if err != nil {
		return false, err
	}
	b, known, err := truth(out)
	if err != nil {
		return false, fmt.Errorf("evaluate %q: %w", x.src, err)
	}
	return b || !known, nil
}

func (x *Expr) newContext(resource fhir.Object, o *options) *evalCtx {
	c := &evalCtx{m: x.e.m, vars: o.vars, now: o.now}
	if resource != nil {
		c.resource = []Value{ElementValue(resource, "")}
	}
	c.root = c.resource
	if o.root != nil {
		c.root = []Value{ElementValue(o.root, "")}
	}
	c.context = c.resource
	if o.context != nil {
		c.context = []Value{*o.context}
	}
	c.this = c.context
	return c
}

// literalRegex compiles the pattern of matches() and replaceMatches() when it is a string literal.
func literalRegex(x *call) (*regexp.Regexp, error) {
	if (x.name != "matches" && x.name != "replaceMatches") || len(x.args) == 0 {
		return nil, nil
	}
	lit, ok := x.args[0].(literal)
	if !ok || len(lit.v) != 1 || lit.v[0].kind != KindString {
		return nil, nil
	}
	re, err := regexp.Compile("(?s)" + lit.v[0].str)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %w", err)
	}
	return re, nil
}
