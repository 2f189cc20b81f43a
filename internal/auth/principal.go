package auth

import (
	"context"
	"slices"

	"github.com/accord-fhir/accord/fhir"
)

// Role is what a client is for; it decides which data its organisations give it access to.
type Role string

// The roles of the clients.
const (
	// RoleProvider is a hospital (provider) system: it writes events as its organisations.
	RoleProvider Role = "provider-system"
	// RoleGP is a GP system: it reads the Tasks and obligations owned by its practices and the data of the patients
	// registered with them.
	RoleGP Role = "gp-system"
	// RoleAnalyst reads the ledger and compliance views, with patient identifiers pseudonymised unless the client
	// is granted identifiable access.
	RoleAnalyst Role = "analyst"
	// RoleAdmin manages clients and searches the audit trail.
	RoleAdmin Role = "admin"
)

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	switch r {
	case RoleProvider, RoleGP, RoleAnalyst, RoleAdmin:
		return true
	}
	return false
}

// Principal is the authenticated caller of a request.
type Principal struct {
	ClientID      string
	Role          Role
	Organizations []string // ODS codes the client acts for
	Scopes        Scopes
	// Identifiable is set for an analyst granted access to patient identifiers in clear.
	Identifiable bool
	// Unrestricted is set only by AuthOff: every scope and every organisation.
	Unrestricted bool
}

// AuthOff is the principal of every request when authentication is turned off for local development
// (ACCORD_AUTH=off): an admin with every scope, every organisation and identifiable access.
func AuthOff() Principal {
	return Principal{ClientID: "auth-off", Role: RoleAdmin, Identifiable: true, Unrestricted: true}
}

// Allows reports whether p's scopes grant interaction on resourceType (see Scopes.Allows).
func (p Principal) Allows(resourceType string, in Interaction) bool {
	if p.Unrestricted {
		return in.permission() != 0
	}
	return p.Scopes.Allows(resourceType, in)
}

// Check returns nil when p may perform the interaction on resourceType, and otherwise a *fhir.Error of code
// forbidden (HTTP 403) that names the scope missing.
func (p Principal) Check(resourceType string, in Interaction) error {
	if p.Allows(resourceType, in) {
		return nil
	}
	return fhir.Errorf(fhir.IssueForbidden, "", "client %q has no scope granting %s on %s (for example system/%s.%s)",
		p.ClientID, in, resourceType, resourceType, in.permission())
}

// ActsFor reports whether p acts for the organisation with ODS code org: a provider system writes only as these.
func (p Principal) ActsFor(org string) bool {
	return p.Unrestricted || slices.Contains(p.Organizations, org)
}

// Pseudonymised reports whether patient identifiers must be pseudonymised in what p reads: for analysts without
// identifiable access.
func (p Principal) Pseudonymised() bool {
	return p.Role == RoleAnalyst && !p.Identifiable && !p.Unrestricted
}

// principalKey is the context key of the Principal.
type principalKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the Principal carried by ctx; ok is false when there is none (a public endpoint, or a bug:
// callers must then refuse access).
func PrincipalFrom(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}
