package api

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/conformance"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/internal/rest"
)

// Options configure the API; DefaultOptions gives the defaults.
type Options struct {
	// BaseURL is the FHIR base used in Location headers, fullUrls and links; empty derives it from each request.
	BaseURL string
	// MaxBody is the largest request body accepted (413 beyond).
	MaxBody int64
	// Ready reports whether the service can serve (for /readyz): the database answers.
	Ready func(ctx context.Context) error
	// Logger receives request failures (never resource content).
	Logger *slog.Logger
	// Software names the software in the CapabilityStatement.
	Software, Version string
	// Security configures authentication, rate limiting and audit (see Security).
	Security Security
	// Conformance, when not nil, serves the implementation guide's conformance resources read-only.
	Conformance *conformance.Catalog
	// Ledger, when not nil, serves the ledger (/ledger…), pending actions and the public waiting times.
	Ledger *ledger.Ledger
	// Includes, when not nil, lists the _include and _revinclude values of each type's search, for the
	// CapabilityStatement (searchInclude, searchRevInclude).
	Includes IncludeLister
}

// IncludeLister lists the values of _include and _revinclude that a search of a type accepts (search.Searcher
// implements it).
type IncludeLister interface {
	// Includes lists the values of _include on a search of typ.
	Includes(typ string) []string
	// RevIncludes lists the values of _revinclude on a search of typ.
	RevIncludes(typ string) []string
}

// DefaultOptions returns a 10 MB body limit and the default logger.
func DefaultOptions() Options {
	return Options{MaxBody: 10 << 20, Logger: slog.Default(), Software: "Accord", Version: "dev"}
}

// API serves the FHIR REST interface.
type API struct {
	svc  *rest.Service
	opts Options
	cap  []byte
	// fixed are the paths served apart from the FHIR routes (see serve), for the Allow header of a 405.
	fixed []fixedRoute
	// summarizer cuts what a read returns as _summary and _elements ask.
	summarizer *fhirsearch.Summarizer
}

// New returns the HTTP handler of the FHIR API over svc.
func New(svc *rest.Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultOptions().MaxBody
	}
	a := &API{svc: svc, opts: opts, summarizer: fhirsearch.NewSummarizer()}
	a.cap = capabilityStatement(opts, svc.SearchParams)

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.UseRawPath = true
	r.Use(gin.CustomRecoveryWithWriter(nil, a.recovered))
	r.Use(a.secure, a.audited, a.authenticate)
	// A request no route takes is a 405 when its target serves other methods, else a 404: decided by allowed,
	// which knows what the FHIR handlers refuse, rather than by Gin's HandleMethodNotAllowed, whose Allow lists the
	// methods of any route matching the path.
	r.NoRoute(a.wrap(a.refuseMethod))

	a.serve(&r.RouterGroup, "/healthz", methods{http.MethodGet: func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "up"}) }})
	a.serve(&r.RouterGroup, "/readyz", methods{http.MethodGet: a.readyz})
	a.securityRoutes(r)
	if opts.Ledger != nil {
		a.ledgerRoutes(r)
	}

	fhirRoutes := r.Group("/", a.negotiate, a.conformance)
	a.serve(fhirRoutes, "/metadata", methods{http.MethodGet: a.wrap(a.metadata)})
	fhirRoutes.POST("/", a.wrap(a.bundle))
	fhirRoutes.GET("/", a.wrap(a.systemSearch))
	fhirRoutes.GET("/:type", a.wrap(a.typeGet))
	fhirRoutes.POST("/:type", a.wrap(a.typePost))
	fhirRoutes.PUT("/:type", a.wrap(a.conditionalUpdate))
	fhirRoutes.DELETE("/:type", a.wrap(a.conditionalDelete))
	fhirRoutes.GET("/:type/:id", a.wrap(a.instanceGet))
	fhirRoutes.POST("/:type/:id", a.wrap(a.instancePost))
	fhirRoutes.PUT("/:type/:id", a.wrap(a.update))
	fhirRoutes.PATCH("/:type/:id", a.wrap(a.patch))
	fhirRoutes.DELETE("/:type/:id", a.wrap(a.delete))
	fhirRoutes.GET("/:type/:id/_history", a.wrap(a.instanceHistory))
	fhirRoutes.GET("/:type/:id/_history/:vid", a.wrap(a.vread))
	fhirRoutes.GET("/:type/:id/:op", a.wrap(a.operation))
	fhirRoutes.POST("/:type/:id/:op", a.wrap(a.operation))
	return headAsGet(r)
}

// headAsGet serves HEAD as GET (RFC 9110 section 9.3.2): the request takes the route, middleware and handler of
// GET, so it is authenticated, authorised and audited as the GET would be, and never writes. net/http, which still
// sees the HEAD, sends the status and headers and drops the body.
func headAsGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.WithContext(r.Context()) // a shallow copy: the server's own request stays a HEAD
			r.Method = http.MethodGet
		}
		h.ServeHTTP(w, r)
	})
}

func (a *API) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	if a.opts.Ready != nil {
		if err := a.opts.Ready(ctx); err != nil {
			a.opts.Logger.Warn("not ready", "err", err)
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "database unreachable"})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (a *API) recovered(c *gin.Context, v any) {
	a.opts.Logger.Error("handler panicked", "panic", v, "path", c.FullPath())
	a.writeError(c, &statusError{status: http.StatusInternalServerError, msg: "internal error"})
}

// methods are the handlers of a path, by HTTP method.
type methods map[string]gin.HandlerFunc

// fhirMethods are the methods of the FHIR routes.
var fhirMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// fixedRoute is a path served apart from the FHIR routes, and the methods it serves.
type fixedRoute struct {
	path  string
	allow []string
}

// serve registers the handlers of a path served apart from the FHIR routes, and a refusal (405 with Allow, or 404
// when it serves nothing) for each other method of the FHIR routes, so that the path never falls through to a FHIR
// handler (/:type/:id) that would take it for a resource type.
func (a *API) serve(g *gin.RouterGroup, route string, ms methods) {
	a.serveRefusing(g, route, ms, a.wrap(a.refuseMethod))
}

// serveRefusing is serve with refuse answering the methods the route does not serve.
func (a *API) serveRefusing(g *gin.RouterGroup, route string, ms methods, refuse gin.HandlerFunc) {
	for _, m := range fhirMethods {
		if h, ok := ms[m]; ok {
			g.Handle(m, route, h)
		} else {
			g.Handle(m, route, refuse)
		}
	}
	allow := allowOf(func(m string) bool { return ms[m] != nil })
	a.fixed = append(a.fixed, fixedRoute{path: path.Join(g.BasePath(), route), allow: allow})
}

// allowOrder is the order of the methods in an Allow header.
var allowOrder = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowOf lists, in allowOrder, the methods served; HEAD is served wherever GET is (see headAsGet).
func allowOf(served func(method string) bool) []string {
	var out []string
	for _, m := range allowOrder {
		if served(m) || (m == http.MethodHead && served(http.MethodGet)) {
			out = append(out, m)
		}
	}
	return out
}

// refuseMethod answers a method the target does not serve: 405 naming those it does (writeError sets Allow), or
// 404 when it serves none.
func (a *API) refuseMethod(q *request) (*response, error) {
	allow := a.allowed(q.c)
	if len(allow) == 0 {
		return nil, notFound("no such endpoint")
	}
	return nil, &statusError{status: http.StatusMethodNotAllowed,
		msg: "method " + q.c.Request.Method + " is not allowed here; use " + strings.Join(allow, ", ")}
}

// allowed lists the methods the request's target serves, for the Allow header of a 405 (RFC 9110 section 10.2.1):
// those of its path if it is served apart from the FHIR routes, else the FHIR interactions on it.
func (a *API) allowed(c *gin.Context) []string {
	p := c.Request.URL.Path
	for _, f := range a.fixed { // a static path before a pattern that also matches it (/ledger/$verify, /ledger/:op)
		if f.path == p {
			return f.allow
		}
	}
	for _, f := range a.fixed {
		if matchRoute(f.path, p) {
			return f.allow
		}
	}
	return a.fhirAllowed(p, len(c.Request.URL.Query()) > 0)
}

// matchRoute reports whether target matches a route pattern of :param segments and a final *catch-all.
func matchRoute(pattern, target string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(target, "/")
	for i, p := range ps {
		switch {
		case strings.HasPrefix(p, "*"):
			return true
		case i >= len(xs) || (strings.HasPrefix(p, ":") && xs[i] == ""):
			return false
		case !strings.HasPrefix(p, ":") && p != xs[i]:
			return false
		}
	}
	return len(ps) == len(xs)
}

var (
	readMethods     = []string{http.MethodGet, http.MethodHead}
	postMethods     = []string{http.MethodPost}
	readPostMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	typeMethods     = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete}
	instanceMethods = []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete}
)

// fhirAllowed lists the methods the FHIR handlers serve on target, as they refuse the others; criteria tells whether
// the query has parameters, without which PUT and DELETE on a type (conditional update and delete) are refused.
func (a *API) fhirAllowed(target string, criteria bool) []string {
	if target == "/" {
		return readPostMethods // search-system, and batch or transaction
	}
	seg := strings.Split(strings.TrimPrefix(target, "/"), "/")
	typ, rest := seg[0], seg[1:]
	switch {
	case len(seg) == 1 && typ == "_history":
		return readMethods
	case len(seg) == 1 && (typ == "$validate" || typ == "_search"):
		return postMethods
	case !fhir.IsResourceType(typ):
		return nil
	case len(rest) == 1 && (rest[0] == "_search" || rest[0] == "$validate"),
		len(rest) == 2 && rest[1] == "$validate" && (a.opts.Conformance == nil || !a.opts.Conformance.Serves(typ)) && typ != "AuditEvent":
		return postMethods
	case a.expands(typ, rest):
		return readPostMethods
	case typ == "Organization" && len(rest) == 2 && rest[1] == "$pending-actions" && a.opts.Ledger != nil:
		return readMethods
	case typ == "AuditEvent" || (a.opts.Conformance != nil && a.opts.Conformance.Serves(typ)):
		if len(rest) == 0 || (len(rest) == 1 && !strings.HasPrefix(rest[0], "$") && rest[0] != "_history") {
			return readMethods // the audit trail and the guide's resources: read and search only
		}
		return nil
	}
	return storedAllowed(rest, criteria)
}

// expands reports whether typ/rest is ValueSet's $expand, on the type or an instance.
func (a *API) expands(typ string, rest []string) bool {
	if typ != "ValueSet" || a.opts.Conformance == nil || !a.opts.Conformance.Serves(typ) {
		return false
	}
	return (len(rest) == 1 && rest[0] == "$expand") || (len(rest) == 2 && rest[1] == "$expand")
}

// storedAllowed lists the methods served below a type of the store: rest is what follows the type in the path.
func storedAllowed(rest []string, criteria bool) []string {
	switch {
	case len(rest) == 0 && criteria:
		return typeMethods
	case len(rest) == 0:
		return readPostMethods
	case strings.HasPrefix(rest[0], "$"): // no other operation is served
		return nil
	case len(rest) == 1 && rest[0] == "_history", len(rest) == 2 && rest[1] == "_history",
		len(rest) == 3 && rest[1] == "_history":
		return readMethods
	case len(rest) == 1:
		return instanceMethods
	}
	return nil
}
