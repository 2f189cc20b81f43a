package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
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
	// AdviceAndGuidance says how the advice-and-guidance report (clause 7.1) is computed; nil when none.
	AdviceAndGuidance *AdviceAndGuidance

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

// AdviceAndGuidance defines the report of clause 7.1 over resources of Type: which are advice requests and which
// referrals, the references from a referral to what preceded it, when each was made, and the organisation that
// made it.
type AdviceAndGuidance struct {
	Type                                            string
	Advice, Referral, Preceding, Time, Organization *fhirpath.Expr
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

// Error lists the problems, one a line.
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
		Advice           *adviceFile             `json:"adviceAndGuidance"`
	}
	adviceFile struct {
		ResourceType string `json:"resourceType"`
		Advice       string `json:"advice"`
		Referral     string `json:"referral"`
		Preceding    string `json:"preceding"`
		Time         string `json:"time"`
		Organization string `json:"organization"`
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
	if f.Advice != nil {
		c.advice(*f.Advice)
	}
	if len(c.problems) > 0 {
		return nil, &PackError{Name: name, Problems: c.problems}
	}
	return c.p, nil
}

// findsClause reports whether a finding rule of the pack records clause for resources of typ.
func (p *Pack) findsClause(typ, clause string) bool {
	for _, fr := range p.byFinding[typ] {
		if fr.Clause == clause {
			return true
		}
	}
	return false
}
