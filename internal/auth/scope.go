package auth

import (
	"fmt"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// Interaction is a FHIR RESTful interaction, as coded in http://hl7.org/fhir/restful-interaction.
type Interaction string

// The interactions that scopes govern. Patch counts as update; history of one instance as read; history of a
// type as search (SMART App Launch 2, "Scopes for requesting FHIR resources").
const (
	InteractionCreate          Interaction = "create"
	InteractionRead            Interaction = "read"
	InteractionVRead           Interaction = "vread"
	InteractionHistoryInstance Interaction = "history-instance"
	InteractionUpdate          Interaction = "update"
	InteractionPatch           Interaction = "patch"
	InteractionDelete          Interaction = "delete"
	InteractionSearch          Interaction = "search-type"
	InteractionHistoryType     Interaction = "history-type"
)

// Permissions is a set of SMART v2 permissions: c(reate), r(ead), u(pdate), d(elete), s(earch).
type Permissions uint8

// The SMART v2 permissions.
const (
	PermCreate Permissions = 1 << iota
	PermRead
	PermUpdate
	PermDelete
	PermSearch
)

// permLetters are the v2 permission letters in the order the syntax requires.
const permLetters = "cruds"

// String renders p in v2 syntax, such as "rs" or "cruds".
func (p Permissions) String() string {
	var b strings.Builder
	for i := range len(permLetters) {
		if p&(1<<i) != 0 {
			b.WriteByte(permLetters[i])
		}
	}
	return b.String()
}

// permission returns the permission an interaction needs, or 0 for an interaction no scope grants.
func (in Interaction) permission() Permissions {
	switch in {
	case InteractionCreate:
		return PermCreate
	case InteractionRead, InteractionVRead, InteractionHistoryInstance:
		return PermRead
	case InteractionUpdate, InteractionPatch:
		return PermUpdate
	case InteractionDelete:
		return PermDelete
	case InteractionSearch, InteractionHistoryType:
		return PermSearch
	}
	return 0
}

// Scope is one parsed SMART system scope: a resource type ("*" for all) and the permissions on it.
type Scope struct {
	ResourceType string
	Permissions  Permissions
	text         string // as requested, when it was parsed; "" for a computed scope
}

// ParseScope parses one system scope in SMART v1 (system/Task.read, system/*.write, system/*.*) or v2
// (system/Task.rs, system/*.cruds) syntax. It returns an error naming the problem for any other context than
// system/, an unknown resource type, permissions out of the c-r-u-d-s order, and v2 search parameters (?…),
// which Accord does not support.
func ParseScope(s string) (Scope, error) {
	rest, ok := strings.CutPrefix(s, "system/")
	if !ok {
		return Scope{}, fmt.Errorf("scope %q: only system/ scopes are supported by backend services", s)
	}
	if strings.Contains(rest, "?") {
		return Scope{}, fmt.Errorf("scope %q: scopes with search parameters are not supported", s)
	}
	typ, perms, ok := strings.Cut(rest, ".")
	if !ok {
		return Scope{}, fmt.Errorf("scope %q: want system/<type>.<permissions>", s)
	}
	if typ != "*" && !fhir.IsResourceType(typ) {
		return Scope{}, fmt.Errorf("scope %q: unknown resource type %q", s, typ)
	}
	p, err := parsePermissions(perms)
	if err != nil {
		return Scope{}, fmt.Errorf("scope %q: %w", s, err)
	}
	return Scope{ResourceType: typ, Permissions: p, text: s}, nil
}

// parsePermissions parses a v1 suffix or a v2 permission string.
func parsePermissions(s string) (Permissions, error) {
	switch s { // SMART v1 suffixes and their v2 equivalents
	case "read":
		return PermRead | PermSearch, nil
	case "write":
		return PermCreate | PermUpdate | PermDelete, nil
	case "*":
		return PermCreate | PermRead | PermUpdate | PermDelete | PermSearch, nil
	}
	var p Permissions
	next := 0 // index in permLetters that the next letter may not precede
	for _, c := range []byte(s) {
		i := strings.IndexByte(permLetters[next:], c)
		if i < 0 {
			return 0, fmt.Errorf("permissions %q: want read, write, * or letters of %q in that order, each once",
				s, permLetters)
		}
		p |= 1 << (next + i)
		next += i + 1
	}
	if p == 0 {
		return 0, fmt.Errorf("permissions are empty")
	}
	return p, nil
}

// String returns the scope as it was requested, or in v2 syntax when it was computed.
func (s Scope) String() string {
	if s.text != "" {
		return s.text
	}
	return "system/" + s.ResourceType + "." + s.Permissions.String()
}

// covers reports whether s grants everything o grants.
func (s Scope) covers(o Scope) bool {
	return (s.ResourceType == "*" || s.ResourceType == o.ResourceType) && s.Permissions&o.Permissions == o.Permissions
}

// intersect returns what both s and o grant, if anything; as o's text when that is o.
func (s Scope) intersect(o Scope) (Scope, bool) {
	if s.covers(o) {
		return o, true
	}
	typ := s.ResourceType
	switch {
	case typ == "*":
		typ = o.ResourceType
	case o.ResourceType != "*" && o.ResourceType != typ:
		return Scope{}, false
	}
	p := s.Permissions & o.Permissions
	return Scope{ResourceType: typ, Permissions: p}, p != 0
}
