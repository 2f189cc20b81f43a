package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
)

// Security is how the API authenticates, limits and audits requests. Its zero value refuses every request that
// needs a token (authentication is on, but nothing can verify tokens): set Off, or Auth.
type Security struct {
	// Off turns authentication off, for local development only: every request acts as auth.AuthOff().
	Off bool
	// Auth issues access tokens at /auth/token and verifies them on every other request.
	Auth *auth.Service
	// Keys are the token signing keys, published at /.well-known/jwks.json.
	Keys *auth.KeySet
	// Clients is the registry that administrators manage at /admin/clients.
	Clients auth.Clients
	// Issuer is the FHIR base URL the tokens are issued for (never taken from the Host header); the token
	// endpoint's URL is Issuer + TokenPath.
	Issuer string
	// Limiter limits the requests of each client (and the token requests of each source address); nil: none.
	Limiter *auth.RateLimiter
	// Audit receives the entry of every request but the health checks; nil: none.
	Audit audit.Recorder
	// AuditLog is what administrators search at GET /AuditEvent; nil: not available.
	AuditLog audit.Store
	// Pseudonymiser pseudonymises patient identifiers in what analysts read: the ledger views use it.
	Pseudonymiser *auth.Pseudonymiser
	// HSTS adds Strict-Transport-Security to every response: set when serving TLS directly.
	HSTS bool
}

// TokenPath is the path of the token endpoint.
const TokenPath = "/auth/token"

// tokenURL is the absolute URL of the token endpoint: the aud of client assertions.
func (s Security) tokenURL() string { return strings.TrimSuffix(s.Issuer, "/") + TokenPath }

// isPublic reports whether path is served without a token.
func isPublic(path string) bool {
	switch path {
	case "/metadata", "/healthz", "/readyz", TokenPath:
		return true
	}
	return strings.HasPrefix(path, "/.well-known/") || strings.HasPrefix(path, "/public/")
}

// secure sets the security headers of every response. Responses other than the public documents are not to be
// stored by caches: they hold patient data or tokens.
func (a *API) secure(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if a.opts.Security.HSTS {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if p := c.Request.URL.Path; p != "/metadata" && !strings.HasPrefix(p, "/.well-known/") && !strings.HasPrefix(p, "/public/") {
		h.Set("Cache-Control", "no-store")
	}
	c.Next()
}

// authenticate puts the caller's Principal in the request context: auth.AuthOff() when authentication is off, the
// client of the bearer token otherwise (401 without a valid one), then applies the client's rate limit (429).
// Public paths pass without a token.
func (a *API) authenticate(c *gin.Context) {
	sec := a.opts.Security
	if isPublic(c.Request.URL.Path) {
		c.Next()
		return
	}
	var p auth.Principal
	switch {
	case sec.Off:
		p = auth.AuthOff()
	case sec.Auth == nil:
		a.refuse(c, fhir.Errorf(fhir.IssueLogin, "", "authentication is on but not configured"))
		return
	default:
		var err error
		if p, err = a.principal(c); err != nil {
			a.refuse(c, err)
			return
		}
	}
	c.Request = c.Request.WithContext(auth.NewContext(c.Request.Context(), p))
	if sec.Limiter != nil && !sec.Off {
		if ok, wait := sec.Limiter.Allow("client " + p.ClientID); !ok {
			a.refuse(c, &throttledError{retryAfter: wait, what: "client " + p.ClientID})
			return
		}
	}
	c.Next()
}

// principal verifies the request's bearer token.
func (a *API) principal(c *gin.Context) (auth.Principal, error) {
	header := c.GetHeader("Authorization")
	token, ok := auth.BearerToken(header)
	if !ok {
		msg := "an access token is required: Authorization: Bearer <token>, from " + a.opts.Security.tokenURL()
		if header != "" {
			msg = "the Authorization header is not a bearer token"
		}
		return auth.Principal{}, &unauthenticated{msg: msg, noToken: header == ""}
	}
	return a.opts.Security.Auth.Authenticate(c.Request.Context(), token)
}

// refuse writes the error of a request stopped before its handler.
func (a *API) refuse(c *gin.Context, err error) {
	a.writeError(c, err)
	c.Abort()
}

// unauthenticated is a request without a usable bearer token (401); noToken when none was presented.
type unauthenticated struct {
	msg     string
	noToken bool
}

func (e *unauthenticated) Error() string { return e.msg }

// throttledError is a request over its rate limit (429, Retry-After).
type throttledError struct {
	retryAfter time.Duration
	what       string
}

func (e *throttledError) Error() string {
	return fmt.Sprintf("too many requests from %s: retry after %s", e.what, auth.RetryAfter(e.retryAfter)+" s")
}

// setErrorHeaders adds the headers an error status calls for: WWW-Authenticate on 401 (RFC 6750), Retry-After on
// 429.
func (a *API) setErrorHeaders(c *gin.Context, status int, err error) {
	switch status {
	case http.StatusUnauthorized:
		v := `Bearer realm="accord"`
		var un *unauthenticated
		if !errors.As(err, &un) || !un.noToken {
			v += `, error="invalid_token"`
			if msg := errorText(err); msg != "" {
				v += `, error_description="` + strings.ReplaceAll(msg, `"`, `'`) + `"`
			}
		}
		c.Header("WWW-Authenticate", v)
	case http.StatusTooManyRequests:
		var th *throttledError
		if errors.As(err, &th) {
			c.Header("Retry-After", auth.RetryAfter(th.retryAfter))
		}
	}
}

// errorText is the first issue's details of a FHIR error.
func errorText(err error) string {
	if fe, ok := fhir.AsError(err); ok && len(fe.Issues) > 0 {
		return fe.Issues[0].Details
	}
	return ""
}

// requireAdmin returns the principal of an administrator's request, or the forbidden error.
func requireAdmin(q *request) (auth.Principal, error) {
	p, ok := auth.PrincipalFrom(q.ctx)
	if !ok {
		return p, fhir.Errorf(fhir.IssueLogin, "", "the request is not authenticated")
	}
	if p.Role != auth.RoleAdmin && !p.Unrestricted {
		return p, fhir.Errorf(fhir.IssueForbidden, "", "only administrators (role admin) may do this; client %q is a %s", p.ClientID, p.Role)
	}
	return p, nil
}

// securityComponent is the CapabilityStatement's rest.security when authentication is on: SMART on FHIR, with
// the token endpoint in the oauth-uris extension. See https://hl7.org/fhir/smart-app-launch/conformance.html.
func securityComponent(s Security) map[string]any {
	if s.Off {
		return nil
	}
	return map[string]any{
		"extension": []any{map[string]any{
			"url":       "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
			"extension": []any{map[string]any{"url": "token", "valueUri": s.tokenURL()}},
		}},
		"service": []any{map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}}}},
		"description": "SMART backend services: a client-credentials grant with a signed client assertion (ES384 or " +
			"RS384) at the token endpoint; system scopes in SMART v1 or v2 syntax; each client sees what its " +
			"organisations may see. See /.well-known/smart-configuration.",
	}
}
