package ledger

import (
	"slices"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// Index fields of obligation Tasks, beside the current version, by which the sweeper finds open obligations past
// due. (Pending actions finds an organisation's open obligations by the pending fields below.)
const (
	FieldState = "obligation_state"
	FieldDue   = "obligation_due"
	// FieldFulfilledBy is the resource ("Type/id") that fulfilled a fulfilled obligation: a change to it that
	// withdraws it reopens the obligation.
	FieldFulfilledBy = "obligation_fulfilled_by"
)

// Index fields of every Task still to be done — an open obligation, or a client's Task in an active status — by
// which pending actions pages through an organisation's Tasks in due order.
const (
	// FieldPendingOwner holds the owner's keys: its reference and its identifier as "system|value".
	FieldPendingOwner = "pending_owner"
	// FieldPendingDue is when the Task falls due (restriction.period.end), NoDue when it has no date.
	FieldPendingDue = "pending_due"
)

// NoDue is the FieldPendingDue of a Task without a due date: after every real date, so that such Tasks come last.
var NoDue = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// activeStatuses are the statuses of a client's Task still to be done.
var activeStatuses = []string{"draft", "requested", "received", "accepted", "ready", "in-progress", "on-hold"}

// Indexer computes the index fields of obligation Tasks; other resources get none.
type Indexer struct{}

var _ store.Indexer = Indexer{}

// Index returns the obligation fields of an obligation Task, and the pending fields of a Task still to be done.
func (Indexer) Index(typ string, obj fhir.Object) (map[string]any, error) {
	if typ != "Task" {
		return nil, nil
	}
	if !IsObligationTask(obj) {
		if !slices.Contains(activeStatuses, str(obj["status"])) {
			return nil, nil
		}
		return pendingFields(obj, nil), nil
	}
	fields := map[string]any{FieldState: stateOf(str(obj["status"]))}
	if due := parseTime(dig(obj, "restriction", "period", "end")); !due.IsZero() {
		fields[FieldDue] = due
	}
	if fields[FieldState] == StateFulfilled {
		if ref := fulfilledBy(obj); ref != "" {
			fields[FieldFulfilledBy] = ref
		}
	}
	if fields[FieldState] == StateOpen || fields[FieldState] == StateBreached { // breached: still to be done, late
		pendingFields(obj, fields)
	}
	return fields, nil
}

// pendingFields adds the pending fields of the Task obj to fields (a new map when nil) and returns it; a Task
// without an owner gets none, as it is nobody's pending action.
func pendingFields(obj fhir.Object, fields map[string]any) map[string]any {
	if fields == nil {
		fields = map[string]any{}
	}
	owner, _ := obj["owner"].(map[string]any)
	var keys []any
	if r := str(owner["reference"]); r != "" {
		keys = append(keys, relative(r))
	}
	if id, ok := owner["identifier"].(map[string]any); ok && str(id["value"]) != "" {
		keys = append(keys, str(id["system"])+"|"+str(id["value"]))
	}
	if len(keys) == 0 {
		return fields
	}
	fields[FieldPendingOwner] = keys
	fields[FieldPendingDue] = NoDue
	if due := dueBy(dig(obj, "restriction", "period", "end")); !due.IsZero() {
		fields[FieldPendingDue] = due
	}
	return fields
}

// fulfilledBy returns "Type/id" of the resource whose version the ledger-event extension of an obligation Task
// names (the event of its last change), "" when there is none.
func fulfilledBy(obj fhir.Object) string {
	for _, e := range list(obj["extension"]) {
		if m, _ := e.(map[string]any); m["url"] == ExtEvent {
			typ, rest, _ := strings.Cut(relative(str(dig(m, "valueReference", "reference"))), "/")
			id, _, _ := strings.Cut(rest, "/")
			if fhir.IsResourceType(typ) && fhir.ValidID(id) {
				return typ + "/" + id
			}
		}
	}
	return ""
}

// dueBy returns the last instant of a due date, a FHIR date or dateTime of any precision ("2026-11" is due by
// the end of November), UTC; zero when v is not one.
func dueBy(v any) time.Time {
	if t := parseTime(v); !t.IsZero() {
		return t
	}
	s, _ := v.(string)
	if s == "" || strings.Contains(s, "/") {
		return time.Time{}
	}
	_, end, err := ParsePeriod("due", s)
	if err != nil {
		return time.Time{}
	}
	return end.Add(-time.Millisecond)
}
