package ledger

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
)

// Groupings of the compliance figures.
const (
	ByClause       = "clause"
	ByOrganization = "organization"
	ByMonth        = "month"
)

// ComplianceQuery asks for the compliance figures of the obligations opened, and the findings recorded, in
// [From, To), grouped by any of ByClause, ByOrganization and ByMonth.
type ComplianceQuery struct {
	From, To time.Time
	GroupBy  []string
}

// Figures are the compliance figures of a group of obligations: of those opened, how many were fulfilled on time,
// fulfilled late (by then possibly breached), breached and still unfulfilled, still open, or cancelled; and the
// findings recorded beside them: breaches recorded directly (a clause broken by the event itself) and issues
// reported by practices (a finding withdrawn since, its resource entered in error or deleted, does not count).
type Figures struct {
	Opened          int `json:"opened"`
	FulfilledOnTime int `json:"fulfilledOnTime"`
	FulfilledLate   int `json:"fulfilledLate"`
	Breached        int `json:"breached"`
	Open            int `json:"open"`
	Cancelled       int `json:"cancelled"`
	BreachesFound   int `json:"breachesRecorded"`
	Reported        int `json:"reported"`
}

// OnTimeRate is the share of the obligations with an outcome (fulfilled or breached) that were fulfilled on time;
// ok is false when none has an outcome yet.
func (f Figures) OnTimeRate() (rate float64, ok bool) {
	decided := f.FulfilledOnTime + f.FulfilledLate + f.Breached
	if decided == 0 {
		return 0, false
	}
	return math.Round(float64(f.FulfilledOnTime)/float64(decided)*10000) / 10000, true
}

func (f *Figures) add(g Figures) {
	f.Opened += g.Opened
	f.FulfilledOnTime += g.FulfilledOnTime
	f.FulfilledLate += g.FulfilledLate
	f.Breached += g.Breached
	f.Open += g.Open
	f.Cancelled += g.Cancelled
	f.BreachesFound += g.BreachesFound
	f.Reported += g.Reported
}

// Group is the figures of one group; the fields not grouped by are empty.
type Group struct {
	Clause       string
	Organization string
	Month        string
	Figures
}

// Compliance computes the compliance figures of q from the ledger: an obligation counts in the group of its
// clause, accountable organisation and month of opening, with the outcome it has now; a finding counts in the
// group of its clause, organisation and month. It returns the groups (in clause order) and their total.
func (l *Ledger) Compliance(ctx context.Context, q ComplianceQuery) ([]Group, Figures, error) {
	entries, err := l.Entries(ctx, EntryQuery{From: q.From})
	if err != nil {
		return nil, Figures{}, err
	}
	gs := newGrouping(q.GroupBy)
	in := func(t time.Time) bool { return !t.Before(q.From) && t.Before(q.To) }
	for _, o := range outcomes(entries, in) {
		gs.add(o.clause, o.org, o.opened, o.figures)
	}
	withdrawn := map[string]bool{}
	for _, e := range entries {
		if e.Change == ChangeWithdrawn {
			withdrawn[strings.TrimSuffix(e.Key, "/"+ChangeWithdrawn)] = true
		}
	}
	for _, e := range entries {
		if e.Obligation != "" || !in(e.Time) || e.Change == ChangeWithdrawn || withdrawn[e.Key] {
			continue
		}
		f := Figures{BreachesFound: 1}
		if e.Change == ChangeReported {
			f = Figures{Reported: 1}
		}
		gs.add(e.Clause, e.Organization, e.Time, f)
	}
	out, total := gs.result()
	return out, total, nil
}

// grouping sums figures by the keys asked for.
type grouping struct {
	by     map[string]bool
	groups map[string]*Group
}

func newGrouping(groupBy []string) *grouping {
	g := &grouping{by: map[string]bool{}, groups: map[string]*Group{}}
	for _, k := range groupBy {
		g.by[k] = true
	}
	return g
}

// add adds f to the group of clause, org and the month of t (the keys not grouped by left empty).
func (gs *grouping) add(clause, org string, t time.Time, f Figures) {
	g := Group{}
	if gs.by[ByClause] {
		g.Clause = clause
	}
	if gs.by[ByOrganization] {
		g.Organization = org
	}
	if gs.by[ByMonth] {
		g.Month = t.UTC().Format("2006-01")
	}
	key := g.Clause + "\x00" + g.Organization + "\x00" + g.Month
	if gs.groups[key] == nil {
		gs.groups[key] = &g
	}
	gs.groups[key].add(f)
}

// result returns the groups in clause, organisation and month order, and their total.
func (gs *grouping) result() ([]Group, Figures) {
	out := make([]Group, 0, len(gs.groups))
	var total Figures
	for _, g := range gs.groups {
		out = append(out, *g)
		total.add(g.Figures)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Clause != b.Clause {
			return clauseLess(a.Clause, b.Clause)
		}
		if a.Organization != b.Organization {
			return a.Organization < b.Organization
		}
		return a.Month < b.Month
	})
	return out, total
}

// outcome is one obligation of the cohort: where it counts, and its figures (one outcome).
type outcome struct {
	clause, org string
	opened      time.Time
	figures     Figures
}

// outcomes follows each obligation opened within the period (in) through its entries to its outcome.
func outcomes(entries []Entry, in func(time.Time) bool) []outcome {
	type track struct {
		opened time.Time
		last   Entry
	}
	tracks := map[string]*track{}
	var order []string
	for _, e := range entries {
		if e.Obligation == "" {
			continue
		}
		t := tracks[e.Obligation]
		if t == nil {
			if e.Change != ChangeOpened || !in(e.Time) {
				continue
			}
			t = &track{opened: e.Time}
			tracks[e.Obligation] = t
			order = append(order, e.Obligation)
		}
		t.last = e
	}
	out := make([]outcome, 0, len(order))
	for _, id := range order {
		t := tracks[id]
		f := Figures{Opened: 1}
		switch t.last.State {
		case StateFulfilled:
			if t.last.OnTime() {
				f.FulfilledOnTime = 1
			} else {
				f.FulfilledLate = 1
			}
		case StateBreached:
			f.Breached = 1
		case StateCancelled:
			f.Cancelled = 1
		default:
			f.Open = 1
		}
		out = append(out, outcome{clause: t.last.Clause, org: t.last.Organization, opened: t.opened, figures: f})
	}
	return out
}

// clauseLess orders clause codes as the Consensus numbers them: GP-n first, then n.m numerically.
func clauseLess(a, b string) bool {
	ka, kb := clauseKey(a), clauseKey(b)
	if ka != kb {
		return ka < kb
	}
	return a < b
}

func clauseKey(c string) string {
	if strings.HasPrefix(c, "GP-") {
		return fmt.Sprintf("0%03s", strings.TrimPrefix(c, "GP-"))
	}
	major, minor, _ := strings.Cut(c, ".")
	return fmt.Sprintf("1%03s.%03s", major, minor)
}

// Population codes of the compliance MeasureReports.
const (
	// MeasureURL is the canonical of the compliance measure the MeasureReports report on.
	MeasureURL = fhir.CanonicalBase + "/Measure/consensus-compliance"
	// PopulationSystem codes the populations beyond R4's initial-population, numerator and denominator.
	PopulationSystem = fhir.CanonicalBase + "/CodeSystem/compliance-population"
	// ExtOrganization names the accountable organisation a MeasureReport is about.
	ExtOrganization   = fhir.CanonicalBase + "/StructureDefinition/accountable-organization"
	measurePopulation = "http://terminology.hl7.org/CodeSystem/measure-population"
)

// MeasureReports renders the figures of [from, to), one MeasureReport per clause and organisation: initial
// population the obligations opened, numerator those fulfilled on time, denominator those with an outcome, the
// other figures as populations of PopulationSystem, and the on-time rate as the score.
func (l *Ledger) MeasureReports(ctx context.Context, from, to time.Time) ([]fhir.Object, error) {
	groups, _, err := l.Compliance(ctx, ComplianceQuery{From: from, To: to, GroupBy: []string{ByClause, ByOrganization}})
	if err != nil {
		return nil, err
	}
	now := l.opts.Clock().UTC()
	out := make([]fhir.Object, 0, len(groups))
	for _, g := range groups {
		out = append(out, l.measureReport(g, from, to, now))
	}
	return out, nil
}

func (l *Ledger) measureReport(g Group, from, to, now time.Time) fhir.Object {
	f := g.Figures
	pop := func(system, code string, n int) any {
		return map[string]any{"code": map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}, "count": n}
	}
	group := map[string]any{
		"code": map[string]any{"coding": []any{map[string]any{"system": fhir.ClauseSystem, "code": g.Clause, "display": l.pack.Clauses[g.Clause]}}},
		"population": []any{
			pop(measurePopulation, "initial-population", f.Opened),
			pop(measurePopulation, "denominator", f.FulfilledOnTime+f.FulfilledLate+f.Breached),
			pop(measurePopulation, "numerator", f.FulfilledOnTime),
			pop(PopulationSystem, "fulfilled-late", f.FulfilledLate),
			pop(PopulationSystem, "breached", f.Breached),
			pop(PopulationSystem, "open", f.Open),
			pop(PopulationSystem, "cancelled", f.Cancelled),
			pop(PopulationSystem, "breaches-recorded", f.BreachesFound),
			pop(PopulationSystem, "reported", f.Reported),
		},
	}
	if rate, ok := f.OnTimeRate(); ok {
		group["measureScore"] = map[string]any{"value": rate, "unit": "1", "system": "http://unitsofmeasure.org", "code": "1"}
	}
	mr := fhir.Object{
		"resourceType":        "MeasureReport",
		"status":              "complete",
		"type":                "summary",
		"measure":             MeasureURL,
		"date":                now.Format(fhir.InstantFormat),
		"period":              map[string]any{"start": from.UTC().Format(fhir.InstantFormat), "end": to.Add(-time.Millisecond).UTC().Format(fhir.InstantFormat)},
		"improvementNotation": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/measure-improvement-notation", "code": "increase"}}},
		"group":               []any{group},
	}
	if g.Organization != "" {
		ref := map[string]any{"reference": g.Organization}
		if sys, val, ok := strings.Cut(g.Organization, "|"); ok {
			ref = map[string]any{"identifier": map[string]any{"system": sys, "value": val}}
		}
		mr["extension"] = []any{map[string]any{"url": ExtOrganization, "valueReference": ref}}
	}
	return mr
}
