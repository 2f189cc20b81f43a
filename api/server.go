package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

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
}

// New returns the HTTP handler of the FHIR API over svc.
func New(svc *rest.Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultOptions().MaxBody
	}
	a := &API{svc: svc, opts: opts}
	a.cap = capabilityStatement(opts, svc.SearchParams)

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.UseRawPath = true
	r.Use(gin.CustomRecoveryWithWriter(nil, a.recovered))
	r.Use(a.secure, a.audited, a.authenticate)
	r.NoRoute(a.wrap(func(*request) (*response, error) { return nil, notFound("no such endpoint") }))
	r.NoMethod(a.wrap(func(q *request) (*response, error) {
		return nil, &statusError{status: http.StatusMethodNotAllowed, msg: "method " + q.c.Request.Method + " is not allowed here"}
	}))

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "up"}) })
	r.GET("/readyz", a.readyz)
	a.securityRoutes(r)
	if opts.Ledger != nil {
		a.ledgerRoutes(r)
	}

	fhirRoutes := r.Group("/", a.negotiate, a.conformance)
	fhirRoutes.GET("/metadata", a.wrap(a.metadata))
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
	return r
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
