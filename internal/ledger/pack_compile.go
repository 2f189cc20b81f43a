package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
)

// compiler builds a Pack, collecting problems rather than stopping at the first.
type compiler struct {
	p        *Pack
	problems []string
	varNames []string
}

func (c *compiler) fail(at, format string, args ...any) {
	c.problems = append(c.problems, at+": "+fmt.Sprintf(format, args...))
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.\-]{0,63}$`)

func (c *compiler) header(f packFile) {
	if !idPattern.MatchString(f.ID) {
		c.fail("id", "%q is not an id (letters, digits, '.' and '-')", f.ID)
	}
	if f.URL == "" {
		c.fail("url", "the pack needs a canonical url")
	}
	if len(f.Obligations)+len(f.Findings) == 0 {
		c.fail("obligations", "the pack defines no obligations and no findings")
	}
}

// clauses reads the clause CodeSystem, which must be the guide's (fhir.ClauseSystem).
func (c *compiler) clauses(fsys fs.FS, name string) {
	c.p.Clauses = map[string]string{}
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		c.fail("clauseCodeSystem", "%v", err)
		return
	}
	var cs struct {
		ResourceType string `json:"resourceType"`
		URL          string `json:"url"`
		Concept      []struct {
			Code    string `json:"code"`
			Display string `json:"display"`
		} `json:"concept"`
	}
	if err := json.Unmarshal(raw, &cs); err != nil || cs.ResourceType != "CodeSystem" {
		c.fail("clauseCodeSystem", "%s is not a CodeSystem", name)
		return
	}
	if cs.URL != fhir.ClauseSystem {
		c.fail("clauseCodeSystem", "%s has url %q, not the clause CodeSystem %s", name, cs.URL, fhir.ClauseSystem)
	}
	for _, k := range cs.Concept {
		c.p.Clauses[k.Code] = k.Display
	}
}

func (c *compiler) durations(defs map[string]durationFile, overrides map[string]string) {
	c.p.Durations = map[string]Duration{}
	for _, name := range sortedKeys(defs) {
		at := "durations." + name
		if !idPattern.MatchString(name) {
			c.fail(at, "%q is not a valid duration name", name)
			continue
		}
		d, err := parseAfter(defs[name].Default, nil)
		if err != nil {
			c.fail(at+".default", "%v", err)
			continue
		}
		c.p.Durations[name] = d
	}
	for _, name := range sortedKeys(overrides) {
		if _, ok := defs[name]; !ok {
			c.fail("configured duration "+name, "the pack has no local duration %q (it has %s)", name, strings.Join(sortedKeys(defs), ", "))
			continue
		}
		d, err := ParseDuration(overrides[name])
		if err != nil {
			c.fail("configured duration "+name, "%v", err)
			continue
		}
		c.p.Durations[name] = d
	}
}

// reserved are variable names that FHIRPath or the engine defines.
var reserved = []string{"resource", "rootResource", "context", "ucum", "sct", "loinc", "trigger", "patient", "opened", "clauses"}

func (c *compiler) variables(vars map[string]string) {
	for _, name := range sortedKeys(vars) {
		if slices.Contains(reserved, name) || strings.HasPrefix(name, "vs-") || strings.HasPrefix(name, "ext-") {
			c.fail("variables."+name, "%%%s is defined by FHIRPath or by the engine", name)
			continue
		}
		if _, dup := c.p.Durations[name]; dup {
			c.fail("variables."+name, "%%%s is also a local duration", name)
			continue
		}
		c.p.vars = append(c.p.vars, fhirpath.WithVariable(name, fhirpath.StringValue(vars[name])))
		c.varNames = append(c.varNames, name)
	}
	for _, name := range sortedKeys(c.p.Durations) {
		v, err := fhirpath.DecimalValue(trimFloat(c.p.Durations[name].InDays()))
		if err == nil {
			c.p.vars = append(c.p.vars, fhirpath.WithVariable(name, v))
		}
	}
	c.p.vars = append(c.p.vars, fhirpath.WithVariable("clauses", fhirpath.StringValue(fhir.ClauseSystem)))
}

// expr compiles src and evaluates it once on an empty resource of type typ (with %trigger an empty resource of
// trigger and %patient an empty Patient, when trigger is not empty), so that undefined variables and type errors
// show at load. Required expressions must
// not be empty.
func (c *compiler) expr(at, src, typ, trigger string, required bool) *fhirpath.Expr {
	if src == "" {
		if required {
			c.fail(at, "an expression is required")
		}
		return nil
	}
	x, err := c.p.engine.Compile(src)
	if err != nil {
		c.fail(at, "%v", err)
		return nil
	}
	for _, name := range variablesIn(src) {
		if !c.defined(name, trigger != "") {
			c.fail(at, "undefined variable %%%s", name)
			return nil
		}
	}
	opts := append(slices.Clone(c.p.vars), fhirpath.WithVariable("opened", mustDateTime("2026-01-01T00:00:00Z")))
	if trigger != "" {
		opts = append(opts, fhirpath.WithVariable("trigger", fhirpath.ElementValue(fhir.Object{"resourceType": trigger}, "")),
			fhirpath.WithVariable("patient", fhirpath.ElementValue(fhir.Object{"resourceType": "Patient"}, "")))
	}
	if _, err := x.Evaluate(fhir.Object{"resourceType": typ}, opts...); err != nil {
		c.fail(at, "%v", err)
		return nil
	}
	return x
}

// defined reports whether %name is defined for an expression (with %trigger and %patient when withTrigger).
func (c *compiler) defined(name string, withTrigger bool) bool {
	switch {
	case name == "trigger", name == "patient":
		return withTrigger
	case slices.Contains(reserved, name), strings.HasPrefix(name, "vs-"), strings.HasPrefix(name, "ext-"):
		return true
	case slices.Contains(c.varNames, name):
		return true
	}
	_, ok := c.p.Durations[name]
	return ok
}

// variablesIn lists the environment variables (%name, %'name', %`name`) src uses, skipping string literals.
func variablesIn(src string) []string {
	var names []string
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\'':
			i = skipQuoted(src, i, '\'')
		case '%':
			if i+1 >= len(src) {
				continue
			}
			if q := src[i+1]; q == '\'' || q == '`' {
				end := skipQuoted(src, i+1, q)
				names = append(names, src[i+2:min(end, len(src))])
				i = end
				continue
			}
			j := i + 1
			for j < len(src) && (isIdent(src[j]) || (j > i+1 && src[j] == '-')) {
				j++
			}
			names = append(names, src[i+1:j])
			i = j - 1
		}
	}
	return names
}

// skipQuoted returns the index of the quote that closes the one at i.
func skipQuoted(s string, i int, q byte) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j
		}
	}
	return len(s)
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (c *compiler) resourceType(at, typ string) bool {
	if !fhir.IsResourceType(typ) {
		c.fail(at, "%q is not a FHIR R4 resource type", typ)
		return false
	}
	return true
}

func (c *compiler) clause(at, code string) {
	if _, ok := c.p.Clauses[code]; !ok && len(c.p.Clauses) > 0 {
		c.fail(at, "%q is not a clause of %s", code, fhir.ClauseSystem)
	}
}

func (c *compiler) id(at, id string) bool {
	if !idPattern.MatchString(id) {
		c.fail(at, "%q is not an id (letters, digits, '.' and '-', at most 64)", id)
		return false
	}
	if c.p.rules[id] != nil || c.p.findings[id] != nil {
		c.fail(at, "the id %q is used twice", id)
		return false
	}
	return true
}

func (c *compiler) rule(at string, f ruleFile) {
	at = fmt.Sprintf("%s (%s)", at, f.ID)
	if !c.id(at+".id", f.ID) {
		return
	}
	c.clause(at+".clause", f.Clause)
	r := &Rule{ID: f.ID, Clause: f.Clause, Title: f.Title, Trigger: Trigger{Type: f.Trigger.ResourceType}}
	if c.resourceType(at+".trigger.resourceType", r.Trigger.Type) {
		typ := r.Trigger.Type
		r.Trigger.Condition = c.expr(at+".trigger.condition", f.Trigger.Condition, typ, "", true)
		r.DueFrom = c.expr(at+".due.from", f.Due.From, typ, "", true)
		r.Accountable = c.expr(at+".accountable", f.Accountable, typ, "", true)
		r.Patient = c.expr(at+".patient", f.Patient, typ, "", false)
		r.OwedTo = c.expr(at+".owedTo", f.OwedTo, typ, "", false)
	}
	d, err := parseAfter(f.Due.After, c.p.Durations)
	if err != nil {
		c.fail(at+".due.after", "%v", err)
	}
	r.DueAfter, r.Local = d, localName(f.Due.After)
	if len(f.FulfilledBy) == 0 {
		c.fail(at+".fulfilledBy", "an obligation needs at least one kind of fulfilling resource")
	}
	for i, fb := range f.FulfilledBy {
		fat := fmt.Sprintf("%s.fulfilledBy[%d]", at, i)
		if !c.resourceType(fat+".resourceType", fb.ResourceType) {
			continue
		}
		r.FulfilledBy = append(r.FulfilledBy, Fulfilment{
			Type:      fb.ResourceType,
			Trigger:   c.expr(fat+".trigger", fb.Trigger, fb.ResourceType, "", true),
			Condition: c.expr(fat+".condition", fb.Condition, fb.ResourceType, r.Trigger.Type, false),
		})
	}
	c.add(r)
}

func (c *compiler) add(r *Rule) {
	p := c.p
	if p.rules == nil {
		p.rules, p.byTrigger, p.byFulfil = map[string]*Rule{}, map[string][]*Rule{}, map[string][]fulfilRef{}
	}
	p.rules[r.ID] = r
	p.Obligations = append(p.Obligations, r)
	p.byTrigger[r.Trigger.Type] = append(p.byTrigger[r.Trigger.Type], r)
	for i := range r.FulfilledBy {
		f := &r.FulfilledBy[i]
		p.byFulfil[f.Type] = append(p.byFulfil[f.Type], fulfilRef{rule: r, f: f})
	}
}

func (c *compiler) finding(at string, f findingFile) {
	at = fmt.Sprintf("%s (%s)", at, f.ID)
	if !c.id(at+".id", f.ID) {
		return
	}
	c.clause(at+".clause", f.Clause)
	if f.Change != ChangeBreached && f.Change != ChangeReported {
		c.fail(at+".change", "%q is not %q or %q", f.Change, ChangeBreached, ChangeReported)
	}
	r := &FindingRule{ID: f.ID, Clause: f.Clause, Title: f.Title, Change: f.Change, Trigger: Trigger{Type: f.Trigger.ResourceType}, ClauseMap: f.ClauseMap}
	for _, code := range sortedKeys(f.ClauseMap) {
		c.clause(at+".clauseMap."+code, f.ClauseMap[code])
	}
	if c.resourceType(at+".trigger.resourceType", r.Trigger.Type) {
		typ := r.Trigger.Type
		r.Trigger.Condition = c.expr(at+".trigger.condition", f.Trigger.Condition, typ, "", true)
		r.Accountable = c.expr(at+".accountable", f.Accountable, typ, "", true)
		r.ClauseFrom = c.expr(at+".clauseFrom", f.ClauseFrom, typ, "", false)
	}
	p := c.p
	if p.findings == nil {
		p.findings, p.byFinding = map[string]*FindingRule{}, map[string][]*FindingRule{}
	}
	p.findings[r.ID] = r
	p.Findings = append(p.Findings, r)
	p.byFinding[r.Trigger.Type] = append(p.byFinding[r.Trigger.Type], r)
}

func (c *compiler) waiting(f waitingFile) {
	w := &WaitingTimes{Obligation: c.p.rules[f.Obligation]}
	if w.Obligation == nil {
		c.fail("waitingTimes.obligation", "%q is not an obligation of the pack", f.Obligation)
		return
	}
	a := f.Appointment
	if c.resourceType("waitingTimes.appointment.resourceType", a.ResourceType) {
		w.Appointment.Type = a.ResourceType
		w.Appointment.Referral = c.expr("waitingTimes.appointment.referral", a.Referral, a.ResourceType, "", true)
		w.Appointment.Start = c.expr("waitingTimes.appointment.start", a.Start, a.ResourceType, "", true)
		w.Appointment.Condition = c.expr("waitingTimes.appointment.condition", a.Condition, a.ResourceType, "", false)
	}
	w.Service = c.expr("waitingTimes.service", f.Service, w.Obligation.Trigger.Type, "", false)
	c.p.WaitingTimes = w
}

func (c *compiler) advice(f adviceFile) {
	if !c.resourceType("adviceAndGuidance.resourceType", f.ResourceType) {
		return
	}
	at, typ := "adviceAndGuidance.", f.ResourceType
	c.p.AdviceAndGuidance = &AdviceAndGuidance{
		Type:         typ,
		Advice:       c.expr(at+"advice", f.Advice, typ, "", true),
		Referral:     c.expr(at+"referral", f.Referral, typ, "", true),
		Preceding:    c.expr(at+"preceding", f.Preceding, typ, "", true),
		Time:         c.expr(at+"time", f.Time, typ, "", true),
		Organization: c.expr(at+"organization", f.Organization, typ, "", false),
	}
}

// parseAfter reads a due.after value: an ISO 8601 string, a FHIR Duration, or {"local": name} (looked up in
// locals).
func parseAfter(raw json.RawMessage, locals map[string]Duration) (Duration, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return Duration{}, errors.New("a duration is required")
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Duration{}, err
		}
		return ParseDuration(s)
	}
	if name := localName(raw); name != "" {
		d, ok := locals[name]
		if !ok {
			return Duration{}, fmt.Errorf("%q is not a local duration of the pack", name)
		}
		return d, nil
	}
	return parseFHIRDuration(raw)
}

// localName returns the name of a {"local": name} duration, or "".
func localName(raw json.RawMessage) string {
	var l struct {
		Local string `json:"local"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if dec.Decode(&l) != nil {
		return ""
	}
	return l.Local
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.6f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func mustDateTime(s string) fhirpath.Value {
	v, err := fhirpath.DateTimeValue(s)
	if err != nil {
		panic(err)
	}
	return v
}
