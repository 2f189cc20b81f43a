package auth

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"

	"github.com/accord-fhir/accord/fhir"
)

// clientIDPattern is what a client id may be: URL-safe, no spaces, at most 128 characters.
var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,128}$`)

// odsPattern is an ODS organisation code: 3 to 10 upper-case letters and digits (e.g. RJ1, G85001).
var odsPattern = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)

// Problem is one thing wrong with a client registration: where (a JSON path such as "jwks.keys[0]" or
// "clients[2].jwks.keys[0]"), for which client id (when known), and what.
type Problem struct {
	Path     string
	ClientID string
	Message  string
}

// String renders p as `clients[2].jwks.keys[0] (client "acme-epr"): unsupported kty "oct"`.
func (p Problem) String() string {
	s := p.Path
	if p.ClientID != "" {
		s += fmt.Sprintf(" (client %q)", p.ClientID)
	}
	return s + ": " + p.Message
}

// ValidateClient checks a client registration and returns nil, or a *fhir.Error of code invalid with one issue per
// problem (its Expression is the JSON path in the client), so that the admin API can answer with an
// OperationOutcome.
func ValidateClient(c Client) error {
	problems := clientProblems(c)
	if len(problems) == 0 {
		return nil
	}
	fe := &fhir.Error{Code: fhir.IssueInvalid}
	for _, p := range problems {
		fe.Issues = append(fe.Issues, fhir.Issue{
			Severity:   fhir.SeverityError,
			Code:       fhir.IssueValue,
			Details:    fmt.Sprintf("client %q: %s", p.ClientID, p.Message),
			Expression: []string{p.Path},
		})
	}
	return fe
}

// clientProblems returns every problem of c, with paths relative to the client.
func clientProblems(c Client) []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, ClientID: c.ID, Message: fmt.Sprintf(format, args...)})
	}
	if !clientIDPattern.MatchString(c.ID) {
		add("client_id", "%q is not 1 to 128 of A-Z, a-z, 0-9, '.', '_', '~', '-'", c.ID)
	}
	if !c.Role.Valid() {
		add("role", "%q: want provider-system, gp-system, analyst or admin", c.Role)
	}
	if c.IdentifiableAccess && c.Role != RoleAnalyst {
		add("identifiable_access", "applies only to role analyst")
	}
	checkOrganizations(c, add)
	checkScopes(c, add)
	checkKeys(c, add)
	return ps
}

// checkOrganizations requires ODS codes, at least one for the roles that act for organisations.
func checkOrganizations(c Client, add func(path, format string, args ...any)) {
	if len(c.Organizations) == 0 && (c.Role == RoleProvider || c.Role == RoleGP) {
		add("organizations", "a %s acts for at least one organisation (ODS code)", c.Role)
	}
	seen := map[string]bool{}
	for i, o := range c.Organizations {
		path := "organizations[" + strconv.Itoa(i) + "]"
		switch {
		case !odsPattern.MatchString(o):
			add(path, "%q is not an ODS code (3 to 10 upper-case letters and digits)", o)
		case seen[o]:
			add(path, "duplicate organisation %q", o)
		}
		seen[o] = true
	}
}

// checkScopes requires at least one scope, each a valid system scope, and read-only scopes for analysts.
func checkScopes(c Client, add func(path, format string, args ...any)) {
	if len(c.Scopes) == 0 {
		add("scopes", "at least one scope is required, e.g. system/Task.rs")
	}
	for i, s := range c.Scopes {
		sc, err := ParseScope(s)
		switch {
		case err != nil:
			add("scopes["+strconv.Itoa(i)+"]", "%v", err)
		case c.Role == RoleAnalyst && sc.Permissions&^(PermRead|PermSearch) != 0:
			add("scopes["+strconv.Itoa(i)+"]", "scope %q: an analyst reads only (r and s permissions)", s)
		}
	}
}

// checkKeys requires exactly one of jwks and jwks_uri, with valid, uniquely identified keys or an https URL.
func checkKeys(c Client, add func(path, format string, args ...any)) {
	switch {
	case c.JWKS != nil && c.JWKSURI != "":
		add("jwks_uri", "give either jwks or jwks_uri, not both")
	case c.JWKS == nil && c.JWKSURI == "":
		add("jwks", "the client's public keys are required, as jwks or jwks_uri")
	case c.JWKSURI != "":
		if u, err := url.Parse(c.JWKSURI); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			add("jwks_uri", "%q is not an absolute https URL without credentials", c.JWKSURI)
		}
	case len(c.JWKS.Keys) == 0:
		add("jwks.keys", "at least one key is required")
	}
	if c.JWKS == nil {
		return
	}
	kids := map[string]bool{}
	for i, k := range c.JWKS.Keys {
		path := "jwks.keys[" + strconv.Itoa(i) + "]"
		if err := k.Check(); err != nil {
			add(path, "%v", err)
		} else if kids[k.Kid] {
			add(path, "duplicate kid %q", k.Kid)
		}
		kids[k.Kid] = true
	}
}
