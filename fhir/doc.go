// Package fhir is Accord's FHIR R4 (4.0.1) core: resources as received JSON, OperationOutcome issues and errors,
// Bundles, and the list of resource types. It does no I/O and imports nothing else of the project.
//
// See https://hl7.org/fhir/R4/resource.html and https://hl7.org/fhir/R4/json.html.
package fhir
