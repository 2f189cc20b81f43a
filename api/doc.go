// Package api is Accord's HTTP interface: Gin routing, content negotiation, and the rendering of resources,
// Bundles and OperationOutcomes. Handlers parse a request, call internal/rest, and return a response or an
// error; one wrapper writes every response, and errorResponse maps every error to a status and an
// OperationOutcome.
//
// Every request first passes the security middleware (auth.go): security headers, the audit entry (audit.go),
// and authentication with the client's rate limit; the token endpoint, SMART discovery, the admin API
// (admin.go) and the audit trail (GET /AuditEvent) are served beside the FHIR routes.
//
// The ledger's views (ledger.go: /ledger, $verify, $compliance, $measure-report, $advice-and-guidance), the pending
// actions of an organisation (pending.go: /Organization/{id}/$pending-actions) and the public waiting times
// (public.go: /public/waiting-times, no token) are served from internal/ledger.
//
// See https://hl7.org/fhir/R4/http.html.
package api
