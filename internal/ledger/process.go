package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/fhir/fhirpath"
	"github.com/accord-fhir/accord/internal/store"
)

// maxRounds bounds the rounds of Task writes one batch makes (a round per change of one obligation, plus retries
// after another writer's change).
const maxRounds = 12

// conflictBackoff is how long apply waits after a round in which another writer changed obligations first (its
// write may not have reached the current view yet), doubling each round up to maxConflictBackoff.
const (
	conflictBackoff    = 5 * time.Millisecond
	maxConflictBackoff = 200 * time.Millisecond
)

// process handles a batch of committed versions: first the obligations their triggers open, update or cancel,
// then the resources that came early for the obligations just opened, then the obligations the batch fulfils, then
// the findings; the ledger entries of it all are appended last, in that order.
func (l *Ledger) process(ctx context.Context, events []*event) error {
	all := events
	events, _ = splitFindingsOnly(events)
	events = l.latest(events)
	if len(events) == 0 && !anyFindings(all) {
		return nil
	}
	b := &batch{l: l, known: map[string]*Obligation{}, resources: map[string]fhir.Object{}}
	for _, ev := range events {
		if ev.obj != nil {
			b.resources[ev.ref()] = ev.obj
		}
	}
	var ds []decision
	for _, ev := range events {
		for _, r := range l.pack.byTrigger[ev.typ] {
			if d, ok := b.triggerDecision(ctx, r, ev); ok {
				ds = append(ds, d)
			}
		}
	}
	if err := b.apply(ctx, ds); err != nil {
		return err
	}
	ds, err := b.earlyDecisions(ctx)
	if err != nil {
		return err
	}
	for _, ev := range events {
		for _, fr := range l.pack.byFulfil[ev.typ] {
			ds = append(ds, b.fulfilDecisions(ctx, fr, ev)...)
		}
	}
	wd, err := b.withdrawalDecisions(ctx, events)
	if err != nil {
		return err
	}
	ds = append(ds, wd...)
	if err := b.apply(ctx, ds); err != nil {
		return err
	}
	for _, ev := range events {
		b.findings(ctx, ev)
		if err := b.withdrawals(ctx, ev); err != nil {
			return err
		}
	}
	for _, ev := range all { // every version's, also those latest left out
		b.validationFindings(ctx, ev)
	}
	if _, err := l.ls.Append(ctx, b.entries); err != nil {
		return fmt.Errorf("append %d ledger entries: %w", len(b.entries), err)
	}
	for _, ev := range events {
		l.recent.put(ev.ref(), ev.vid)
	}
	return nil
}

// latest keeps one event per resource, its newest version, and drops versions older than one already processed
// (two commits of one resource may be queued out of order).
func (l *Ledger) latest(events []*event) []*event {
	byRef := map[string]*event{}
	var order []string
	for _, ev := range events {
		prev, seen := byRef[ev.ref()]
		if !seen {
			order = append(order, ev.ref())
		}
		if !seen || vnum(ev.vid) > vnum(prev.vid) {
			byRef[ev.ref()] = ev
		}
	}
	out := make([]*event, 0, len(order))
	for _, ref := range order {
		ev := byRef[ref]
		if !ev.fromRecovery && vnum(ev.vid) < l.recent.get(ref) {
			continue
		}
		out = append(out, ev)
	}
	return out
}

func vnum(vid string) int {
	n, _ := strconv.Atoi(vid)
	return n
}

// batch is the processing of one batch: the obligations known so far and the entries to append.
type batch struct {
	l         *Ledger
	known     map[string]*Obligation // by Task id; a nil value means known to be absent
	resources map[string]fhir.Object // by "Type/id": the batch's resources and those read
	opened    []string               // obligations opened (or reopened) by this batch
	entries   []Entry
}

// decision is a change to consider for one obligation: decide returns its next state given its current state (nil
// when absent), or nil for no change. absent, when set, runs when the obligation does not exist.
type decision struct {
	id           string
	assumeAbsent bool
	decide       func(cur *Obligation) *Obligation
	absent       func(ctx context.Context) error
}

// apply writes the changes that decisions make, one change per obligation per round, retrying the decisions
// whose obligation another writer changed meanwhile.
func (b *batch) apply(ctx context.Context, ds []decision) error {
	for round := 0; len(ds) > 0; round++ {
		if round == maxRounds {
			return fmt.Errorf("obligations still changing after %d rounds: %w", maxRounds, store.ErrConflict)
		}
		var writes []store.Write
		var planned []*Obligation
		var owners, next []decision
		touched := map[string]bool{}
		for _, d := range ds {
			if touched[d.id] {
				next = append(next, d)
				continue
			}
			o, err := b.decide(ctx, d, round == 0)
			if err != nil {
				return err
			}
			if o == nil {
				continue
			}
			touched[d.id] = true
			w := store.Write{Type: "Task", ID: d.id, Object: o.Task(), Method: "PUT", IfMatch: o.VersionID, New: o.VersionID == ""}
			writes, planned, owners = append(writes, w), append(planned, o), append(owners, d)
		}
		errs := b.l.ls.CommitTasks(ctx, writes)
		conflicted := false
		for i, err := range errs {
			o := planned[i]
			switch {
			case err == nil:
				vid := o.nextVersion()
				b.entries = append(b.entries, o.entry(vid))
				o.VersionID = vid
				b.known[o.ID] = o
				if o.Change == ChangeOpened {
					b.opened = append(b.opened, o.ID)
				}
			case errors.Is(err, store.ErrConflict):
				delete(b.known, o.ID)
				next, conflicted = append(next, owners[i]), true
			default:
				return fmt.Errorf("write obligation %s: %w", o.ID, err)
			}
		}
		ds = next
		if conflicted {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(min(conflictBackoff<<round, maxConflictBackoff)):
			}
		}
	}
	return nil
}

// decide reads the obligation of d (unless known, or assumed absent in the first round) and applies d.
func (b *batch) decide(ctx context.Context, d decision, first bool) (*Obligation, error) {
	cur, err := b.current(ctx, d.id, d.assumeAbsent && first)
	if err != nil {
		return nil, err
	}
	if cur == nil && d.absent != nil {
		if err := d.absent(ctx); err != nil {
			return nil, err
		}
		// Read again: the obligation may have opened meanwhile, and its opener may have looked for early
		// resources before this one was recorded.
		delete(b.known, d.id)
		if cur, err = b.current(ctx, d.id, false); err != nil || cur == nil {
			return nil, err
		}
	}
	if cur != nil && cur.Rule == nil {
		return nil, nil // a Task of a rule the pack no longer has
	}
	next := d.decide(cur)
	if next != nil && cur != nil {
		next.VersionID = cur.VersionID
	}
	return next, nil
}

// current returns the obligation id as stored (nil when absent).
func (b *batch) current(ctx context.Context, id string, assumeAbsent bool) (*Obligation, error) {
	if o, ok := b.known[id]; ok {
		return o.clone(), nil
	}
	if assumeAbsent {
		return nil, nil
	}
	r, err := b.l.st.Read(ctx, "Task", id)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrGone):
		b.known[id] = nil
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read obligation %s: %w", id, err)
	}
	obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
	if err != nil {
		return nil, fmt.Errorf("decode obligation %s: %w", id, err)
	}
	o, ok := b.l.pack.parseObligation(obj, r.VersionID)
	if !ok {
		return &Obligation{ID: id, VersionID: r.VersionID}, nil
	}
	b.known[id] = o
	return o.clone(), nil
}

func (o *Obligation) clone() *Obligation {
	if o == nil {
		return nil
	}
	c := *o
	return &c
}

// terms are what an obligation's trigger says: when its time runs from and when it falls due (given when the
// obligation opened), accountable party, patient, and to whom it is owed.
type terms struct {
	window                 func(opened time.Time) (from, due time.Time)
	owner, patient, owedTo fhir.Object
}

// triggerDecision is what a trigger version means for rule r's obligation: open it (again) when the condition
// holds, update its terms, or cancel it when the condition no longer holds or the trigger was deleted.
func (b *batch) triggerDecision(ctx context.Context, r *Rule, ev *event) (decision, bool) {
	applies := false
	if ev.obj != nil {
		ok, err := b.l.pack.holds(r.Trigger.Condition, ev.obj)
		if err != nil {
			b.l.opts.Logger.Warn("ledger: trigger condition failed", "rule", r.ID, "resource", ev.ref(), "err", err)
			return decision{}, false
		}
		applies = ok
	}
	if !applies && ev.created {
		return decision{}, false // nothing to open, and nothing can be open yet
	}
	id := ObligationID(r.ID, ev.ref())
	var t terms
	if applies {
		var err error
		if t, err = b.terms(ctx, r, ev.obj); err != nil {
			b.l.opts.Logger.Warn("ledger: obligation terms failed", "rule", r.ID, "resource", ev.ref(), "err", err)
			return decision{}, false
		}
	}
	return decision{id: id, assumeAbsent: ev.created && !ev.fromRecovery, decide: func(cur *Obligation) *Obligation {
		if cur != nil && vnum(ev.vid) < vnum(cur.TriggerVersion) {
			return nil // an older version of the trigger than the obligation reflects
		}
		switch {
		case applies && t.owner == nil && (cur == nil || cur.State == StateCancelled):
			// Nobody to hold to account (the profiles refuse such a trigger unless the clause is a warning, which
			// the ledger then records as a finding): no obligation that is nobody's pending action.
			b.l.opts.Logger.Warn("ledger: no accountable organisation: no obligation opened", "rule", r.ID, "resource", ev.ref())
			return nil
		case applies && (cur == nil || cur.State == StateCancelled):
			return b.open(r, id, ev, t)
		case applies && cur.State == StateOpen:
			return b.update(cur, ev, t)
		case !applies && cur != nil && cur.State == StateOpen:
			return change(cur, ev, StateCancelled, ChangeCancelled)
		}
		return nil
	}}, true
}

// terms evaluates rule r's due time, accountable organisation, patient and party owed on trigger obj. A due
// expression that gives no date (or fails) counts from the opening.
func (b *batch) terms(ctx context.Context, r *Rule, obj fhir.Object) (terms, error) {
	p := b.l.pack
	var t terms
	t.window = func(opened time.Time) (time.Time, time.Time) {
		from, ok, err := p.instant(r.DueFrom, obj, openedVar(opened))
		if err != nil || !ok {
			from = opened
		}
		return from.UTC(), r.DueAfter.AddTo(from).UTC()
	}
	owner, err := p.reference(r.Accountable, obj)
	if err != nil {
		return t, err
	}
	t.owner = b.l.organization(ctx, owner)
	if t.patient, err = p.reference(r.Patient, obj); err != nil {
		return t, err
	}
	t.owedTo, err = p.reference(r.OwedTo, obj)
	return t, err
}

// open is a new (or reopened) obligation of rule r on the trigger of ev.
func (b *batch) open(r *Rule, id string, ev *event, t terms) *Obligation {
	from, due := t.window(ev.time)
	return &Obligation{
		ID: id, Rule: r, Clause: r.Clause, Trigger: ev.ref(), TriggerVersion: ev.vid,
		Patient: t.patient, Owner: t.owner, OwedTo: t.owedTo, State: StateOpen, From: from, Due: due, Opened: ev.time,
		Change: ChangeOpened, Event: ev.versionRef(), EventTime: ev.time, Actor: ev.actor, packURL: b.l.pack.URL,
	}
}

// update changes an open obligation's terms when its trigger changed them; no change otherwise.
func (b *batch) update(cur *Obligation, ev *event, t terms) *Obligation {
	from, due := t.window(cur.Opened)
	if t.owner == nil { // the trigger no longer names one: the obligation stays with the organisation it was opened for
		t.owner = cur.Owner
	}
	if cur.Due.Equal(due) && RefKey(cur.Owner) == RefKey(t.owner) && RefKey(cur.Patient) == RefKey(t.patient) &&
		RefKey(cur.OwedTo) == RefKey(t.owedTo) {
		return nil
	}
	next := change(cur, ev, StateOpen, ChangeUpdated)
	next.From, next.Due, next.Owner, next.Patient, next.OwedTo, next.TriggerVersion = from, due, t.owner, t.patient, t.owedTo, ev.vid
	return next
}

// change is cur moved to state by the event ev.
func change(cur *Obligation, ev *event, state, what string) *Obligation {
	next := cur.clone()
	next.State, next.Change = state, what
	next.Event, next.EventTime, next.Actor = ev.versionRef(), ev.time, ev.actor
	if ev.typ == cur.Rule.Trigger.Type && ev.ref() == cur.Trigger {
		next.TriggerVersion = ev.vid
	}
	if state != StateOpen {
		next.Closed = ev.time
	} else {
		next.Closed = time.Time{}
	}
	return next
}

// fulfilDecisions are the obligations of rule fr.rule that ev (a possible fulfilment) fulfils: one per trigger
// it references. An obligation that does not exist yet gets ev recorded as an early fulfilment.
func (b *batch) fulfilDecisions(ctx context.Context, fr fulfilRef, ev *event) []decision {
	if ev.obj == nil {
		return nil
	}
	if !usesTrigger(fr.f.Condition) && !b.fulfils(ctx, fr, ev.obj, "") {
		return nil // it fulfils nothing of this rule: nothing to look up or to record
	}
	refs, err := b.l.pack.references(fr.f.Trigger, ev.obj)
	if err != nil {
		b.l.opts.Logger.Warn("ledger: fulfilment trigger failed", "rule", fr.rule.ID, "resource", ev.ref(), "err", err)
		return nil
	}
	var ds []decision
	for _, ref := range refs {
		trigger := relative(RefKey(ref))
		if !strings.HasPrefix(trigger, fr.rule.Trigger.Type+"/") {
			continue
		}
		id := ObligationID(fr.rule.ID, trigger)
		ds = append(ds, decision{
			id: id,
			decide: func(cur *Obligation) *Obligation {
				if cur == nil || (cur.State != StateOpen && cur.State != StateBreached) || !b.fulfils(ctx, fr, ev.obj, trigger) {
					return nil
				}
				return change(cur, ev, StateFulfilled, ChangeFulfilled)
			},
			absent: func(ctx context.Context) error {
				if err := b.l.ls.PutEarly(ctx, Early{Obligation: id, Ref: ev.ref(), Version: ev.vid, Time: ev.time, Actor: ev.actor}); err != nil {
					return fmt.Errorf("record early fulfilment of %s: %w", id, err)
				}
				return nil
			},
		})
	}
	return ds
}

// withdrawalDecisions reopens the obligations the events' resources fulfilled when their versions no longer
// fulfil them: deleted, entered in error or cancelled (their rule's condition no longer holds), or no longer about
// the trigger. One query finds the obligations of all the events that may fulfil any.
func (b *batch) withdrawalDecisions(ctx context.Context, events []*event) ([]decision, error) {
	byRef := map[string]*event{}
	var refs []any
	for _, ev := range events {
		if len(b.l.pack.byFulfil[ev.typ]) > 0 {
			byRef[ev.ref()] = ev
			refs = append(refs, ev.ref())
		}
	}
	if len(refs) == 0 {
		return nil, nil
	}
	page, err := b.l.st.Find(ctx, "Task", store.Query{
		Conds: []store.Cond{{Field: FieldFulfilledBy, Op: store.OpEq, Values: refs}}, Fields: []string{FieldFulfilledBy}})
	if err != nil {
		return nil, fmt.Errorf("find the obligations %d resources fulfilled: %w", len(refs), err)
	}
	var ds []decision
	for i, r := range page.Resources {
		ref, _ := page.Fields[i][FieldFulfilledBy].(string)
		ev := byRef[ref]
		if ev == nil {
			continue
		}
		id := r.ID
		ds = append(ds, decision{id: id, decide: func(cur *Obligation) *Obligation {
			if cur == nil || cur.State != StateFulfilled || !strings.HasPrefix(cur.Event, ev.ref()+"/") || b.stillFulfils(ctx, cur, ev) {
				return nil
			}
			return change(cur, ev, StateOpen, ChangeReopened)
		}})
	}
	return ds, nil
}

// stillFulfils reports whether ev's resource, which fulfilled cur, still does: it exists, refers to cur's trigger
// and meets the condition of one of the fulfilments of cur's rule for its type.
func (b *batch) stillFulfils(ctx context.Context, cur *Obligation, ev *event) bool {
	if ev.obj == nil {
		return false
	}
	for i := range cur.Rule.FulfilledBy {
		fr := fulfilRef{rule: cur.Rule, f: &cur.Rule.FulfilledBy[i]}
		if fr.f.Type != ev.typ {
			continue
		}
		refs, err := b.l.pack.references(fr.f.Trigger, ev.obj)
		if err != nil {
			continue
		}
		for _, ref := range refs {
			if relative(RefKey(ref)) == cur.Trigger && b.fulfils(ctx, fr, ev.obj, cur.Trigger) {
				return true
			}
		}
	}
	return false
}

// fulfils reports whether obj meets fr's condition for the trigger resource.
func (b *batch) fulfils(ctx context.Context, fr fulfilRef, obj fhir.Object, trigger string) bool {
	x := fr.f.Condition
	if x == nil {
		return true
	}
	var extra []fhirpath.Option
	if usesTrigger(x) {
		t := b.resource(ctx, trigger)
		if t == nil {
			return false
		}
		extra = append(extra, triggerVar(t), patientVar(b.triggerPatient(ctx, fr.rule, t)))
	}
	ok, err := b.l.pack.holds(x, obj, extra...)
	if err != nil {
		b.l.opts.Logger.Warn("ledger: fulfilment condition failed", "rule", fr.rule.ID, "err", err)
	}
	return ok
}

// usesTrigger reports whether a condition refers to %trigger or %patient (and so needs the trigger resource).
func usesTrigger(x *fhirpath.Expr) bool {
	return x != nil && (strings.Contains(x.String(), "%trigger") || strings.Contains(x.String(), "%patient"))
}

// triggerPatient returns the stored Patient that rule r's patient expression names on trigger, nil when it names
// none by a relative reference or the Patient is not stored.
func (b *batch) triggerPatient(ctx context.Context, r *Rule, trigger fhir.Object) fhir.Object {
	ref, err := b.l.pack.reference(r.Patient, trigger)
	if err != nil || ref == nil {
		return nil
	}
	id, ok := strings.CutPrefix(relative(str(ref["reference"])), "Patient/")
	if !ok || !fhir.ValidID(id) {
		return nil
	}
	return b.resource(ctx, "Patient/"+id)
}

// resource returns the current content of ref, from the batch or the store; nil when it cannot be read.
func (b *batch) resource(ctx context.Context, ref string) fhir.Object {
	if obj, ok := b.resources[ref]; ok {
		return obj
	}
	typ, id, _ := strings.Cut(ref, "/")
	r, err := b.l.st.Read(ctx, typ, id)
	var obj fhir.Object
	if err == nil {
		obj, _ = fhir.DecodeObject(r.JSON, fhir.MaxDepth)
	}
	b.resources[ref] = obj
	return obj
}

// earlyDecisions fulfils the obligations this batch opened with the resources that came before them.
func (b *batch) earlyDecisions(ctx context.Context) ([]decision, error) {
	if len(b.opened) == 0 {
		return nil, nil
	}
	early, err := b.l.ls.Early(ctx, b.opened)
	if err != nil {
		return nil, fmt.Errorf("read early fulfilments: %w", err)
	}
	var ds []decision
	for _, e := range early {
		o := b.known[e.Obligation]
		obj := b.resource(ctx, e.Ref)
		if o == nil || obj == nil {
			continue
		}
		typ, id, _ := strings.Cut(e.Ref, "/")
		ev := &event{typ: typ, id: id, vid: e.Version, time: e.Time, obj: obj, actor: e.Actor}
		for i := range o.Rule.FulfilledBy {
			fr := fulfilRef{rule: o.Rule, f: &o.Rule.FulfilledBy[i]}
			if fr.f.Type != typ {
				continue
			}
			for _, d := range b.fulfilDecisions(ctx, fr, ev) {
				if d.id == o.ID {
					d.absent = nil
					ds = append(ds, d)
				}
			}
		}
	}
	if err := b.l.ls.DeleteEarly(ctx, b.opened, time.Time{}); err != nil {
		return nil, fmt.Errorf("remove early fulfilments: %w", err)
	}
	return ds, nil
}

// findings records the findings ev is: one entry per finding rule whose condition holds, once per resource.
func (b *batch) findings(ctx context.Context, ev *event) {
	if ev.obj == nil {
		return
	}
	p := b.l.pack
	for _, fr := range p.byFinding[ev.typ] {
		ok, err := p.holds(fr.Trigger.Condition, ev.obj)
		if err != nil {
			b.l.opts.Logger.Warn("ledger: finding condition failed", "rule", fr.ID, "resource", ev.ref(), "err", err)
		}
		if !ok {
			continue
		}
		clause := p.clauseOf(fr, ev.obj)
		acc, _ := p.reference(fr.Accountable, ev.obj)
		b.entries = append(b.entries, Entry{
			Key: "finding/" + fr.ID + "/" + ev.ref(), Time: ev.time, Clause: clause, Rule: fr.ID, Event: ev.versionRef(),
			Organization: RefKey(b.l.organization(ctx, acc)), Change: fr.Change, State: fr.Change, Actor: ev.actor,
			Patient: PatientKey(firstReference(ev.obj, patientElements)),
		})
	}
}

// withdrawals records the findings that ev's resource was as withdrawn when it is deleted or entered in error.
func (b *batch) withdrawals(ctx context.Context, ev *event) error {
	rules := b.l.pack.byFinding[ev.typ]
	if len(rules) == 0 || (ev.obj != nil && str(ev.obj["status"]) != "entered-in-error") {
		return nil
	}
	keys := make([]string, len(rules))
	for i, fr := range rules {
		keys[i] = "finding/" + fr.ID + "/" + ev.ref()
	}
	recorded, err := b.l.ls.Entries(ctx, EntryQuery{Keys: keys})
	if err != nil {
		return fmt.Errorf("find the findings of %s: %w", ev.ref(), err)
	}
	for _, e := range recorded {
		b.entries = append(b.entries, Entry{
			Key: e.Key + "/" + ChangeWithdrawn, Time: ev.time, Clause: e.Clause, Rule: e.Rule, Event: ev.versionRef(),
			Organization: e.Organization, Change: ChangeWithdrawn, State: ChangeWithdrawn, Actor: ev.actor, Patient: e.Patient,
		})
	}
	return nil
}

// relative cuts an absolute reference (https://…/Encounter/e1) to "Encounter/e1".
func relative(ref string) string {
	ref, _, _ = strings.Cut(ref, "/_history/")
	parts := strings.Split(ref, "/")
	if len(parts) <= 2 {
		return ref
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

func anyFindings(events []*event) bool {
	for _, ev := range events {
		if len(ev.findings) > 0 {
			return true
		}
	}
	return false
}

// splitFindingsOnly separates the events replayed only for their validation findings.
func splitFindingsOnly(events []*event) (rest, only []*event) {
	for _, ev := range events {
		if ev.findingsOnly {
			only = append(only, ev)
		} else {
			rest = append(rest, ev)
		}
	}
	return rest, only
}

// findingOrganizations are the elements, in order, whose organisation is accountable for a resource's validation
// findings: the one that sent, requested, performed or authored it.
var findingOrganizations = []string{"sender", "requester", "performer", "serviceProvider", "author", "owner", "managingOrganization", "providedBy", "organization"}

// validationFindings records ev's validation warnings (Consensus rules at warning level), one entry per clause and
// version, against the organisation accountable for the resource; clauses the rule pack already records as
// findings of the type are left to the pack, so that nothing is counted twice.
func (b *batch) validationFindings(ctx context.Context, ev *event) {
	seen := map[string]bool{}
	for _, is := range ev.findings {
		if is.Clause == "" || seen[is.Clause] || b.l.pack.findsClause(ev.typ, is.Clause) {
			continue
		}
		seen[is.Clause] = true
		var org, patient fhir.Object
		if ev.obj != nil {
			org = b.l.organization(ctx, firstReference(ev.obj, findingOrganizations))
			patient = firstReference(ev.obj, patientElements)
		}
		b.entries = append(b.entries, Entry{
			Key: "finding/validation/" + is.Clause + "/" + ev.versionRef(), Time: ev.time, Clause: is.Clause, Rule: "validation",
			Event: ev.versionRef(), Organization: RefKey(org), Change: ChangeBreached, State: ChangeBreached, Actor: ev.actor,
			Patient: PatientKey(patient),
		})
	}
}

// firstReference returns the first Reference found in obj's elements, in order (the first of a list).
func firstReference(obj fhir.Object, elements []string) fhir.Object {
	for _, name := range elements {
		v := obj[name]
		if list, ok := v.([]any); ok && len(list) > 0 {
			v = list[0]
		}
		if m, ok := v.(map[string]any); ok && RefKey(m) != "" {
			return m
		}
	}
	return nil
}
