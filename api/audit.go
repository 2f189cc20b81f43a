package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
)

// audited records an audit entry for every request but the health checks, once it has been answered: who, what
// (the interaction and the resources touched, collected by the Trail in the request context), when, the outcome,
// and the source address (the TCP peer: forwarding headers are not trusted).
func (a *API) audited(c *gin.Context) {
	rec := a.opts.Security.Audit
	if rec == nil || c.Request.URL.Path == "/healthz" || c.Request.URL.Path == "/readyz" {
		c.Next()
		return
	}
	trail := &audit.Trail{}
	c.Request = c.Request.WithContext(audit.NewContext(c.Request.Context(), trail))
	start := time.Now()
	c.Next()
	p, _ := auth.PrincipalFrom(c.Request.Context())
	resources, omitted := trail.Resources()
	refused := trail.Refused()
	if typ, id := c.Param("type"), c.Param("id"); c.Writer.Status() >= 400 && fhir.IsResourceType(typ) && fhir.ValidID(id) {
		refused = append(refused, typ+"/"+id) // the target of the refused request
	}
	rec.Record(c.Request.Context(), audit.Entry{
		ID: uuid.NewString(), Time: start.UTC(), ClientID: p.ClientID, Role: string(p.Role),
		Organizations: p.Organizations, Interaction: interactionOf(c, trail), Method: c.Request.Method,
		Path: c.Request.URL.Path, Query: c.Request.URL.RawQuery, Resources: resources, Refused: refused, Omitted: omitted,
		Status: c.Writer.Status(), Address: c.RemoteIP(),
	})
}

// interactionOf names a request's interaction from its route.
func interactionOf(c *gin.Context, t *audit.Trail) string {
	if in := t.Interaction(); in != "" {
		return in
	}
	typ, id := c.Param("type"), c.Param("id")
	m := c.Request.Method
	switch route := c.FullPath(); {
	case route == "/metadata":
		return "capabilities"
	case route == TokenPath:
		return "token"
	case strings.HasPrefix(route, "/admin/"):
		return "admin"
	case strings.HasPrefix(route, "/.well-known/"):
		return "discovery"
	case route == "/AuditEvent":
		return string(auth.InteractionSearch)
	case route == "/AuditEvent/:id":
		return string(auth.InteractionRead)
	case strings.HasPrefix(typ, "$"), strings.HasPrefix(id, "$"), route == "/:type/:id/:op":
		return "operation"
	case route == "/:type/:id/_history/:vid":
		return string(auth.InteractionVRead)
	case route == "/:type/:id/_history":
		return string(auth.InteractionHistoryInstance)
	case route == "/:type" && m == http.MethodGet && typ == "_history":
		return "history-system"
	case route == "/:type/:id" && m == http.MethodGet && id == "_history":
		return string(auth.InteractionHistoryType)
	case (route == "/:type" && m == http.MethodGet) || (route == "/:type/:id" && m == http.MethodPost):
		return string(auth.InteractionSearch)
	case route == "/" && m == http.MethodPost:
		return "batch"
	case route == "":
		return "unknown"
	}
	return map[string]string{http.MethodGet: "read", http.MethodPost: "create", http.MethodPut: "update",
		http.MethodPatch: "patch", http.MethodDelete: "delete"}[m]
}

// maxAuditCount bounds _count on the audit trail.
const maxAuditCount = 1000

// auditSearch serves GET /AuditEvent to administrators: the audit trail, newest first, as a searchset of
// AuditEvents. Parameters: date (with prefixes eq, ge, gt, le, lt), agent (client id or ODS code), entity
// (Type/id or Type), outcome (0, 4, 8), subtype (interaction), address, _count, _offset.
func (a *API) auditSearch(q *request) (*response, error) {
	log, err := a.auditLog(q)
	if err != nil {
		return nil, err
	}
	aq, err := parseAuditQuery(q.c.Request.URL.Query())
	if err != nil {
		return nil, err
	}
	page, err := log.Search(q.ctx, aq)
	if err != nil {
		return nil, err
	}
	self := q.base + "/AuditEvent"
	params := auditParams(q.c.Request.URL.Query())
	links := []any{link("self", self, withOffset(params, aq.Offset), "")}
	if aq.Offset+len(page.Entries) < page.Total {
		links = append(links, link("next", self, withOffset(params, aq.Offset+aq.Count), ""))
	}
	if aq.Offset > 0 {
		links = append(links, link("previous", self, withOffset(params, max(0, aq.Offset-aq.Count)), ""))
	}
	entries := make([]any, len(page.Entries))
	for i, e := range page.Entries {
		entries[i] = map[string]any{"fullUrl": self + "/" + e.ID, "resource": auditEvent(e), "search": map[string]any{"mode": "match"}}
	}
	return bundleResponse(map[string]any{"resourceType": "Bundle", "type": "searchset", "total": page.Total,
		"link": links, "entry": entries})
}

// auditRead serves GET /AuditEvent/{id} to administrators.
func (a *API) auditRead(q *request) (*response, error) {
	log, err := a.auditLog(q)
	if err != nil {
		return nil, err
	}
	e, err := log.Get(q.ctx, q.c.Param("id"))
	if err != nil {
		return nil, err
	}
	body, err := fhir.Marshal(auditEvent(e))
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusOK, body: body}, nil
}

// auditLog checks that the caller is an administrator with a scope to read AuditEvents.
func (a *API) auditLog(q *request) (audit.Store, error) {
	p, err := requireAdmin(q)
	if err != nil {
		return nil, err
	}
	if err := p.Check("AuditEvent", auth.InteractionSearch); err != nil {
		return nil, err
	}
	if a.opts.Security.AuditLog == nil {
		return nil, notFound("the audit trail is not available here")
	}
	return a.opts.Security.AuditLog, nil
}

// auditParams are the search parameters of a request without the paging ones.
func auditParams(all url.Values) url.Values {
	out := url.Values{}
	for k, v := range all {
		if k != "_offset" {
			out[k] = v
		}
	}
	return out
}

func withOffset(params url.Values, offset int) url.Values {
	out := url.Values{}
	for k, v := range params {
		out[k] = v
	}
	if offset > 0 {
		out.Set("_offset", strconv.Itoa(offset))
	}
	return out
}

// parseAuditQuery reads the search parameters of the audit trail; an unknown or malformed one is a 400.
func parseAuditQuery(params url.Values) (audit.Query, error) {
	q := audit.Query{Count: 50}
	for name, values := range params {
		for _, v := range values {
			alts := strings.Split(v, ",")
			switch name {
			case "date":
				if err := dateBound(&q, v); err != nil {
					return q, err
				}
			case "agent":
				q.Agents = append(q.Agents, alts...)
			case "entity":
				q.Entities = append(q.Entities, alts...)
			case "outcome":
				q.Outcomes = append(q.Outcomes, alts...)
			case "subtype":
				q.Interactions = append(q.Interactions, alts...)
			case "address":
				q.Address = v
			case "_count", "_offset":
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return q, badParam(name, name+" must be a whole number of 0 or more")
				}
				if name == "_count" {
					q.Count = min(max(n, 1), maxAuditCount)
				} else {
					q.Offset = n
				}
			case "_format", "_pretty":
			default:
				return q, badParam(name, "the audit trail cannot be searched by "+truncate(name, 40)+
					"; use date, agent, entity, outcome, subtype, address, _count or _offset")
			}
		}
	}
	return q, nil
}

// dateBound narrows q by one date parameter: a prefix (eq by default) and an instant or a day.
func dateBound(q *audit.Query, v string) error {
	prefix := "eq"
	if len(v) > 2 && slices.Contains([]string{"eq", "ge", "gt", "le", "lt"}, v[:2]) {
		prefix, v = v[:2], v[2:]
	}
	t, err := parseInstant(v)
	if err != nil {
		return badParam("date", "date must be an instant or a day, with an optional prefix, e.g. ge2026-01-31")
	}
	end := t.Add(time.Millisecond) // an instant stands for its millisecond
	if len(v) == len("2006-01-02") {
		end = t.AddDate(0, 0, 1)
	}
	switch prefix {
	case "eq":
		q.From, q.To = later(q.From, t), earlier(q.To, end)
	case "ge":
		q.From = later(q.From, t)
	case "gt":
		q.From = later(q.From, end)
	case "le":
		q.To = earlier(q.To, end)
	case "lt":
		q.To = earlier(q.To, t)
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if a.IsZero() || b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
