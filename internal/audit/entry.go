package audit

import (
	"context"
	"errors"
	"time"
)

// Entry is the audit record of one request.
type Entry struct {
	ID            string
	Time          time.Time
	ClientID      string   // "" when the request was not authenticated
	Role          string   // the client's role
	Organizations []string // ODS codes the client acted for
	// Interaction is the FHIR restful interaction (read, search-type, transaction …) or the service's own
	// (token, admin, audit-search, metadata).
	Interaction string
	Method      string
	Path        string
	Query       string
	// Resources are the resources the request touched, "Type/id/_history/vid" (or "Type/id").
	Resources []string
	// Refused are the targets ("Type/id") of interactions the request was refused (not found, forbidden …):
	// named so that who tried to reach a resource can be found, though nothing of it was disclosed.
	Refused []string
	// Omitted counts the resources touched beyond MaxResources.
	Omitted int
	Status  int
	Address string // the client's IP address
}

// MaxResources is how many touched resources one entry lists.
const MaxResources = 1000

// Outcome is the AuditEvent outcome code of the entry's status: 0 success, 4 minor failure (a refusal: 4xx),
// 8 serious failure (5xx). See http://hl7.org/fhir/R4/valueset-audit-event-outcome.html.
func (e Entry) Outcome() string {
	switch {
	case e.Status >= 500:
		return "8"
	case e.Status >= 400:
		return "4"
	}
	return "0"
}

// ErrNotFound is returned by Store.Get for an unknown entry id.
var ErrNotFound = errors.New("audit entry not found")

// Query selects entries, newest first. Each non-empty list is a set of alternatives; all criteria apply.
type Query struct {
	From, To     time.Time // From ≤ Time < To; zero: unbounded
	Agents       []string  // client ids or ODS codes
	Entities     []string  // "Type/id" (any version) or "Type"
	Outcomes     []string  // Outcome codes
	Interactions []string
	Address      string
	Count        int // page size
	Offset       int
}

// Page is one page of a search, with the total number of matches.
type Page struct {
	Entries []Entry
	Total   int
}

// Store keeps audit entries, append only: there is no way to change or delete one.
//
// Append stores entries (an entry whose ID is already stored is skipped, so that a retried batch is stored once);
// Search returns a page of matches; Get returns one entry or ErrNotFound.
type Store interface {
	Append(ctx context.Context, entries []Entry) error
	Search(ctx context.Context, q Query) (Page, error)
	Get(ctx context.Context, id string) (Entry, error)
}

// Recorder receives the entry of every request. Record must not fail the request: a recorder that cannot keep an
// entry says so in its own log and counts it.
type Recorder interface {
	Record(ctx context.Context, e Entry)
}
