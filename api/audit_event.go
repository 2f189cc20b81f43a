package api

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
)

// Code systems and naming systems of the AuditEvents.
const (
	auditTypeSystem        = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	restfulSystem          = "http://hl7.org/fhir/restful-interaction"
	accordInteraction      = fhir.CanonicalBase + "/CodeSystem/service-interaction"
	clientIDSystem         = fhir.CanonicalBase + "/NamingSystem/client-id"
	networkTypeIPAddress   = "2"
	entityTypeSystemObject = "2"
	entityTypeSystem       = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
)

// auditEvent renders an audit entry as an R4 AuditEvent: a RESTful operation (type rest), its interaction as
// subtype, the client as the requesting agent (with its IP address) and its organisations as further agents, the
// request and every resource touched as entities. See https://hl7.org/fhir/R4/auditevent.html.
func auditEvent(e audit.Entry) map[string]any {
	recorded := e.Time.UTC().Format(fhir.InstantFormat)
	ev := map[string]any{
		"resourceType": "AuditEvent",
		"id":           e.ID,
		"meta":         map[string]any{"versionId": "1", "lastUpdated": recorded},
		"type":         map[string]any{"system": auditTypeSystem, "code": "rest", "display": "RESTful Operation"},
		"subtype":      []any{interactionCoding(e.Interaction)},
		"action":       auditAction(e),
		"recorded":     recorded,
		"outcome":      e.Outcome(),
		"outcomeDesc":  "HTTP " + strconv.Itoa(e.Status),
		"agent":        auditAgents(e),
		"source":       map[string]any{"observer": map[string]any{"display": "Accord"}},
		"entity":       auditEntities(e),
	}
	return ev
}

// interactionCoding codes an interaction: FHIR's restful-interaction codes, or Accord's own for the rest.
func interactionCoding(in string) map[string]any {
	switch in {
	case "read", "vread", "update", "patch", "delete", "history-instance", "history-type", "history-system",
		"create", "search-type", "capabilities", "transaction", "batch", "operation":
		return map[string]any{"system": restfulSystem, "code": in}
	}
	return map[string]any{"system": accordInteraction, "code": in}
}

// auditAction is the AuditEvent action: C, R, U, D, or E (execute: searches, bundles, tokens, operations).
func auditAction(e audit.Entry) string {
	switch e.Interaction {
	case "create":
		return "C"
	case "read", "vread", "history-instance", "history-type", "history-system", "capabilities", "discovery":
		return "R"
	case "update", "patch":
		return "U"
	case "delete":
		return "D"
	case "admin":
		return map[string]string{"GET": "R", "PUT": "U", "DELETE": "D"}[e.Method]
	}
	return "E"
}

// auditAgents are the client (the requestor) and the organisations it acted for.
func auditAgents(e audit.Entry) []any {
	client := map[string]any{"requestor": true,
		"network": map[string]any{"address": e.Address, "type": networkTypeIPAddress}}
	if e.ClientID != "" {
		client["who"] = map[string]any{"identifier": map[string]any{"system": clientIDSystem, "value": e.ClientID}}
		if e.Role != "" {
			client["name"] = e.ClientID + " (" + e.Role + ")"
		}
	} else {
		client["who"] = map[string]any{"display": "unauthenticated"}
	}
	if e.Address == "" {
		delete(client, "network")
	}
	agents := []any{client}
	for _, org := range e.Organizations {
		agents = append(agents, map[string]any{"requestor": false,
			"who": map[string]any{"identifier": map[string]any{"system": auth.ODSSystem, "value": org}}})
	}
	return agents
}

// auditEntities are the request (its method, path and query) and each resource touched.
func auditEntities(e audit.Entry) []any {
	req := map[string]any{
		"type":        map[string]any{"system": entityTypeSystem, "code": entityTypeSystemObject},
		"what":        map[string]any{"display": e.Method + " " + e.Path},
		"description": "the request",
	}
	if e.Query != "" {
		req["query"] = base64.StdEncoding.EncodeToString([]byte(e.Query))
	}
	entities := []any{req}
	for _, r := range e.Resources {
		what := map[string]any{"reference": r}
		if typ, id, _ := strings.Cut(r, "/"); !fhir.IsResourceType(typ) { // an admin API object: a client
			what = map[string]any{"identifier": map[string]any{"system": clientIDSystem, "value": id}}
		}
		entities = append(entities, map[string]any{"what": what})
	}
	for _, r := range e.Refused {
		entities = append(entities, map[string]any{"what": map[string]any{"reference": r},
			"description": "the target of an interaction refused to the client: nothing of it was disclosed"})
	}
	if e.Omitted > 0 {
		entities = append(entities, map[string]any{"description": strconv.Itoa(e.Omitted) + " more resources not listed"})
	}
	return entities
}

// auditEventCapability is the CapabilityStatement entry of AuditEvent: the audit trail, which administrators read
// and search, and which nobody writes.
func auditEventCapability() map[string]any {
	params := []any{}
	for _, p := range [][3]string{
		{"date", "date", "when the request was received (prefixes eq, ge, gt, le, lt)"},
		{"agent", "token", "the client id, or an ODS code of an organisation it acted for"},
		{"entity", "reference", "a resource touched: Type/id, or Type"},
		{"outcome", "token", "0 success, 4 refused (4xx), 8 failed (5xx)"},
		{"subtype", "token", "the interaction (read, search-type, transaction, token …)"},
		{"address", "string", "the client's IP address"},
	} {
		params = append(params, map[string]any{"name": p[0], "type": p[1], "documentation": p[2]})
	}
	return map[string]any{
		"type":          "AuditEvent",
		"documentation": "The audit trail: one AuditEvent per request, written by the server only; administrators read and search it.",
		"interaction":   []any{map[string]any{"code": "read"}, map[string]any{"code": "search-type"}},
		"versioning":    "no-version",
		"searchParam":   params,
	}
}
