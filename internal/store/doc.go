// Package store defines how Accord keeps resources: every version append-only, a current view derived from the
// versions, atomic multi-resource commits, conditional-create claims, history and search queries.
// internal/store/mongo implements it on MongoDB (and on the embedded FerretDB).
//
// See https://hl7.org/fhir/R4/http.html#versioning and https://hl7.org/fhir/R4/http.html#transaction.
package store
