package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
)

// Canonical URLs of what marks and describes an obligation Task.
const (
	// ObligationProfile is the implementation guide's profile of obligation Tasks, which every one declares.
	ObligationProfile = fhir.CanonicalBase + "/StructureDefinition/accord-task-obligation"
	// CategorySystem and CategoryObligation code Task.code of every obligation (the profile's pattern); the clause
	// is a second coding of Task.code, and Task.reasonCode.
	CategorySystem     = fhir.CanonicalBase + "/CodeSystem/event-category"
	CategoryObligation = "obligation"
	// StateSystem codes Task.businessStatus: the obligation's state (a cancelled obligation is "waived").
	StateSystem = fhir.CanonicalBase + "/CodeSystem/obligation-state"
	// TagSystem and TagObligation tag every obligation Task in meta.tag.
	TagSystem     = fhir.CanonicalBase + "/CodeSystem/accord-tag"
	TagObligation = "obligation"
	// ChangeSystem codes the changes of state (ChangeOpened …) of the ledger and of ExtChange.
	ChangeSystem = fhir.CanonicalBase + "/CodeSystem/ledger-change"
	// IdentifierSystem identifies an obligation by "<rule>/<trigger reference>" (Encounter/e1).
	IdentifierSystem = fhir.CanonicalBase + "/obligation"
	// ExtChange, ExtEvent, ExtActor and ExtTriggerVersion are extensions of an obligation Task: the change this
	// version records, the resource version that made it, who made it, and the version of the trigger the
	// obligation reflects.
	ExtChange         = fhir.CanonicalBase + "/StructureDefinition/ledger-change"
	ExtEvent          = fhir.CanonicalBase + "/StructureDefinition/ledger-event"
	ExtActor          = fhir.CanonicalBase + "/StructureDefinition/ledger-actor"
	ExtTriggerVersion = fhir.CanonicalBase + "/StructureDefinition/obligation-trigger-version"
)

// IDPrefix starts the id of every obligation Task; clients cannot write Tasks with such ids.
const IDPrefix = "obl-"

// HasObligationID reports whether id starts with the obligation prefix, in any case.
func HasObligationID(id string) bool {
	return len(id) >= len(IDPrefix) && strings.EqualFold(id[:len(IDPrefix)], IDPrefix)
}

// ObligationID is the Task id of the obligation that rule opens for trigger ("Type/id"): the same inputs always give
// the same id, so that processing an event again finds what it did the first time.
func ObligationID(rule, trigger string) string {
	sum := sha256.Sum256([]byte(rule + "|" + trigger))
	return IDPrefix + hex.EncodeToString(sum[:20])
}

// Obligation is the state of one obligation as its Task holds it.
type Obligation struct {
	ID     string
	Rule   *Rule
	Clause string
	// Trigger is "Type/id" of the trigger resource; TriggerVersion the version the obligation reflects.
	Trigger, TriggerVersion string
	// Patient, Owner and OwedTo are FHIR References (objects), nil when unknown.
	Patient, Owner, OwedTo fhir.Object
	State                  string
	// From is when the obligation's time runs from (the instant its due time counts from, restriction.period.start),
	// Due when it falls due; Opened and Closed when the ledger opened and closed it.
	From, Due, Opened, Closed time.Time
	// Change, Event, EventTime and Actor describe the change this version records.
	Change, Event string
	EventTime     time.Time
	Actor         string
	// VersionID is the Task version read from the store ("" for an obligation not yet stored).
	VersionID string
	// Pack is the pack the obligation was read with (for instantiatesUri).
	packURL string
}

// Ref is "Task/<id>".
func (o *Obligation) Ref() string { return "Task/" + o.ID }

// taskStatus maps an obligation state to Task.status.
var taskStatus = map[string]string{StateOpen: "requested", StateFulfilled: "completed", StateBreached: "failed", StateCancelled: "cancelled"}

// businessStatus maps an obligation state to its obligation-state code.
var businessStatus = map[string]string{StateOpen: "open", StateFulfilled: "fulfilled", StateBreached: "breached", StateCancelled: "waived"}

func stateOf(status string) string {
	for s, st := range taskStatus {
		if st == status {
			return s
		}
	}
	return ""
}

// Task renders the obligation as its Task resource (id and meta other than profile and tag are the store's).
func (o *Obligation) Task() fhir.Object {
	t := fhir.Object{
		"resourceType": "Task",
		"id":           o.ID,
		"meta": map[string]any{
			"profile": []any{ObligationProfile},
			"tag":     []any{map[string]any{"system": TagSystem, "code": TagObligation}},
		},
		"identifier":      []any{map[string]any{"system": IdentifierSystem, "value": o.Rule.ID + "/" + o.Trigger}},
		"instantiatesUri": o.packURL + "#" + o.Rule.ID,
		"status":          taskStatus[o.State],
		"businessStatus":  map[string]any{"coding": []any{map[string]any{"system": StateSystem, "code": businessStatus[o.State]}}},
		"intent":          "order",
		"priority":        "routine",
		"code": map[string]any{
			"coding": []any{
				map[string]any{"system": CategorySystem, "code": CategoryObligation},
				map[string]any{"system": fhir.ClauseSystem, "code": o.Clause},
			},
			"text": o.Rule.Title,
		},
		"reasonCode":   map[string]any{"coding": []any{map[string]any{"system": fhir.ClauseSystem, "code": o.Clause}}},
		"description":  o.Rule.Title,
		"focus":        map[string]any{"reference": o.Trigger},
		"authoredOn":   dateTime(o.Opened),
		"lastModified": dateTime(o.EventTime),
		"restriction":  restriction(o),
	}
	t["extension"] = []any{
		map[string]any{"url": ExtChange, "valueCode": o.Change},
		map[string]any{"url": ExtEvent, "valueReference": map[string]any{"reference": o.Event}},
		map[string]any{"url": ExtActor, "valueString": orDefault(o.Actor, "unknown")},
		map[string]any{"url": ExtTriggerVersion, "valueString": o.TriggerVersion},
	}
	if o.Patient != nil {
		t["for"] = o.Patient
	}
	if o.Owner != nil {
		t["owner"] = o.Owner
	}
	period := map[string]any{"start": dateTime(o.Opened)}
	if !o.Closed.IsZero() {
		period["end"] = dateTime(o.Closed)
	}
	t["executionPeriod"] = period
	return t
}

func restriction(o *Obligation) map[string]any {
	from := o.From
	if from.IsZero() { // a Task stored before it carried From
		from = o.Opened
	}
	if from.After(o.Due) { // R4's per-1: the start is not after the end
		from = o.Due
	}
	r := map[string]any{"period": map[string]any{"start": dateTime(from), "end": dateTime(o.Due)}}
	if o.OwedTo != nil {
		r["recipient"] = []any{o.OwedTo}
	}
	return r
}

// parseObligation reads an obligation Task; ok is false when obj is not one or names a rule p does not have.
func (p *Pack) parseObligation(obj fhir.Object, versionID string) (*Obligation, bool) {
	if !IsObligationTask(obj) {
		return nil, false
	}
	ident := str(dig(obj, "identifier", 0, "value"))
	ruleID, trigger, _ := strings.Cut(ident, "/")
	rule := p.rules[ruleID]
	if rule == nil {
		return nil, false
	}
	o := &Obligation{
		ID: str(obj["id"]), Rule: rule, Clause: str(dig(obj, "reasonCode", "coding", 0, "code")),
		Trigger: trigger, State: stateOf(str(obj["status"])),
		From: parseTime(dig(obj, "restriction", "period", "start")),
		Due:  parseTime(dig(obj, "restriction", "period", "end")), Opened: parseTime(obj["authoredOn"]),
		Closed: parseTime(dig(obj, "executionPeriod", "end")), EventTime: parseTime(obj["lastModified"]),
		VersionID: versionID, packURL: p.URL,
	}
	o.Patient, _ = obj["for"].(map[string]any)
	o.Owner, _ = obj["owner"].(map[string]any)
	o.OwedTo, _ = dig(obj, "restriction", "recipient", 0).(map[string]any)
	for _, e := range list(obj["extension"]) {
		m, _ := e.(map[string]any)
		switch m["url"] {
		case ExtChange:
			o.Change = str(m["valueCode"])
		case ExtEvent:
			o.Event = str(dig(m, "valueReference", "reference"))
		case ExtActor:
			o.Actor = str(m["valueString"])
		case ExtTriggerVersion:
			o.TriggerVersion = str(m["valueString"])
		}
	}
	return o, true
}

// IsObligationTask reports whether obj is a Task that carries any mark of an obligation — the obligation tag or
// profile, a code or reason that is the obligation category or a clause, the obligation identifier system, an
// obligation-state business status, or an id of the obligation prefix in any case: the Tasks only the ledger
// writes, so that no client's Task can pass for one.
func IsObligationTask(obj fhir.Object) bool {
	if fhir.ResourceType(obj) != "Task" {
		return false
	}
	if HasObligationID(str(obj["id"])) {
		return true
	}
	for _, id := range list(obj["identifier"]) {
		if m, _ := id.(map[string]any); strings.TrimSpace(str(m["system"])) == IdentifierSystem {
			return true
		}
	}
	for _, c := range list(dig(obj, "businessStatus", "coding")) {
		if m, _ := c.(map[string]any); strings.TrimSpace(str(m["system"])) == StateSystem {
			return true
		}
	}
	for _, c := range append(list(dig(obj, "code", "coding")), list(dig(obj, "reasonCode", "coding"))...) {
		if m, _ := c.(map[string]any); strings.TrimSpace(str(m["system"])) == fhir.ClauseSystem {
			return true
		}
	}
	for _, t := range list(dig(obj, "meta", "tag")) {
		if m, _ := t.(map[string]any); m["system"] == TagSystem && m["code"] == TagObligation {
			return true
		}
	}
	for _, p := range list(dig(obj, "meta", "profile")) {
		if p == ObligationProfile {
			return true
		}
	}
	for _, c := range list(dig(obj, "code", "coding")) {
		if m, _ := c.(map[string]any); m["system"] == fhir.ClauseSystem || (m["system"] == CategorySystem && m["code"] == CategoryObligation) {
			return true
		}
	}
	return false
}

// entry is the ledger entry the obligation's version vid records.
func (o *Obligation) entry(vid string) Entry {
	return Entry{
		Key: "Task/" + o.ID + "/" + vid, Time: o.EventTime, Clause: o.Clause, Rule: o.Rule.ID, Obligation: o.Ref(),
		Event: o.Event, Organization: RefKey(o.Owner), Change: o.Change, State: o.State, Due: o.Due, Actor: o.Actor,
		Patient: PatientKey(o.Patient),
	}
}

// nextVersion is the version the obligation's next change writes.
func (o *Obligation) nextVersion() string {
	n, _ := strconv.Atoi(o.VersionID)
	return strconv.Itoa(n + 1)
}

// RefKey is the key of a Reference: its reference, or "system|value" of its identifier, or "".
func RefKey(ref fhir.Object) string {
	if ref == nil {
		return ""
	}
	if r := str(ref["reference"]); r != "" {
		return r
	}
	if id, ok := ref["identifier"].(map[string]any); ok && str(id["value"]) != "" {
		return str(id["system"]) + "|" + str(id["value"])
	}
	return ""
}

func dateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(fhir.InstantFormat)
}

func parseTime(v any) time.Time {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// dig walks obj by keys (string) and indexes (int); nil when any step is missing.
func dig(obj any, steps ...any) any {
	cur := obj
	for _, s := range steps {
		switch k := s.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = m[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
