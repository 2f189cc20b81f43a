package ledger

import (
	"context"
	"encoding/base64"
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

// PendingPage is one page of an organisation's pending actions.
type PendingPage struct {
	// Tasks are the open obligations and the other Tasks still to be done, oldest due first (those without a due
	// date last), ties in id order.
	Tasks []fhir.Resource
	// Next is the cursor of the following page; empty on the last.
	Next string
	// Total counts every pending action of the owners, on all pages.
	Total int
}

// Pending returns a page of count pending actions (an open obligation, or a Task in an active status) owned by any
// of owners (a reference "Organization/<id>", or an identifier "system|value"), oldest due first, starting after
// cursor (from a previous page's Next; empty for the first page). A cursor that is not one of Next's is an error of
// code invalid naming _cursor. A restriction in ctx (store.WithRestriction, the caller's organisation scoping)
// leaves out the Tasks it does not let through, from the page and from the total.
func (l *Ledger) Pending(ctx context.Context, owners []string, count int, cursor string) (PendingPage, error) {
	if err := l.Flush(ctx); err != nil {
		return PendingPage{}, err
	}
	after, err := decodePendingCursor(cursor)
	if err != nil {
		return PendingPage{}, err
	}
	values := make([]any, len(owners))
	for i, o := range owners {
		values[i] = o
	}
	conds := []store.Cond{{Field: FieldPendingOwner, Op: store.OpEq, Values: values}}
	if r := store.RestrictionFrom(ctx); r != nil {
		conds = append(conds, r("Task")...)
	}
	page, err := l.st.Find(ctx, "Task", store.Query{
		Conds:      conds,
		Sort:       []store.SortKey{{Field: FieldPendingDue}},
		Count:      count + 1,
		After:      after,
		Fields:     []string{FieldPendingDue},
		CountTotal: true,
	})
	if err != nil {
		return PendingPage{}, fmt.Errorf("find the pending actions of %s: %w", strings.Join(owners, ", "), err)
	}
	out := PendingPage{Tasks: page.Resources, Total: page.Total}
	if len(out.Tasks) > count {
		out.Tasks = out.Tasks[:count]
		last := out.Tasks[count-1]
		due, _ := page.Fields[count-1][FieldPendingDue].(time.Time)
		out.Next = encodePendingCursor(due, last.ID)
	}
	return out, nil
}

// encodePendingCursor is the cursor of the page after the Task id due at due.
func encodePendingCursor(due time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(due.UTC().Format(time.RFC3339Nano) + " " + id))
}

// decodePendingCursor returns the position a cursor of encodePendingCursor names; nil for none.
func decodePendingCursor(cursor string) (*store.Position, error) {
	if cursor == "" {
		return nil, nil
	}
	bad := fhir.Errorf(fhir.IssueInvalid, "_cursor", "the _cursor is not one of this operation's page links")
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(b), " ")
	due, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || !fhir.ValidID(id) {
		return nil, bad
	}
	return &store.Position{Values: []any{due}, ID: id}, nil
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
