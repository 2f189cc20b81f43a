// Package validate checks resources against FHIR R4 (4.0.1) StructureDefinitions: the cardinality of every
// element (min and max, through backbone elements, datatypes, choice types and nested resources), required
// bindings to value sets expanded from their CodeSystems, fixed[x] and pattern[x] values, and the FHIRPath
// constraints (invariants) through an InvariantEvaluator (FHIRPath, over the fhirpath engine, in production).
//
// New loads the official definitions (StructureDefinition, ValueSet and CodeSystem resources, as published)
// from an fs.FS and builds an index per type once; Validate then walks a decoded resource against it and
// reports every issue with its FHIRPath location. Profiles (StructureDefinitions with derivation constraint,
// given as a snapshot or as a differential on a base type or on another profile) go through the same engine,
// reduced to what they add to the base definitions: ValidateProfile checks one, ValidateProfiles every profile
// that applies to a resource — by what it is (the applies-when extension, a FHIRPath expression on the
// resource), because its meta.profile names it, or because the caller asks — each issue once.
//
// Profiles may slice elements by value and pattern discriminators (extensions by url, with the extension's
// own definition applied to the items of its slice), restrict the types of choice elements, and bind elements
// extensibly: a binding that carries a clause is checked, a code outside it being a warning. Every rule may
// carry a Consensus clause (the consensus-clause extension on an element or a constraint), which the issues it
// raises carry in fhir.Issue.Clause. A constraint may name the element its failures are about
// (LocationExtension): a profile's rules sit on the resource root so that they run when that element is absent,
// and their issues still say which element is wrong.
//
// ele-1 (a value or children other than id) is checked on primitives too, those given only as "_name": a
// primitive with an id but neither value nor extensions fails it, and does not count for the minimum
// cardinality of its element.
//
// Options.TypeChecks adds checks made in Go on every item of a datatype, wherever it occurs: the caller's rules
// that belong to no profile (Accord's NHS number and ODS code formats on Identifier, in internal/validation).
//
// The narrative invariants txt-1 and txt-2, whose R4 expression is the same htmlChecks(), are checked in Go and
// each reported for its own rule (fhirpath.CheckNarrative); txt-2, a narrative without content, is a warning,
// as the HL7 Java validator does not check it before R6 and the R4 specification has examples that break it.
//
// The profiles published with the specification (Options.CoreProfiles: vitalsigns …) apply when a resource claims
// them; a discriminator path through a repeating element ("coding.code") matches when one of its items does.
//
// Not supported (New refuses the definitions; a profile of Options.CoreProfiles is then known but not enforced,
// see NotEnforced): type, profile and exists discriminators, discriminator paths with functions, re-slicing,
// slicing of choice types. Not checked: type.targetProfile of references, ordered slicing, and bindings to value sets
// that cannot be expanded from the loaded definitions (UncheckedValueSets lists them).
//
// Validator.Terminology keeps the loaded value sets and code systems, and the expansions made for the bindings,
// for use after New: the codes of a value set, and the hierarchy of a complete code system (the token search
// modifiers :in, :not-in, :below and :above).
//
// It is step 3 (and the engine of step 4) of Accord's validation pipeline; the JSON schema is step 2.
//
// See https://hl7.org/fhir/R4/validation.html, https://hl7.org/fhir/R4/elementdefinition.html,
// https://hl7.org/fhir/R4/profiling.html#slicing and https://hl7.org/fhir/R4/terminologies.html#strength.
package validate
