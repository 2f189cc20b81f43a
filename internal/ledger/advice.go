package ledger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// ErrNoAdviceReport is returned when the rule pack defines no advice-and-guidance report.
var ErrNoAdviceReport = errors.New("the rule pack defines no advice-and-guidance report")

// Advice is the advice-and-guidance report of clause 7.1 for [From, To): of the referrals made then, how many
// were preceded by an advice request; of the advice requests made then, how many became referrals. Groups break
// the figures down by the organisation that made the requests.
type Advice struct {
	From, To time.Time
	AdviceFigures
	Groups []AdviceGroup
}

// AdviceFigures are the counts of the report.
type AdviceFigures struct {
	Referrals, ReferralsAfterAdvice, AdviceRequests, AdviceConverted int
}

// Rates returns the share of referrals preceded by advice and the share of advice requests converted to
// referrals; ok is false for a share of nothing.
func (f AdviceFigures) Rates() (afterAdvice float64, okAfter bool, converted float64, okConverted bool) {
	share := func(n, of int) (float64, bool) {
		if of == 0 {
			return 0, false
		}
		return math.Round(float64(n)/float64(of)*10000) / 10000, true
	}
	afterAdvice, okAfter = share(f.ReferralsAfterAdvice, f.Referrals)
	converted, okConverted = share(f.AdviceConverted, f.AdviceRequests)
	return
}

// AdviceGroup is the figures of the requests one organisation made.
type AdviceGroup struct {
	Organization string
	AdviceFigures
}

// adviceItem is one request of the report.
type adviceItem struct {
	ref, org  string
	at        time.Time
	advice    bool
	preceding []string
}

// AdviceAndGuidance computes the report of clause 7.1 from the stored requests.
func (l *Ledger) AdviceAndGuidance(ctx context.Context, from, to time.Time) (Advice, error) {
	a := l.pack.AdviceAndGuidance
	if a == nil {
		return Advice{}, ErrNoAdviceReport
	}
	page, err := l.st.Find(ctx, a.Type, store.Query{})
	if err != nil {
		return Advice{}, fmt.Errorf("read %s resources: %w", a.Type, err)
	}
	var items []adviceItem
	orgs := map[string]string{}
	for _, r := range page.Resources {
		if it, ok := l.adviceItem(ctx, a, r, orgs); ok {
			items = append(items, it)
		}
	}
	precededBy, convertedTo := links(items)
	rep := Advice{From: from, To: to}
	groups := map[string]*AdviceGroup{}
	for _, it := range items {
		if it.at.Before(from) || !it.at.Before(to) {
			continue
		}
		f := AdviceFigures{}
		if it.advice {
			f.AdviceRequests = 1
			if convertedTo[it.ref] {
				f.AdviceConverted = 1
			}
		} else {
			f.Referrals = 1
			if precededBy[it.ref] {
				f.ReferralsAfterAdvice = 1
			}
		}
		rep.add(f)
		g := groups[it.org]
		if g == nil {
			g = &AdviceGroup{Organization: it.org}
			groups[it.org] = g
		}
		g.add(f)
	}
	for _, g := range groups {
		rep.Groups = append(rep.Groups, *g)
	}
	sort.Slice(rep.Groups, func(i, j int) bool { return rep.Groups[i].Organization < rep.Groups[j].Organization })
	return rep, nil
}

// links returns the referrals preceded by an advice request, and the advice requests a referral followed.
func links(items []adviceItem) (precededBy, convertedTo map[string]bool) {
	precededBy, convertedTo = map[string]bool{}, map[string]bool{}
	isAdvice := map[string]bool{}
	for _, it := range items {
		isAdvice[it.ref] = it.advice
	}
	for _, it := range items {
		for _, p := range it.preceding {
			if isAdvice[p] && !it.advice {
				precededBy[it.ref], convertedTo[p] = true, true
			}
		}
	}
	return precededBy, convertedTo
}

func (f *AdviceFigures) add(g AdviceFigures) {
	f.Referrals += g.Referrals
	f.ReferralsAfterAdvice += g.ReferralsAfterAdvice
	f.AdviceRequests += g.AdviceRequests
	f.AdviceConverted += g.AdviceConverted
}

// adviceItem classifies r: an advice request, a referral, or neither (ok false).
func (l *Ledger) adviceItem(ctx context.Context, a *AdviceAndGuidance, r fhir.Resource, orgs map[string]string) (adviceItem, bool) {
	obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
	if err != nil {
		return adviceItem{}, false
	}
	p := l.pack
	it := adviceItem{ref: r.Reference()}
	if it.advice, _ = p.holds(a.Advice, obj); !it.advice {
		if ok, _ := p.holds(a.Referral, obj); !ok {
			return adviceItem{}, false
		}
	}
	at, ok, _ := p.instant(a.Time, obj)
	if !ok {
		at = r.LastUpdated
	}
	it.at = at
	refs, _ := p.references(a.Preceding, obj)
	for _, ref := range refs {
		it.preceding = append(it.preceding, relative(RefKey(ref)))
	}
	org, _ := p.reference(a.Organization, obj)
	key := RefKey(org)
	if _, seen := orgs[key]; !seen && key != "" {
		orgs[key] = RefKey(l.organization(ctx, org))
	}
	it.org = orgs[key]
	return it, true
}
