package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
)

// DefaultPack is the path of the default rule pack in the implementation guide (profiles.FS).
const DefaultPack = "rules/sel-consensus.json"

// Pack is a loaded and checked rule pack: the obligations and findings of a consensus, as data.
type Pack struct {
	ID, URL, Version, Title string
	// Clauses maps each clause code of the pack's clause CodeSystem to its display.
	Clauses map[string]string
	// Obligations are the rules that open obligations; Findings the rules whose trigger is itself a ledger entry.
	Obligations []*Rule
	Findings    []*FindingRule
	// Durations are the local durations, with configuration applied.
	Durations map[string]Duration
	// WaitingTimes says how the public waiting times (clause 6.4) are computed; nil when the pack has none.
	WaitingTimes *WaitingTimes

	engine    *fhirpath.Engine
	vars      []fhirpath.Option
	rules     map[string]*Rule
	findings  map[string]*FindingRule
	byTrigger map[string][]*Rule
	byFulfil  map[string][]fulfilRef
	byFinding map[string][]*FindingRule
}

// Rule opens an obligation: when its trigger holds for a resource, the accountable party owes what FulfilledBy
// describes by the due time (DueFrom evaluated on the trigger, plus DueAfter).
type Rule struct {
	ID, Clause, Title string
	Trigger           Trigger
	DueFrom           *fhirpath.Expr
	DueAfter          Duration
	// Local names the local duration DueAfter comes from; empty when the pack fixes it.
	Local                        string
	Accountable, Patient, OwedTo *fhirpath.Expr
	FulfilledBy                  []Fulfilment
}

// Trigger selects resources: a resource type and a FHIRPath condition on the resource.
type Trigger struct {
	Type      string
	Condition *fhirpath.Expr
}

// Fulfilment is a kind of resource that fulfils an obligation: Trigger gives the references from the fulfilling
// resource to the obligation's trigger, and Condition (with %trigger set) says whether it fulfils it.
type Fulfilment struct {
	Type               string
	Trigger, Condition *fhirpath.Expr
}

// FindingRule records a ledger entry (Change "breached" or "reported") against the accountable party of every
// resource its trigger selects, once per resource.
type FindingRule struct {
	ID, Clause, Title, Change string
	Trigger                   Trigger
	Accountable               *fhirpath.Expr
	// ClauseFrom, when set, gives a code from the resource itself (an interface issue's type): ClauseMap maps it to
	// a clause, or it is a clause itself; the rule's Clause applies when it gives none or an unknown one.
	ClauseFrom *fhirpath.Expr
	ClauseMap  map[string]string
}

// clauseOf is the clause of a finding on obj.
func (p *Pack) clauseOf(fr *FindingRule, obj fhir.Object) string {
	code := p.text(fr.ClauseFrom, obj)
	if c, ok := fr.ClauseMap[code]; ok {
		return c
	}
	if _, ok := p.Clauses[code]; ok && code != "" {
		return code
	}
	return fr.Clause
}

// WaitingTimes defines the public waiting times: the obligation whose opening is the receipt of a referral (its
// trigger), the appointments that count as the first appointment, and the service a referral is for.
type WaitingTimes struct {
	Obligation  *Rule
	Appointment struct {
		Type                       string
		Referral, Start, Condition *fhirpath.Expr
	}
	Service *fhirpath.Expr
}

type fulfilRef struct {
	rule *Rule
	f    *Fulfilment
}

// Rule returns the obligation rule id, or nil.
func (p *Pack) Rule(id string) *Rule { return p.rules[id] }

// Finding returns the finding rule id, or nil.
func (p *Pack) Finding(id string) *FindingRule { return p.findings[id] }

// Watches reports whether resources of typ can trigger, fulfil or be a finding of any rule.
func (p *Pack) Watches(typ string) bool {
	return len(p.byTrigger[typ]) > 0 || len(p.byFulfil[typ]) > 0 || len(p.byFinding[typ]) > 0
}

// PackError lists every problem of a rule pack, each with its place in the file.
type PackError struct {
	Name     string
	Problems []string
}

func (e *PackError) Error() string {
	return fmt.Sprintf("rule pack %s: %d problem(s):\n  %s", e.Name, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// The raw pack file, decoded strictly.
type (
	packFile struct {
		ID               string                  `json:"id"`
		URL              string                  `json:"url"`
		Version          string                  `json:"version"`
		Title            string                  `json:"title"`
		ClauseCodeSystem string                  `json:"clauseCodeSystem"`
		Variables        map[string]string       `json:"variables"`
		Durations        map[string]durationFile `json:"durations"`
		Obligations      []ruleFile              `json:"obligations"`
		Findings         []findingFile           `json:"findings"`
		WaitingTimes     *waitingFile            `json:"waitingTimes"`
	}
	durationFile struct {
		Default     json.RawMessage `json:"default"`
		Description string          `json:"description"`
	}
	triggerFile struct {
		ResourceType string `json:"resourceType"`
		Condition    string `json:"condition"`
	}
	ruleFile struct {
		ID      string      `json:"id"`
		Clause  string      `json:"clause"`
		Title   string      `json:"title"`
		Trigger triggerFile `json:"trigger"`
		Due     struct {
			From  string          `json:"from"`
			After json.RawMessage `json:"after"`
		} `json:"due"`
		Accountable string `json:"accountable"`
		Patient     string `json:"patient"`
		OwedTo      string `json:"owedTo"`
		FulfilledBy []struct {
			ResourceType string `json:"resourceType"`
			Trigger      string `json:"trigger"`
			Condition    string `json:"condition"`
		} `json:"fulfilledBy"`
	}
	findingFile struct {
		ID          string            `json:"id"`
		Clause      string            `json:"clause"`
		Title       string            `json:"title"`
		Change      string            `json:"change"`
		Trigger     triggerFile       `json:"trigger"`
		Accountable string            `json:"accountable"`
		ClauseFrom  string            `json:"clauseFrom"`
		ClauseMap   map[string]string `json:"clauseMap"`
	}
	waitingFile struct {
		Obligation  string `json:"obligation"`
		Appointment struct {
			ResourceType string `json:"resourceType"`
			Referral     string `json:"referral"`
			Start        string `json:"start"`
			Condition    string `json:"condition"`
		} `json:"appointment"`
		Service string `json:"service"`
	}
)

// LoadPack reads the rule pack name from fsys (its clause CodeSystem is read from the same folder), applies the
// local durations given in durations (name → ISO 8601 duration), compiles every expression with engine, and
// checks it all. It returns a *PackError that lists every problem found.
func LoadPack(fsys fs.FS, name string, engine *fhirpath.Engine, durations map[string]string) (*Pack, error) {
	if engine == nil {
		engine = fhirpath.NewEngine()
	}
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, &PackError{Name: name, Problems: []string{err.Error()}}
	}
	var f packFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, &PackError{Name: name, Problems: []string{"not a rule pack: " + err.Error()}}
	}
	c := &compiler{p: &Pack{ID: f.ID, URL: f.URL, Version: f.Version, Title: f.Title, engine: engine}}
	c.header(f)
	c.clauses(fsys, path.Join(path.Dir(name), f.ClauseCodeSystem))
	c.durations(f.Durations, durations)
	c.variables(f.Variables)
	for i, r := range f.Obligations {
		c.rule(fmt.Sprintf("obligations[%d]", i), r)
	}
	for i, r := range f.Findings {
		c.finding(fmt.Sprintf("findings[%d]", i), r)
	}
	if f.WaitingTimes != nil {
		c.waiting(*f.WaitingTimes)
	}
	if len(c.problems) > 0 {
		return nil, &PackError{Name: name, Problems: c.problems}
	}
	return c.p, nil
}

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
var reserved = []string{"resource", "rootResource", "context", "ucum", "sct", "loinc", "trigger", "opened", "clauses"}

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
// trigger, when not empty), so that undefined variables and type errors show at load. Required expressions must
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
		opts = append(opts, fhirpath.WithVariable("trigger", fhirpath.ElementValue(fhir.Object{"resourceType": trigger}, "")))
	}
	if _, err := x.Evaluate(fhir.Object{"resourceType": typ}, opts...); err != nil {
		c.fail(at, "%v", err)
		return nil
	}
	return x
}

// defined reports whether %name is defined for an expression (with %trigger when withTrigger).
func (c *compiler) defined(name string, withTrigger bool) bool {
	switch {
	case name == "trigger":
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
