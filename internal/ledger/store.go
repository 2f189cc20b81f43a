package ledger

import (
	"context"
	"time"

	"github.com/accord-fhir/accord/internal/store"
)

// Store keeps what the Ledger holds beside the resources: the chain of entries, the early fulfilments and the
// processing marks. internal/store/mongo implements it; obligation Tasks themselves are resources, written with
// CommitTasks so that they are read, searched and versioned like any Task.
type Store interface {
	// Append adds entries to the end of the chain in order, sealing each (Seq, Prev, Hash). An entry whose Key the
	// chain already holds is left out, so that recording the same thing twice records it once. It returns the
	// entries added.
	Append(ctx context.Context, entries []Entry) ([]Entry, error)
	// Entries returns up to q.Count entries that match q, in sequence order.
	Entries(ctx context.Context, q EntryQuery) ([]Entry, error)
	// Walk calls fn with every entry in sequence order until fn returns false.
	Walk(ctx context.Context, fn func(Entry) bool) error
	// HasKeys reports which of keys the chain holds.
	HasKeys(ctx context.Context, keys []string) (map[string]bool, error)

	// CommitTasks writes obligation Task versions, each as its own single-resource commit, without reading the
	// current version first: a write with New makes version 1, one with IfMatch "n" makes version n+1. The error
	// of each write is store.ErrConflict when another writer made that version first.
	CommitTasks(ctx context.Context, writes []store.Write) []error

	// PutEarly records a resource that came before the obligation it may fulfil existed.
	PutEarly(ctx context.Context, e Early) error
	// Early returns the early fulfilments recorded for the obligations ids.
	Early(ctx context.Context, ids []string) ([]Early, error)
	// DeleteEarly removes the early fulfilments of the obligations ids, and those recorded before olderThan (zero:
	// none by age).
	DeleteEarly(ctx context.Context, ids []string, olderThan time.Time) error

	// PutMark writes a processing mark; Marks lists them; DeleteMark removes one.
	PutMark(ctx context.Context, m Mark) error
	Marks(ctx context.Context) ([]Mark, error)
	DeleteMark(ctx context.Context, id string) error
}

// EntryQuery selects ledger entries; empty fields do not filter. From and To bound Time ([From, To)).
type EntryQuery struct {
	Clause, Change, Rule string
	// Organizations are the keys of one organisation (its reference, its ODS identifier): an entry of any matches.
	Organizations []string
	Obligations   []string
	// Keys, when not empty, are the entry keys to match.
	Keys     []string
	From, To time.Time
	// After is the sequence number the page starts after; Count the page size (0: no limit).
	After int64
	Count int
}

// Early is a resource version (Ref "Type/id", Version) that may fulfil the obligation Obligation (a Task id) and
// came before it opened: Time is the version's time, Actor who wrote it.
type Early struct {
	Obligation, Ref, Version string
	Time                     time.Time
	Actor                    string
}

// Mark is a process's processing mark: every resource version committed up to Through has been processed (or
// is in Through's margin), and the process was alive at Beat. A mark whose process has stopped tells the next
// process which versions to process again.
type Mark struct {
	ID            string
	Through, Beat time.Time
}
