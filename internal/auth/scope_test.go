package auth

import (
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	all := PermCreate | PermRead | PermUpdate | PermDelete | PermSearch
	for _, tc := range []struct {
		scope   string
		typ     string
		perms   Permissions
		wantErr string
	}{
		// SMART v1
		{scope: "system/Task.read", typ: "Task", perms: PermRead | PermSearch},
		{scope: "system/Task.write", typ: "Task", perms: PermCreate | PermUpdate | PermDelete},
		{scope: "system/*.write", typ: "*", perms: PermCreate | PermUpdate | PermDelete},
		{scope: "system/*.*", typ: "*", perms: all},
		{scope: "system/Patient.*", typ: "Patient", perms: all},
		// SMART v2
		{scope: "system/Task.rs", typ: "Task", perms: PermRead | PermSearch},
		{scope: "system/Task.cud", typ: "Task", perms: PermCreate | PermUpdate | PermDelete},
		{scope: "system/*.cruds", typ: "*", perms: all},
		{scope: "system/Observation.s", typ: "Observation", perms: PermSearch},
		{scope: "system/Task.c", typ: "Task", perms: PermCreate},
		{scope: "system/Task.cs", typ: "Task", perms: PermCreate | PermSearch},
		// refused
		{scope: "system/Task.sr", wantErr: "in that order"},
		{scope: "system/Task.rrs", wantErr: "in that order"},
		{scope: "system/Task.x", wantErr: "want read, write, *"},
		{scope: "system/Task.", wantErr: "empty"},
		{scope: "system/Task.Read", wantErr: "want read, write, *"},
		{scope: "system/Task", wantErr: "want system/<type>.<permissions>"},
		{scope: "system/Tsk.rs", wantErr: `unknown resource type "Tsk"`},
		{scope: "system/task.rs", wantErr: `unknown resource type "task"`},
		{scope: "system/Observation.rs?category=laboratory", wantErr: "search parameters are not supported"},
		{scope: "patient/Task.rs", wantErr: "only system/"},
		{scope: "user/*.cruds", wantErr: "only system/"},
		{scope: "launch", wantErr: "only system/"},
		{scope: "", wantErr: "only system/"},
	} {
		t.Run(tc.scope, func(t *testing.T) {
			got, err := ParseScope(tc.scope)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseScope(%q) err = %v, want one containing %q", tc.scope, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseScope(%q): %v", tc.scope, err)
			}
			if got.ResourceType != tc.typ || got.Permissions != tc.perms || got.String() != tc.scope {
				t.Errorf("ParseScope(%q) = %s %s %q, want %s %s", tc.scope, got.ResourceType, got.Permissions, got,
					tc.typ, tc.perms)
			}
		})
	}
}

func TestScopesAllows(t *testing.T) {
	for _, tc := range []struct {
		scopes string
		typ    string
		in     Interaction
		want   bool
	}{
		{"system/Task.rs", "Task", InteractionRead, true},
		{"system/Task.rs", "Task", InteractionVRead, true},
		{"system/Task.rs", "Task", InteractionHistoryInstance, true},
		{"system/Task.rs", "Task", InteractionSearch, true},
		{"system/Task.rs", "Task", InteractionHistoryType, true},
		{"system/Task.rs", "Task", InteractionCreate, false},
		{"system/Task.rs", "Task", InteractionUpdate, false},
		{"system/Task.rs", "Patient", InteractionRead, false},
		{"system/Task.r", "Task", InteractionSearch, false},
		{"system/Task.s", "Task", InteractionRead, false},
		{"system/Task.u", "Task", InteractionPatch, true},
		{"system/Task.c", "Task", InteractionPatch, false},
		{"system/Task.write", "Task", InteractionDelete, true},
		{"system/Task.write", "Task", InteractionRead, false},
		{"system/*.read", "Encounter", InteractionSearch, true},
		{"system/*.read", "Encounter", InteractionCreate, false},
		{"system/*.cruds", "Encounter", Interaction("operation"), false},
		{"system/*.cruds", "", InteractionRead, false},
		{"system/*.cruds", "*", InteractionRead, false},
		{"system/Task.c system/Patient.r", "Patient", InteractionRead, true},
		{"", "Task", InteractionRead, false},
	} {
		ss := mustScopes(t, tc.scopes)
		if got := ss.Allows(tc.typ, tc.in); got != tc.want {
			t.Errorf("%q.Allows(%q, %s) = %v, want %v", tc.scopes, tc.typ, tc.in, got, tc.want)
		}
	}
}

func TestGrant(t *testing.T) {
	for _, tc := range []struct {
		requested, allowed, want string
	}{
		{"system/Task.rs", "system/*.cruds", "system/Task.rs"},
		{"system/*.rs", "system/*.cruds", "system/*.rs"},
		{"system/*.read", "system/Task.rs system/Patient.cruds", "system/Task.rs system/Patient.rs"},
		{"system/Task.cruds", "system/Task.rs system/Task.cud", "system/Task.rs system/Task.cud"},
		{"system/Task.cruds", "system/Task.r", "system/Task.r"},
		{"system/Task.cud", "system/Task.rs", ""},
		{"system/Patient.rs", "system/Task.rs", ""},
		{"system/Task.r system/Task.rs", "system/*.*", "system/Task.rs"},
		{"system/Task.rs system/Task.rs", "system/*.*", "system/Task.rs"},
		{"system/*.*", "system/Task.read", "system/Task.read"},
		{"", "system/*.*", ""},
	} {
		got := Grant(mustScopes(t, tc.requested), mustScopes(t, tc.allowed)).String()
		if got != tc.want {
			t.Errorf("Grant(%q, %q) = %q, want %q", tc.requested, tc.allowed, got, tc.want)
		}
	}
}
