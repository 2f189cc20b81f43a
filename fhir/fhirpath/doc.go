// Package fhirpath evaluates FHIRPath expressions on FHIR R4 (4.0.1) resources for Accord: search parameter
// expressions when indexing, invariants (the core constraints and Accord's profiles) when validating, and the
// trigger conditions, due dates and accountable parties of the obligations engine.
//
// An Engine compiles expressions once and caches them; an Expr evaluates on a decoded resource (fhir.Object, as
// fhir.DecodeObject returns it), so that one decoding serves validation, every invariant and every search
// parameter of a write. Results are Values: a Kind (String, Boolean, Integer, Decimal, Date, DateTime, Time,
// Quantity, Element), the FHIR type when the value comes from the resource (code, Coding, Reference …), and the
// content: exact decimal text, dates with their precision, quantities with their code, elements as fhir.Object.
//
//	e := fhirpath.NewEngine()
//	x, err := e.Compile("Task.owner.where(resolve() is Organization)")
//	vals, err := x.Evaluate(task)
//
// Invariants on elements are evaluated with the element as context (WithContext), the resource staying %resource
// and %rootResource; EvaluateBool reads the result as validators do.
//
// Expressions are parsed with the ANTLR parser of the FHIRPath grammar from github.com/gofhir/fhirpath, and
// evaluated by this package over an R4 type model generated from the R4 StructureDefinitions (r4model.txt,
// internal/modelgen); EVALUATION.md says why gofhir's own evaluator is not used and how this package compares
// with the reference implementation, fhirpath.js.
//
// Accord's choices where FHIRPath leaves room or the R4 definitions need it:
//   - resolve() fetches nothing: a "#id" reference is a contained resource of %rootResource, a Bundle entry's
//     fullUrl is that entry's resource, and any other Type/id reference is a stub {resourceType, id}, which is
//     what search parameters such as Observation.subject.where(resolve() is Patient) need;
//   - "as" on a collection filters it, as the R4 search parameters require;
//   - memberOf() and conformsTo() fail (no terminology service or validator here); trace() logs nothing;
//   - date-times without a time zone are compared as UTC.
//
// See https://hl7.org/fhirpath/N1/ and https://hl7.org/fhir/R4/fhirpath.html.
package fhirpath
