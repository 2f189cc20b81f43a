package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/accord-fhir/accord/internal/auth"
)

// maxTokenForm is the largest token request body.
const maxTokenForm = 20 << 10

// securityRoutes registers the SMART discovery documents, the token endpoint, the admin API, the audit trail and
// the public area.
func (a *API) securityRoutes(r *gin.Engine) {
	root := &r.RouterGroup
	if !a.opts.Security.Off {
		a.serve(root, "/.well-known/smart-configuration", methods{http.MethodGet: a.smartConfiguration})
		a.serve(root, "/.well-known/jwks.json", methods{http.MethodGet: a.jwks})
		a.serveRefusing(root, TokenPath, methods{http.MethodPost: a.token}, a.tokenMethod)
	}
	admin := r.Group("/admin/clients", a.negotiate)
	a.serve(admin, "", methods{http.MethodGet: a.wrap(a.listClients)})
	a.serve(admin, "/:client_id", methods{http.MethodGet: a.wrap(a.getClient), http.MethodPut: a.wrap(a.putClient),
		http.MethodDelete: a.wrap(a.deleteClient)})
	r.GET("/AuditEvent", a.negotiate, a.wrap(a.auditSearch))
	r.GET("/AuditEvent/:id", a.negotiate, a.wrap(a.auditRead))
	a.serve(root, "/public/*path", methods{http.MethodGet: a.wrap(a.public)})
}

// smartConfiguration serves /.well-known/smart-configuration.
func (a *API) smartConfiguration(c *gin.Context) {
	base := strings.TrimSuffix(a.opts.Security.Issuer, "/")
	writeJSON(c, http.StatusOK, auth.NewSMARTConfiguration(base+TokenPath, base+"/.well-known/jwks.json"))
}

// jwks serves the public keys of Accord's access tokens.
func (a *API) jwks(c *gin.Context) {
	writeJSON(c, http.StatusOK, a.opts.Security.Keys.JWKS())
}

// token is the token endpoint of SMART backend services: a client-credentials grant authenticated by a signed
// client assertion. Refusals are OAuth error JSON (RFC 6749 section 5.2); nothing is cached.
func (a *API) token(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	sec := a.opts.Security
	if sec.Limiter != nil {
		if ok, wait := sec.Limiter.Allow("address " + c.RemoteIP()); !ok {
			c.Header("Retry-After", auth.RetryAfter(wait))
			writeJSON(c, http.StatusTooManyRequests, oauthError(auth.CodeInvalidRequest, "too many token requests from this address"))
			return
		}
	}
	form, oe := readTokenForm(c)
	if oe != nil {
		writeJSON(c, oe.Status, oe)
		return
	}
	resp, err := sec.Auth.Token(c.Request.Context(), form, sec.tokenURL())
	var refused *auth.OAuthError
	switch {
	case errors.As(err, &refused):
		a.opts.Logger.Info("token refused", "code", refused.Code, "reason", refused.Description)
		writeJSON(c, refused.Status, refused)
		return
	case err != nil:
		a.opts.Logger.Error("token request failed", "err", err)
		writeJSON(c, http.StatusInternalServerError, oauthError("server_error", "the token could not be issued"))
		return
	}
	if p, err := sec.Auth.Authenticate(c.Request.Context(), resp.AccessToken); err == nil { // for the audit entry
		c.Request = c.Request.WithContext(auth.NewContext(c.Request.Context(), p))
	}
	writeJSON(c, http.StatusOK, resp)
}

// tokenMethod refuses the token endpoint's other methods: 405 naming POST, as an OAuth error like its other
// refusals.
func (a *API) tokenMethod(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	a.setAllow(c)
	writeJSON(c, http.StatusMethodNotAllowed, oauthError(auth.CodeInvalidRequest, "the token endpoint takes POST requests"))
}

// readTokenForm reads the form of a token request: urlencoded, at most maxTokenForm bytes.
func readTokenForm(c *gin.Context) (url.Values, *auth.OAuthError) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, oauthError(auth.CodeInvalidRequest, "the token request must be a form: Content-Type application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxTokenForm))
	if err != nil {
		return nil, oauthError(auth.CodeInvalidRequest, "the token request body could not be read or is larger than 20 KiB")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, oauthError(auth.CodeInvalidRequest, "the token request body is not a valid form")
	}
	return form, nil
}

func oauthError(code, description string) *auth.OAuthError {
	return &auth.OAuthError{Status: http.StatusBadRequest, Code: code, Description: description}
}

// writeJSON writes v as application/json.
func writeJSON(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Data(status, "application/json; charset=utf-8", b)
}
