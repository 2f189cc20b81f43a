package ledger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// MinGroup is the fewest referrals a published waiting-time group may have: smaller groups are suppressed, so
// that no patient can be singled out.
const MinGroup = 5

// waitsTTL is how long computed waiting times are served before being computed again.
const waitsTTL = 5 * time.Minute

// ErrNoWaitingTimes is returned when the rule pack defines no waiting times.
var ErrNoWaitingTimes = errors.New("the rule pack defines no waiting times")

// Waits are the waiting times of the referrals received in [From, To): per provider and service, the median and
// 90th percentile days from receipt to the first appointment, for groups of at least MinGroup referrals.
type Waits struct {
	From, To   time.Time
	Groups     []WaitGroup
	Suppressed int // groups left out for having fewer than MinGroup referrals
	Computed   time.Time
}

// WaitGroup is the waiting times of one provider and service.
type WaitGroup struct {
	Provider, ProviderName, Service string
	Referrals                       int
	MedianDays, P90Days             float64
}

// WaitingTimes computes the public waiting times (clause 6.4) from the data: a referral is received when the pack's
// waiting-time obligation opened on it, its provider is that obligation's accountable organisation, and its first
// appointment the earliest start of the appointments based on it. Results are kept for five minutes.
func (l *Ledger) WaitingTimes(ctx context.Context, from, to time.Time) (Waits, error) {
	wt := l.pack.WaitingTimes
	if wt == nil {
		return Waits{}, ErrNoWaitingTimes
	}
	now := l.opts.Clock()
	key := "waits|" + from.UTC().Format(time.RFC3339) + "|" + to.UTC().Format(time.RFC3339)
	if v, ok := l.reports.get(key, now.Add(-waitsTTL)); ok {
		return v.(Waits), nil
	}
	received, err := l.received(ctx, wt, from, to)
	if err != nil {
		return Waits{}, err
	}
	first, err := l.firstAppointments(ctx, wt)
	if err != nil {
		return Waits{}, err
	}
	w := Waits{From: from, To: to, Computed: now}
	for k, ds := range l.waits(ctx, wt, received, first) {
		if len(ds) < MinGroup {
			w.Suppressed++
			continue
		}
		sort.Float64s(ds)
		w.Groups = append(w.Groups, WaitGroup{Provider: k[0], ProviderName: l.name(ctx, k[0]), Service: k[1], Referrals: len(ds),
			MedianDays: round1(percentile(ds, 50)), P90Days: round1(percentile(ds, 90))})
	}
	sort.Slice(w.Groups, func(i, j int) bool {
		a, b := w.Groups[i], w.Groups[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		return a.Service < b.Service
	})
	l.reports.put(key, now, w)
	return w, nil
}

// waits returns the days from receipt to first appointment of the referrals that have one, by provider and
// service.
func (l *Ledger) waits(ctx context.Context, wt *WaitingTimes, received map[string]receipt, first map[string]time.Time) map[[2]string][]float64 {
	days := map[[2]string][]float64{}
	for ref, r := range received {
		start, ok := first[ref]
		if !ok || start.Before(r.at) {
			continue
		}
		service := "unspecified"
		if obj := l.read(ctx, ref); obj != nil {
			if s := l.pack.text(wt.Service, obj); s != "" {
				service = s
			}
		}
		k := [2]string{r.provider, service}
		days[k] = append(days[k], start.Sub(r.at).Hours()/24)
	}
	return days
}

type receipt struct {
	at       time.Time
	provider string
}

// received returns the referrals received in [from, to): when and by whom, by referral reference.
func (l *Ledger) received(ctx context.Context, wt *WaitingTimes, from, to time.Time) (map[string]receipt, error) {
	entries, err := l.Entries(ctx, EntryQuery{Rule: wt.Obligation.ID, Change: ChangeOpened, From: from, To: to})
	if err != nil {
		return nil, err
	}
	out := map[string]receipt{}
	for _, e := range entries {
		ref, _, _ := strings.Cut(e.Event, "/_history/")
		if _, seen := out[ref]; !seen && e.Organization != "" {
			out[ref] = receipt{at: e.Time, provider: e.Organization}
		}
	}
	return out, nil
}

// firstAppointments returns the earliest start of the appointments that count, by the referral they are based on.
func (l *Ledger) firstAppointments(ctx context.Context, wt *WaitingTimes) (map[string]time.Time, error) {
	a := wt.Appointment
	page, err := l.st.Find(ctx, a.Type, store.Query{})
	if err != nil {
		return nil, fmt.Errorf("read appointments: %w", err)
	}
	first := map[string]time.Time{}
	for _, r := range page.Resources {
		obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
		if err != nil {
			continue
		}
		if ok, _ := l.pack.holds(a.Condition, obj); !ok {
			continue
		}
		start, ok, _ := l.pack.instant(a.Start, obj)
		if !ok {
			continue
		}
		refs, _ := l.pack.references(a.Referral, obj)
		for _, ref := range refs {
			key := relative(RefKey(ref))
			if cur, seen := first[key]; !seen || start.Before(cur) {
				first[key] = start
			}
		}
	}
	return first, nil
}

// read returns the current content of ref, nil when it cannot be read.
func (l *Ledger) read(ctx context.Context, ref string) fhir.Object {
	typ, id, ok := strings.Cut(ref, "/")
	if !ok {
		return nil
	}
	r, err := l.st.Read(ctx, typ, id)
	if err != nil {
		return nil
	}
	obj, _ := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
	return obj
}

// name is the name of the organisation ref, or "" when it cannot be read.
func (l *Ledger) name(ctx context.Context, ref string) string {
	if obj := l.read(ctx, ref); obj != nil {
		return str(obj["name"])
	}
	return ""
}

// percentile interpolates linearly between the closest ranks of sorted xs (p from 0 to 100).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 1 {
		return xs[0]
	}
	pos := p / 100 * float64(len(xs)-1)
	lo := int(math.Floor(pos))
	if lo >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[lo] + (pos-float64(lo))*(xs[lo+1]-xs[lo])
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
