package auth

import (
	"fmt"
	"net/http"
)

// OAuth 2.0 error codes returned by the token endpoint. See RFC 6749 section 5.2.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeInvalidScope         = "invalid_scope"
	CodeUnsupportedGrantType = "unsupported_grant_type"
)

// OAuthError is a refusal by the token endpoint, rendered as the OAuth error JSON
// {"error": Code, "error_description": Description} with HTTP status Status.
//
// Description is safe to return and to log: it never quotes the assertion. Err, when set, is the underlying cause
// (for the log only).
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Err         error  `json:"-"`
}

// Error returns the code and description.
func (e *OAuthError) Error() string {
	return fmt.Sprintf("oauth %s: %s", e.Code, e.Description)
}

// Unwrap returns the underlying cause, if any.
func (e *OAuthError) Unwrap() error { return e.Err }

// badRequest returns a 400 OAuthError of the given code.
func badRequest(code, format string, args ...any) *OAuthError {
	return &OAuthError{Status: http.StatusBadRequest, Code: code, Description: fmt.Sprintf(format, args...)}
}

// badClient returns a 401 invalid_client OAuthError: the client could not be authenticated.
func badClient(cause error, format string, args ...any) *OAuthError {
	return &OAuthError{
		Status:      http.StatusUnauthorized,
		Code:        CodeInvalidClient,
		Description: fmt.Sprintf(format, args...),
		Err:         cause,
	}
}
