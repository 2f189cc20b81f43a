package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
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
	c.Data(resp.status, fhirJSON, body)
}

func (a *API) writeError(c *gin.Context, err error) {
	status, issues := errorResponse(err, a.opts.Logger)
	a.setErrorHeaders(c, status, err)
	body, merr := fhir.Marshal(fhir.OperationOutcome(issues))
	if merr != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	a.write(c, &response{status: status, body: body})
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
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !contains(allowed, mt) {
			return nil, &statusError{status: http.StatusUnsupportedMediaType, msg: "content type " + truncate(ct, 80) + " is not supported here; send " + strings.Join(allowed, " or ")}
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

// negotiate refuses requests for formats other than JSON (406), before any handler runs.
func (a *API) negotiate(c *gin.Context) {
	if f := c.Query("_format"); f != "" {
		if !contains([]string{"json", "application/json", "application/fhir+json", "application/json+fhir"}, strings.TrimSpace(f)) {
			a.writeError(c, &statusError{status: http.StatusNotAcceptable, msg: "only JSON is supported (_format=json)", expr: "_format"})
			c.Abort()
			return
		}
	} else if acc := c.GetHeader("Accept"); acc != "" && !acceptsJSON(acc) {
		a.writeError(c, &statusError{status: http.StatusNotAcceptable, msg: "only application/fhir+json and application/json are supported"})
		c.Abort()
		return
	}
	c.Next()
}

// acceptsJSON reports whether an Accept header admits a JSON response.
func acceptsJSON(h string) bool {
	for _, part := range strings.Split(h, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json", "application/fhir+json", "application/json+fhir":
			return true
		}
	}
	return false
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
