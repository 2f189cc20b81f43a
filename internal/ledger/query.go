package ledger

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// Entries returns the entries that match q, in sequence order, after the versions this process committed before
// the call have been processed.
func (l *Ledger) Entries(ctx context.Context, q EntryQuery) ([]Entry, error) {
	if err := l.Flush(ctx); err != nil {
		return nil, err
	}
	return l.ls.Entries(ctx, q)
}

// Verify recomputes the chain of ls and reports its first broken link.
func Verify(ctx context.Context, ls Store) (Verification, error) {
	var c Chain
	if err := ls.Walk(ctx, c.Add); err != nil {
		return c.Result(), err
	}
	return c.Result(), nil
}

// Verify recomputes the ledger's chain and reports its first broken link.
func (l *Ledger) Verify(ctx context.Context) (Verification, error) { return Verify(ctx, l.ls) }

// Now is the ledger's clock.
func (l *Ledger) Now() time.Time { return l.opts.Clock() }

// Pending returns the open obligations owned by the organisation org ("Organization/<id>"), oldest due first.
func (l *Ledger) Pending(ctx context.Context, org string) ([]fhir.Resource, error) {
	if err := l.Flush(ctx); err != nil {
		return nil, err
	}
	page, err := l.st.Find(ctx, "Task", store.Query{
		Conds: []store.Cond{{Field: FieldOwner, Op: store.OpEq, Values: []any{org}}, {Field: FieldState, Op: store.OpEq, Values: []any{StateOpen}}},
		Sort:  []store.SortKey{{Field: FieldDue}},
	})
	if err != nil {
		return nil, fmt.Errorf("find open obligations of %s: %w", org, err)
	}
	return page.Resources, nil
}

// Concerned returns the references ("Type/id") of the resources tasks concern (their focus, for and basedOn),
// each once and none of the tasks themselves.
func Concerned(tasks []fhir.Resource) []string {
	seen := map[string]bool{}
	for _, t := range tasks {
		seen[t.Reference()] = true
	}
	var out []string
	for _, t := range tasks {
		obj, err := fhir.DecodeObject(t.JSON, fhir.MaxDepth)
		if err != nil {
			continue
		}
		refs := append([]any{obj["focus"], obj["for"]}, list(obj["basedOn"])...)
		for _, r := range refs {
			m, _ := r.(map[string]any)
			ref := relative(str(m["reference"]))
			typ, id, ok := strings.Cut(ref, "/")
			if !ok || seen[ref] || !fhir.IsResourceType(typ) || !fhir.ValidID(id) {
				continue
			}
			seen[ref] = true
			out = append(out, ref)
		}
	}
	return out
}

// DueOf returns the due time (restriction.period.end) of a Task, zero when it has none.
func DueOf(t fhir.Resource) time.Time {
	obj, err := fhir.DecodeObject(t.JSON, fhir.MaxDepth)
	if err != nil {
		return time.Time{}
	}
	return parseTime(dig(obj, "restriction", "period", "end"))
}

// SortByDue orders tasks oldest due first; those without a due time go last, by id.
func SortByDue(tasks []fhir.Resource) {
	due := make(map[string]time.Time, len(tasks))
	for _, t := range tasks {
		due[t.ID] = DueOf(t)
	}
	sort.SliceStable(tasks, func(i, j int) bool {
		a, b := due[tasks[i].ID], due[tasks[j].ID]
		switch {
		case a.IsZero() != b.IsZero():
			return !a.IsZero()
		case !a.Equal(b):
			return a.Before(b)
		}
		return tasks[i].ID < tasks[j].ID
	})
}
