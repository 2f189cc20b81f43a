// Package auth is Accord's security core, free of any transport: the registry of SMART backend-services clients,
// the token service that exchanges a signed client assertion for a short-lived access token, the verification of
// those access tokens into a Principal, SMART v1 and v2 system scopes, pseudonymisation of patient identifiers for
// analysts, and per-client rate limiting.
//
// Organisation scoping (Scoping, with the per-type table of ScopingRules) decides what a provider or GP system
// sees and writes: the organisations a resource names in its owner, requester, sender, recipient, performer …
// elements (by ODS code, or by reference to an Organization carrying it), and for patient data the patient's
// registered GP practice. A type that names no organisation itself (Appointment) reaches them through the
// resources it references (TypeRule.Via: a HealthcareService's providedBy, a ServiceRequest's performer …), one
// level deep. The Indexer writes them at write time into the index field FieldACL, so that searches (and, through
// the store's copy in each version, histories) filter in the query; reads check the resource itself. It records
// where they came from (FieldSources) and what a Patient or Via target lends (FieldLends), so that the store
// indexes the resources about a patient again when the patient changes practice. The Registry puts the clients file above the clients
// registered through the admin API.
//
// The HTTP layer (api/) parses requests, calls Service.Token and Service.Authenticate, puts the Principal in the
// request context with NewContext, and maps the errors: *OAuthError on the token endpoint, *fhir.Error (login,
// forbidden) everywhere else.
//
// See https://hl7.org/fhir/smart-app-launch/backend-services.html for the client-credentials flow and
// https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html for the scope syntax.
package auth
