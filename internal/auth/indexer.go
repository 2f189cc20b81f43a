package auth

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// indexTimeout bounds the patient read of one index computation (the Indexer interface carries no context).
const indexTimeout = 10 * time.Second

// Indexer writes the organisation-scoping index fields (FieldACL, FieldODS) of every resource when it is written,
// so that searches filter by organisation in the query. It reads the patient of patient data to find its GP
// practice, from the store it is attached to: the store takes its indexer when it opens, so the indexer is made
// first and attached to the open store with Attach.
//
// Until it is attached (while the store recovers unfinished writes as it opens) patient data gets no GP practice
// in its index; the store records such repairs and indexes them again once Recover runs. The index records where
// each resource's organisations came from (FieldSources) and what a Patient or Via target lends (FieldLends), so
// that when a patient changes practice (or a target its organisations) the store indexes the resources about it
// again.
type Indexer struct {
	scoping atomic.Pointer[Scoping]
}

var (
	_ store.Indexer   = (*Indexer)(nil)
	_ store.Forgetter = (*Indexer)(nil)
)

// NewIndexer returns an Indexer not yet attached to a store.
func NewIndexer() *Indexer {
	ix := &Indexer{}
	ix.scoping.Store(NewScoping(nil))
	return ix
}

// Attach makes the indexer read patients from src.
func (ix *Indexer) Attach(src Source) { ix.scoping.Store(NewScoping(src)) }

// Scoping returns the Scoping the indexer computes with, once attached: the FHIR interactions decide access with
// it too, so that they share its caches, which the store keeps current through Forget.
func (ix *Indexer) Scoping() *Scoping { return ix.scoping.Load() }

// Forget drops what the indexer's Scoping caches about typ/id (see Scoping.Forget).
func (ix *Indexer) Forget(typ, id string) { ix.scoping.Load().Forget(typ, id) }

// Index returns the scoping fields of obj; an error when its patient cannot be read.
func (ix *Indexer) Index(typ string, obj fhir.Object) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), indexTimeout)
	defer cancel()
	return ix.scoping.Load().Index(ctx, typ, obj)
}
