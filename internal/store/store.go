package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/accord-fhir/accord/fhir"
)

// Errors the store returns; callers test them with errors.Is.
var (
	// ErrNotFound: no resource, version or claim with that identity.
	ErrNotFound = errors.New("not found")
	// ErrGone: the resource's current version is a deletion.
	ErrGone = errors.New("deleted")
	// ErrConflict: another write took the version (or claim) this write needed; retrying may succeed.
	ErrConflict = errors.New("conflict")
	// ErrPreconditionFailed: the If-Match version is not the current one.
	ErrPreconditionFailed = errors.New("precondition failed")
)

// ClaimedError reports that a conditional-create claim is already held, and by which resource.
type ClaimedError struct {
	Key string
	Ref string // "Type/id" of the holder
	At  time.Time
}

func (e *ClaimedError) Error() string { return fmt.Sprintf("claim %q is held by %s", e.Key, e.Ref) }

// TooLargeError reports a write refused, before anything of its commit was written, because what the store would
// keep of the resource exceeds one of its limits: Size of Unit (e.g. "search index values") against Limit. It names
// no content, so it may be logged and shown.
type TooLargeError struct {
	Ref         string // "Type/id" of the resource
	Unit        string
	Size, Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is too large to store: %d %s, more than the limit of %d", e.Ref, e.Size, e.Unit, e.Limit)
}

// Write is one change of one resource within a commit.
type Write struct {
	Type string
	ID   string
	// Object is the new content (id and meta are set by the store); nil means delete.
	Object fhir.Object
	// IfMatch, when not empty, is the version id the current version must have.
	IfMatch string
	// Method is the HTTP method recorded in history (POST, PUT, PATCH, DELETE).
	Method string
	// New says the caller has just made the id (a server-assigned UUID): the store does not read for a current
	// version, and one that exists fails the commit with ErrConflict.
	New bool
	// Findings are the validation warnings of this write that carry a Consensus clause (rules at warning level):
	// the store keeps them with the version, so that the ledger can record them, also after a crash.
	Findings []fhir.Issue
	// Claim, when not empty, is a conditional-create key that must not already be held; the store records that
	// this resource holds it. A held claim fails the commit with *ClaimedError.
	Claim string
}

// Result is what a Write did.
type Result struct {
	Resource fhir.Resource
	// Created is true when the write made version 1 of a resource (or re-created a deleted one from scratch).
	Created bool
	// Noop is true for the delete of a resource that did not exist or was already deleted.
	Noop bool
}

// Entry is one version in a history: the resource and the method that made it.
type Entry struct {
	fhir.Resource
	Method string
	// Created: this version created the resource (version 1, or the first after a deletion).
	Created bool
	// Findings are the clause-bearing validation warnings the version was written with (Write.Findings).
	Findings []fhir.Issue
}

// HistoryQuery selects versions, newest first. Type and ID narrow it to a type or an instance. A type or system
// history made with a context carrying a Restriction (WithRestriction) holds only the versions of the resources
// whose current version meets the restriction's conditions, in the query itself, so that pages are full.
type HistoryQuery struct {
	Type, ID string
	Since    time.Time // zero: no lower bound
	Count    int
	Cursor   string // from a previous page's Next
}

// HistoryPage is one page of a history, newest first.
type HistoryPage struct {
	Entries []Entry
	Next    string // cursor of the next page; empty on the last page
	Total   int    // total versions matching, or -1 when not counted
}

// Store keeps resources and their versions. All methods are safe for concurrent use.
type Store interface {
	// Read returns the current version; ErrNotFound for an unknown id, ErrGone (with the deletion as resource)
	// when the current version is a deletion.
	Read(ctx context.Context, typ, id string) (fhir.Resource, error)
	// VRead returns one version; ErrNotFound when it does not exist. A deletion comes back with Deleted set.
	VRead(ctx context.Context, typ, id, versionID string) (fhir.Resource, error)
	// Commit applies every write or none: ErrPreconditionFailed, ErrConflict, *ClaimedError or *TooLargeError
	// leave no trace.
	Commit(ctx context.Context, writes []Write) ([]Result, error)
	// History returns versions, newest first; the restriction of ctx applies to type and system history.
	History(ctx context.Context, q HistoryQuery) (HistoryPage, error)
	// Find returns the current (not deleted) resources of a type that match every condition.
	Find(ctx context.Context, typ string, q Query) (FindPage, error)
	// ClaimHolder returns the holder of a conditional-create claim; ErrNotFound when none.
	ClaimHolder(ctx context.Context, key string) (ClaimedError, error)
	// ReleaseClaim removes a claim if ref still holds it.
	ReleaseClaim(ctx context.Context, key, ref string) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

// Guard is a Store that refuses some writes by their target alone, whatever they hold (the ledger's obligation
// Tasks): Reserved returns the refusal of a write to typ/id, nil when it may go on. Services ask it before they
// validate what is written, so that such a write is refused as such rather than for its content.
type Guard interface {
	Reserved(typ, id string) error
}

// Indexer computes the search index fields of a resource when it is written; the store keeps them beside the
// current version. Field names must be top-level, must not start with '_' and must not contain '.'.
type Indexer interface {
	Index(typ string, obj fhir.Object) (map[string]any, error)
}

// Forgetter is an Indexer that caches what it reads of other resources to index one (organisation scoping: a
// patient's GP practice). The store calls Forget with every resource it writes once the write is decided, and with
// every resource it indexes again because of another's write, so that the cache serves nothing older.
type Forgetter interface {
	Forget(typ, id string)
}

// Indexers combines indexers: every one indexes every resource, and their fields are merged (a field produced by
// two indexers is an error, so that no indexer silently overwrites another's).
type Indexers []Indexer

var _ Forgetter = Indexers(nil)

// Forget calls Forget on every indexer that is a Forgetter.
func (is Indexers) Forget(typ, id string) {
	for _, ix := range is {
		if f, ok := ix.(Forgetter); ok {
			f.Forget(typ, id)
		}
	}
}

// Index merges the fields of every indexer.
func (is Indexers) Index(typ string, obj fhir.Object) (map[string]any, error) {
	out := map[string]any{}
	for _, ix := range is {
		fields, err := ix.Index(typ, obj)
		if err != nil {
			return nil, err
		}
		for k, v := range fields {
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("index field %q is produced twice", k)
			}
			out[k] = v
		}
	}
	return out, nil
}
