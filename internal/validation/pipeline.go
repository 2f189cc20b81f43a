// Package validation runs the validation pipeline of every write and of $validate: the R4 JSON schema, the
// base R4 definitions, then the Accord profiles (design.md, "Validation pipeline"). Each step is a value of
// the fhir packages, passed in by cmd.
package validation

import (
	"context"

	"github.com/accord-fhir/accord/fhir"
)

// Step is one validation step; it reports every issue it finds.
type Step interface {
	Validate(obj fhir.Object) []fhir.Issue
}

// StepFunc adapts a function to Step.
type StepFunc func(obj fhir.Object) []fhir.Issue

// Validate calls f.
func (f StepFunc) Validate(obj fhir.Object) []fhir.Issue { return f(obj) }

// Pipeline runs its structural step, and when that finds no error, the remaining steps, collecting all issues.
type Pipeline struct {
	structure Step
	steps     []Step
}

// New returns a pipeline: structure runs first (nil for none); later steps run only on structurally valid
// resources, since their findings on broken JSON would be noise.
func New(structure Step, steps ...Step) *Pipeline {
	return &Pipeline{structure: structure, steps: steps}
}

// Validate runs the pipeline on obj.
func (p *Pipeline) Validate(ctx context.Context, obj fhir.Object) []fhir.Issue {
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
	return issues
}
