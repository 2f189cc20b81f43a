package validate

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"

	"github.com/accord-fhir/accord/fhir"
)

// ErrUnknownProfile is returned by ValidateProfile for a canonical URL that no loaded profile has.
var ErrUnknownProfile = errors.New("unknown profile")

// Accord's extensions on definitions, read by the validator.
const (
	// ClauseExtension (valueCode) on an ElementDefinition or one of its constraints names the Consensus clause
	// its rules enforce; the issues they raise carry it in fhir.Issue.Clause.
	ClauseExtension = fhir.CanonicalBase + "/StructureDefinition/consensus-clause"
	// AppliesWhenExtension (valueExpression, FHIRPath) on a profile says to which resources of its type the
	// profile applies by what they are, whether or not they name it in meta.profile.
	AppliesWhenExtension = fhir.CanonicalBase + "/StructureDefinition/applies-when"
	// LocationExtension (valueString, FHIRPath) on a constraint names the element its failures are about,
	// relative to the constraint's element: "subject.identifier" on Communication, or
	// "extension('https://…/point-of-contact')". A constraint sits on the element that holds all it reads, often
	// the resource root, so that it runs when the element it is about is absent; its issues name the element
	// the extension gives, or without one the constraint's element. The first name of the path must be a child
	// of the constraint's element: New fails otherwise.
	LocationExtension = fhir.CanonicalBase + "/StructureDefinition/constraint-location"
)

// TypeCheck checks, in Go, one item of a datatype (as decoded JSON) wherever it occurs, and returns what is
// wrong with it: rules that belong to no profile, such as the form of the values of a national identifier
// system. It must be safe for concurrent use.
type TypeCheck func(item fhir.Object) []TypeIssue

// TypeIssue is one finding of a TypeCheck, an error. Child is the element of the item it is about ("value"), or
// "" for the item itself. The issue's details are the item's or child's FHIRPath, a colon and Details, which must
// not quote the resource (Diagnostics may).
type TypeIssue struct {
	Child       string
	Code        fhir.IssueType
	Details     string
	Diagnostics string
}

// InvariantEvaluator evaluates FHIRPath constraints (invariants) for the validator. EvaluateInvariant returns
// whether the constraint holds at its context node, and an error when the expression cannot be evaluated (the
// validator then reports a processing warning, not a failure). It must be safe for concurrent use.
// ele-1 and ext-1, defined on every element and every extension, are checked in Go and never passed to it.
type InvariantEvaluator interface {
	EvaluateInvariant(inv Invariant) (bool, error)
}

// Invariant is one constraint to evaluate at one node of a resource.
// See https://hl7.org/fhir/R4/fhirpath.html#variables for %resource and %rootResource.
type Invariant struct {
	Key        string // the constraint key, e.g. "inv-1"; stable, so an evaluator may cache by it and Expression
	Expression string // the FHIRPath expression
	// Context is the node, as decoded JSON: an fhir.Object for a resource, datatype or backbone element, or
	// the value (string, json.Number, bool, nil) of a primitive.
	Context any
	// Type is the FHIR type of Context: a resource type, a datatype ("Period"), a primitive type ("dateTime"),
	// or for a backbone element its definition path ("Task.restriction").
	Type string
	// Extension holds the id and extensions of a primitive Context (its "_name" sibling); nil when none.
	Extension fhir.Object
	// Resource (%resource) is the resource holding the node: a contained or Bundle entry resource for the
	// nodes inside it. RootResource (%rootResource) is the resource that contains Resource when it is
	// contained, and Resource otherwise.
	Resource, RootResource fhir.Object
}

// Options configures New.
type Options struct {
	// Files are the fs.Glob patterns of the definition files: FHIR JSON resources (StructureDefinition,
	// ValueSet, CodeSystem) or Bundles of them, gzip-compressed when the name ends in ".gz". Other resource
	// types are ignored. A pattern matching no file is an error.
	Files []string
	// CoreProfiles are the fs.Glob patterns of files, read like Files, holding the profiles published with the
	// specification (vitalsigns, bp …). Those that use what the validator does not support are loaded as known
	// but not enforced (NotEnforced), where New would refuse a profile of Files.
	CoreProfiles []string
	// Invariants evaluates the FHIRPath constraints. When nil, the invariant step is skipped.
	Invariants InvariantEvaluator
	// BestPractice checks the constraints flagged as best practice (dom-6, a resource should have narrative;
	// con-3), as warnings. When false they are not checked.
	// See https://hl7.org/fhir/R4/extension-elementdefinition-bestpractice.html.
	BestPractice bool
	// TypeChecks are run by Validate on every item of the datatype they are keyed by ("Identifier"), in nested
	// resources too. Nil for none.
	TypeChecks map[string]TypeCheck
}

// DefaultOptions returns the options for the definitions in profiles.FS: the R4 base definitions, terminology
// and core profiles, no invariant evaluator, best-practice constraints checked.
func DefaultOptions() Options {
	return Options{Files: []string{"r4/structuredefinitions.json.gz", "r4/terminology.json.gz"},
		CoreProfiles: []string{"r4/profiles.json.gz"}, BestPractice: true}
}

// Validator checks resources against the loaded StructureDefinitions. It is immutable and safe for
// concurrent use.
type Validator struct {
	core       map[string]*typeDef
	profiles   map[string]*typeDef
	byType     map[string][]*typeDef // profiles with an applies-when expression, by resource type
	invariants InvariantEvaluator
	typeChecks map[string]TypeCheck
	unchecked  map[string]string
	// notEnforced are the specification's profiles that use what the validator does not support, with why.
	notEnforced map[string]string
	terms       *Terminology
}

// New loads the definitions matching opts.Files from defs and indexes them. It returns an error naming the
// file or definition when a file cannot be read or decoded, a definition is duplicated or malformed, or a
// profile uses what the validator does not support (slicing).
func New(defs fs.FS, opts Options) (*Validator, error) {
	d, err := readDefinitions(defs, opts.Files)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	if len(opts.CoreProfiles) > 0 {
		c, err := readDefinitions(defs, opts.CoreProfiles)
		if err != nil {
			return nil, fmt.Errorf("validate: %w", err)
		}
		if err := d.addSpecification(c); err != nil {
			return nil, fmt.Errorf("validate: %w", err)
		}
	}
	b, err := build(d, opts.BestPractice)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	v := &Validator{core: b.core, profiles: b.profiles, byType: map[string][]*typeDef{}, invariants: opts.Invariants,
		typeChecks: opts.TypeChecks, unchecked: b.unchecked, notEnforced: b.notEnforced, terms: newTerminologyOf(b.terms)}
	for _, url := range sortedKeys(b.profiles) {
		if td := b.profiles[url]; td.appliesWhen != "" && td.kind == "resource" {
			v.byType[td.name] = append(v.byType[td.name], td)
		}
	}
	return v, nil
}

// Validate checks obj against the base definition of its resourceType and returns every issue, sorted by
// expression; nested resources (contained, Bundle entries, Parameters) are checked against their own types.
// An unknown or abstract resourceType is one structure issue.
func (v *Validator) Validate(obj fhir.Object) []fhir.Issue {
	td := v.core[fhir.ResourceType(obj)]
	if td == nil || td.kind != "resource" || td.abstract {
		return []fhir.Issue{{Severity: fhir.SeverityError, Code: fhir.IssueStructure,
			Details: "The resourceType is not a concrete R4 resource type", Expression: []string{"resourceType"}}}
	}
	return v.run(obj, td, false)
}

// ValidateProfile checks obj against the profile with the canonical url, reporting only what the profile adds
// to the base definitions (Validate reports the rest), so that running both reports each problem once. It
// returns ErrUnknownProfile when no such profile is loaded, one warning when the profile is known but not
// enforced (NotEnforced), and one structure issue when obj is not of the profile's type. Nested resources are
// not checked against the profile.
func (v *Validator) ValidateProfile(obj fhir.Object, url string) ([]fhir.Issue, error) {
	td := v.profiles[url]
	if reason, known := v.notEnforced[url]; td == nil && known {
		return []fhir.Issue{notEnforced(url, reason, fhir.ResourceType(obj))}, nil
	}
	if td == nil {
		return nil, fmt.Errorf("validate %s: %w", url, ErrUnknownProfile)
	}
	if fhir.ResourceType(obj) != td.name {
		return []fhir.Issue{{Severity: fhir.SeverityError, Code: fhir.IssueStructure,
			Details:    fmt.Sprintf("The profile %s applies to %s resources", url, td.name),
			Expression: []string{"resourceType"}}}, nil
	}
	issues := v.run(obj, td, true)
	for i := range issues {
		issues[i].Details += " (profile " + url + ")"
		issues[i].Profile = url
	}
	return issues, nil
}

func (v *Validator) run(obj fhir.Object, td *typeDef, delta bool) []fhir.Issue {
	var buf [32]segment
	w := walker{core: v.core, profiles: v.profiles, invariants: v.invariants, delta: delta, path: buf[:0]}
	if delta {
		w.clause = td.root.clause // a profile's clause applies to its rules that have none
	} else {
		w.typeChecks = v.typeChecks
	}
	w.path = append(w.path, segment{name: td.name, index: -1})
	w.resource(obj, td, false)
	sortIssues(w.issues)
	return w.issues
}

// Profiles returns the canonical URLs of the loaded profiles, sorted.
func (v *Validator) Profiles() []string {
	return slices.Sorted(maps.Keys(v.profiles))
}

// NotEnforced returns the profiles published with the specification (Options.CoreProfiles) that the validator
// knows but does not enforce, each with the reason: what in them it does not support. A resource that claims
// one gets a warning, not an error.
func (v *Validator) NotEnforced() map[string]string {
	return maps.Clone(v.notEnforced)
}

// Terminology returns the value sets and code systems of the loaded definitions, with the expansions made for
// the bindings.
func (v *Validator) Terminology() *Terminology { return v.terms }

// UncheckedValueSets returns the value sets of required bindings that cannot be expanded from the loaded
// definitions (external code systems such as UCUM, ISO 4217 or BCP 13), each with the reason; the bindings to
// them are not checked.
func (v *Validator) UncheckedValueSets() map[string]string {
	return maps.Clone(v.unchecked)
}
