package ledger

import (
	"reflect"
	"testing"
	"time"

	"github.com/accord-fhir/accord/fhir"
)

func TestIndexer(t *testing.T) {
	due := "2026-11-22T11:00:00Z"
	dueTime := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
	owner := map[string]any{"reference": "Organization/R9Z", "identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "R9Z"}}
	ownerKeys := []any{"Organization/R9Z", "https://fhir.nhs.uk/Id/ods-organization-code|R9Z"}
	obligation := func(status string, withDue bool) fhir.Object {
		o := fhir.Object{"resourceType": "Task", "status": status, "owner": owner,
			"meta": map[string]any{"profile": []any{ObligationProfile}}}
		if withDue {
			o["restriction"] = map[string]any{"period": map[string]any{"end": due}}
		}
		return o
	}
	tests := []struct {
		name string
		typ  string
		obj  fhir.Object
		want map[string]any
	}{
		{"open obligation: its state and due date, and the pending fields", "Task", obligation("requested", true),
			map[string]any{FieldState: StateOpen, FieldDue: dueTime, FieldPendingOwner: ownerKeys, FieldPendingDue: dueTime}},
		{"fulfilled obligation: no longer pending", "Task", obligation("completed", true),
			map[string]any{FieldState: StateFulfilled, FieldDue: dueTime}},
		{"breached obligation is still pending (late)", "Task", obligation("failed", true),
			map[string]any{FieldState: StateBreached, FieldDue: dueTime, FieldPendingOwner: ownerKeys, FieldPendingDue: dueTime}},
		{"open obligation without a due date comes last in pending actions", "Task", obligation("requested", false),
			map[string]any{FieldState: StateOpen, FieldPendingOwner: ownerKeys, FieldPendingDue: NoDue}},
		{"a client's active Task with an owner is pending", "Task",
			fhir.Object{"resourceType": "Task", "status": "in-progress", "owner": owner},
			map[string]any{FieldPendingOwner: ownerKeys, FieldPendingDue: NoDue}},
		{"a client's Task due in a month is due by its end", "Task",
			fhir.Object{"resourceType": "Task", "status": "requested", "owner": owner, "restriction": map[string]any{"period": map[string]any{"end": "2026-11"}}},
			map[string]any{FieldPendingOwner: ownerKeys, FieldPendingDue: time.Date(2026, 11, 30, 23, 59, 59, 999e6, time.UTC)}},
		{"a client's Task due on a day is due by its end", "Task",
			fhir.Object{"resourceType": "Task", "status": "requested", "owner": owner, "restriction": map[string]any{"period": map[string]any{"end": "2026-11-22"}}},
			map[string]any{FieldPendingOwner: ownerKeys, FieldPendingDue: time.Date(2026, 11, 22, 23, 59, 59, 999e6, time.UTC)}},
		{"a fulfilled obligation names what fulfilled it", "Task", fhir.Object{"resourceType": "Task", "status": "completed", "owner": owner,
			"meta":      map[string]any{"profile": []any{ObligationProfile}},
			"extension": []any{map[string]any{"url": ExtEvent, "valueReference": map[string]any{"reference": "Communication/c1/_history/2"}}}},
			map[string]any{FieldState: StateFulfilled, FieldFulfilledBy: "Communication/c1"}},
		{"a client's Task without an owner is nobody's pending action", "Task",
			fhir.Object{"resourceType": "Task", "status": "requested"}, map[string]any{}},
		{"a client's finished Task", "Task",
			fhir.Object{"resourceType": "Task", "status": "completed", "owner": owner}, nil},
		{"other types get nothing", "Encounter",
			fhir.Object{"resourceType": "Encounter", "status": "finished"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Indexer{}.Index(tc.typ, tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Index = %#v\nwant    %#v", got, tc.want)
			}
		})
	}
}
