// Package audit records every request made to Accord — who (client, organisations, source address), what
// (interaction, resources touched), when, and with what outcome — in an append-only store that administrators
// search as FHIR AuditEvent resources.
//
// A Trail travels in each request's context and collects the resources the request touches; the HTTP layer turns
// it into an Entry at the end of the request and hands it to a Recorder. The Writer is the Recorder of the
// service: it batches entries to the Store off the request path and never drops one silently.
//
// See https://hl7.org/fhir/R4/auditevent.html.
package audit
