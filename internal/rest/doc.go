// Package rest implements the FHIR RESTful interactions — create, read, vread, update, patch, delete, their
// conditional forms, history, and batch and transaction Bundles — over a store.Store, independent of HTTP: the
// api package parses requests into calls of Service and renders what it returns.
//
// See https://hl7.org/fhir/R4/http.html.
package rest
