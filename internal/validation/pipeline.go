// Package validation runs the validation pipeline of every write and of $validate: the R4 JSON schema, the
// base R4 definitions, then the Accord profiles that apply to the resource, with the enforcement level of each
// Consensus clause (design.md, "Validation pipeline"). Each step is a value of the fhir packages, passed in by
// cmd.
package validation

import (
	"context"
	"fmt"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/validate"
)

// Step is one validation step; it reports every issue it finds.
type Step interface {
	Validate(obj fhir.Object) []fhir.Issue
}

// StepFunc adapts a function to Step.
type StepFunc func(obj fhir.Object) []fhir.Issue

// Validate calls f.
func (f StepFunc) Validate(obj fhir.Object) []fhir.Issue { return f(obj) }

// Profiles checks resources against the profiles that apply to them (validate.Validator implements it).
type Profiles interface {
	// ValidateProfiles checks obj against the profiles that apply to it and those in named.
	ValidateProfiles(obj fhir.Object, named ...string) []fhir.Issue
}

// Pipeline runs its structural step, and when that finds no error, the remaining steps and the profiles,
// collecting all issues, then applies the rule levels. It is safe for concurrent use.
type Pipeline struct {
	structure Step
	steps     []Step
	profiles  Profiles
	levels    Levels
	terms     *validate.Terminology
}

// New returns a pipeline: structure runs first (nil for none); later steps run only on structurally valid
// resources, since their findings on broken JSON would be noise.
func New(structure Step, steps ...Step) *Pipeline {
	return &Pipeline{structure: structure, steps: steps}
}

// WithProfiles returns a pipeline like p that also checks resources against profiles, with the given levels.
func (p *Pipeline) WithProfiles(profiles Profiles, levels Levels) *Pipeline {
	q := *p
	q.profiles, q.levels = profiles, levels
	return &q
}

// Terminology returns the value sets and code systems that Load loaded (R4's and the guide's), for the token
// search modifiers; nil for a pipeline built otherwise.
func (p *Pipeline) Terminology() *validate.Terminology { return p.terms }

// Validate runs the pipeline on obj. The entries of a transaction or batch Bundle are checked against the
// profiles too (the base step checks every nested resource); so are the profiles named by WithRequested in ctx.
func (p *Pipeline) Validate(ctx context.Context, obj fhir.Object) []fhir.Issue {
	return p.run(ctx, obj, false)
}

// ValidateAll is Validate, checking the entries of every Bundle against the profiles, whatever its type: the
// offline validation of files, where a collection Bundle is a set of resources to check.
func (p *Pipeline) ValidateAll(ctx context.Context, obj fhir.Object) []fhir.Issue {
	return p.run(ctx, obj, true)
}

func (p *Pipeline) run(ctx context.Context, obj fhir.Object, allEntries bool) []fhir.Issue {
	var issues []fhir.Issue
	if p.structure != nil {
		issues = p.structure.Validate(obj)
		if fhir.HasErrors(issues) {
			return issues
		}
	}
	for _, s := range p.steps {
		if ctx.Err() != nil {
			break
		}
		issues = append(issues, s.Validate(obj)...)
	}
	if p.profiles != nil && ctx.Err() == nil {
		issues = append(issues, p.profiles.ValidateProfiles(obj, requested(ctx)...)...)
		issues = append(issues, p.entries(obj, allEntries)...)
	}
	return p.levels.apply(issues)
}

// entries checks the resources of a Bundle's entries against the profiles that apply to them: those of a
// transaction or batch, or of any Bundle when all.
func (p *Pipeline) entries(obj fhir.Object, all bool) []fhir.Issue {
	if fhir.ResourceType(obj) != "Bundle" {
		return nil
	}
	if typ, _ := obj["type"].(string); !all && typ != "transaction" && typ != "batch" {
		return nil
	}
	list, _ := obj["entry"].([]any)
	var issues []fhir.Issue
	for i, e := range list {
		m, _ := e.(map[string]any)
		res, _ := m["resource"].(map[string]any)
		if res == nil {
			continue
		}
		typ, prefix := fhir.ResourceType(res), fmt.Sprintf("Bundle.entry[%d].resource", i)
		for _, is := range p.profiles.ValidateProfiles(res) {
			is.Expression = underEntry(is.Expression, typ, prefix)
			issues = append(issues, is)
		}
	}
	return issues
}

// underEntry moves expressions rooted at a resource of type typ under prefix.
func underEntry(exprs []string, typ, prefix string) []string {
	out := make([]string, len(exprs))
	for i, x := range exprs {
		rest, found := strings.CutPrefix(x, typ)
		if found && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			out[i] = prefix + rest
		} else {
			out[i] = prefix + "." + x
		}
	}
	return out
}

type requestedKey struct{}

// WithRequested returns a context asking the pipeline to check resources against the profiles with the
// canonical urls as well ($validate's profile parameter).
func WithRequested(ctx context.Context, urls ...string) context.Context {
	return context.WithValue(ctx, requestedKey{}, urls)
}

func requested(ctx context.Context) []string {
	urls, _ := ctx.Value(requestedKey{}).([]string)
	return urls
}
