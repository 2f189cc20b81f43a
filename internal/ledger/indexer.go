package ledger

import (
	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// Index fields of obligation Tasks, beside the current version: the sweeper finds open obligations past due, and
// pending actions finds an organisation's open obligations, by these.
const (
	FieldState  = "obligation_state"
	FieldOwner  = "obligation_owner"
	FieldDue    = "obligation_due"
	FieldClause = "obligation_clause"
)

// Indexer computes the index fields of obligation Tasks; other resources get none.
type Indexer struct{}

var _ store.Indexer = Indexer{}

// Index returns the obligation fields of an obligation Task.
func (Indexer) Index(typ string, obj fhir.Object) (map[string]any, error) {
	if typ != "Task" || !IsObligationTask(obj) {
		return nil, nil
	}
	fields := map[string]any{
		FieldState:  stateOf(str(obj["status"])),
		FieldClause: str(dig(obj, "reasonCode", "coding", 0, "code")),
	}
	owner, _ := obj["owner"].(map[string]any)
	if k := RefKey(owner); k != "" {
		fields[FieldOwner] = k
	}
	if due := parseTime(dig(obj, "restriction", "period", "end")); !due.IsZero() {
		fields[FieldDue] = due
	}
	return fields, nil
}
