package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/accord-fhir/accord/fhir"
)

// request is one request being handled.
type request struct {
	c    *gin.Context
	ctx  context.Context
	base string
}

// response is what a handler returns for the wrapper to write; a nil body writes no body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// fhirJSON is the content type of every FHIR response.
const fhirJSON = "application/fhir+json; charset=utf-8"

// wrap adapts a handler: it writes the response or maps the error to an OperationOutcome.
func (a *API) wrap(h func(*request) (*response, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		q := &request{c: c, ctx: c.Request.Context(), base: a.baseURL(c)}
		resp, err := h(q)
		if err != nil {
			a.writeError(c, err)
			return
		}
		a.write(c, resp)
	}
}

func (a *API) write(c *gin.Context, resp *response) {
	for k, vs := range resp.header {
		for _, v := range vs {
			c.Writer.Header().Add(k, v)
		}
	}
	if resp.body == nil {
		c.Status(resp.status)
		return
	}
	body := resp.body
	if c.Query("_pretty") == "true" {
		var buf bytes.Buffer
		if json.Indent(&buf, body, "", "  ") == nil {
			body = buf.Bytes()
		}
	}
	c.Header("Content-Length", strconv.Itoa(len(body))) // HEAD has it too, with no body
	c.Data(resp.status, fhirJSON, body)
}

// writeError writes err as an OperationOutcome with its status, and the headers the status calls for; a 405 names
// the methods the target serves (Allow, RFC 9110 section 15.5.6).
func (a *API) writeError(c *gin.Context, err error) {
	status, issues := errorResponse(err, a.opts.Logger)
	a.setErrorHeaders(c, status, err)
	if status == http.StatusMethodNotAllowed {
		a.setAllow(c)
	}
	body, merr := fhir.Marshal(fhir.OperationOutcome(issues))
	if merr != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	a.write(c, &response{status: status, body: body})
}

// setAllow sets the Allow header of a 405 to the methods the target serves; it is empty when there are none (RFC 9110
// section 10.2.1), which c.Header would drop.
func (a *API) setAllow(c *gin.Context) {
	c.Writer.Header().Set("Allow", strings.Join(a.allowed(c), ", "))
}

// baseURL is the configured base, or the one the request was made to.
func (a *API) baseURL(c *gin.Context) string {
	if a.opts.BaseURL != "" {
		return strings.TrimSuffix(a.opts.BaseURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// body reads the request body within the size limit and checks its content type against allowed.
func (q *request) body(limit int64, allowed ...string) ([]byte, error) {
	if ct := q.c.GetHeader("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || !contains(allowed, mt) {
			return nil, &statusError{status: http.StatusUnsupportedMediaType, msg: "content type " + truncate(ct, 80) + " is not supported here; send " + strings.Join(allowed, " or ")}
		}
		if !isR4(params) {
			return nil, &statusError{status: http.StatusUnsupportedMediaType, msg: "the body is FHIR version " + truncate(params["fhirversion"], 20) + "; this server takes FHIR R4 (fhirVersion=4.0)"}
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(q.c.Writer, q.c.Request.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, &statusError{status: http.StatusBadRequest, msg: "the request body could not be read"}
	}
	if !utf8.Valid(b) { // JSON decoding would silently replace the bad bytes
		return nil, &statusError{status: http.StatusBadRequest, msg: "the request body is not valid UTF-8"}
	}
	return b, nil
}

var resourceContent = []string{"application/fhir+json", "application/json", "application/json+fhir"}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// negotiate refuses requests for formats other than FHIR R4 JSON (406), before any handler runs.
func (a *API) negotiate(c *gin.Context) {
	if err := acceptable(c.Query("_format"), c.GetHeader("Accept")); err != nil {
		a.writeError(c, err)
		c.Abort()
		return
	}
	c.Next()
}

// acceptable checks that a request admits a FHIR R4 JSON response: by its _format, else by its Accept header.
func acceptable(format, accept string) error {
	if format != "" {
		if f := strings.TrimSpace(format); f != "json" && !jsonMediaType(f, resourceContent) {
			return &statusError{status: http.StatusNotAcceptable, msg: "only FHIR R4 JSON is supported (_format=json)", expr: "_format"}
		}
		return nil
	}
	if accept == "" {
		return nil
	}
	for _, part := range strings.Split(accept, ",") {
		if jsonMediaType(strings.TrimSpace(part), acceptJSON) {
			return nil
		}
	}
	return &statusError{status: http.StatusNotAcceptable, msg: "only FHIR R4 JSON is supported: application/fhir+json or application/json, with no fhirVersion or fhirVersion=4.0"}
}

// acceptJSON are the media ranges of an Accept header that admit a FHIR JSON response.
var acceptJSON = []string{"*/*", "application/*", "application/json", "application/fhir+json", "application/json+fhir"}

// jsonMediaType reports whether v is one of the media types (or ranges) in types, not refused (q=0), and of FHIR R4.
func jsonMediaType(v string, types []string) bool {
	mt, params, err := mime.ParseMediaType(v)
	return err == nil && params["q"] != "0" && contains(types, mt) && isR4(params)
}

// isR4 reports whether the fhirVersion parameter of a media type, when there is one, names FHIR R4: 4.0 (or the
// release 4.0.1). See https://hl7.org/fhir/R4/versioning.html#mt-version.
func isR4(params map[string]string) bool {
	v, ok := params["fhirversion"] // mime.ParseMediaType lowercases parameter names
	return !ok || v == "4.0" || v == "4.0.1"
}

// prefer returns the return preference of the Prefer header: "minimal", "representation" (default) or
// "OperationOutcome".
func (q *request) prefer() string {
	for _, part := range strings.Split(q.c.GetHeader("Prefer"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "return="); ok {
			switch v {
			case "minimal", "OperationOutcome", "representation":
				return v
			}
		}
	}
	return "representation"
}
