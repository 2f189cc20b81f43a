package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/internal/store"
)

// odsSystem is the identifier system of ODS organisation codes.
const odsSystem = "https://fhir.nhs.uk/Id/ods-organization-code"

// activeTaskStatuses are the statuses of a Task still to be done.
const activeTaskStatuses = "draft,requested,received,accepted,ready,in-progress,on-hold"

// pendingActions serves GET /Organization/{id}/$pending-actions: the organisation's open obligations and its other
// Tasks still to be done, oldest due first, with the resources they concern included, as a searchset Bundle. The
// caller must act for the organisation (or be an administrator).
func (a *API) pendingActions(q *request) (*response, error) {
	if q.c.Request.Method != http.MethodGet {
		return nil, &statusError{status: http.StatusMethodNotAllowed, msg: "$pending-actions is read with GET"}
	}
	if err := onlyParams(q); err != nil {
		return nil, err
	}
	id := q.c.Param("id")
	if !fhir.ValidID(id) {
		return nil, badParam("id", "the organisation id is not a valid id")
	}
	org := "Organization/" + id
	if err := a.actsFor(q.ctx, id); err != nil {
		return nil, err
	}
	tasks, err := a.opts.Ledger.Pending(q.ctx, org)
	if err != nil {
		return nil, err
	}
	others, issues := a.clientTasks(q.ctx, org)
	seen := map[string]bool{}
	for _, t := range tasks {
		seen[t.ID] = true
	}
	for _, t := range others {
		if !seen[t.ID] {
			tasks = append(tasks, t)
		}
	}
	ledger.SortByDue(tasks)
	entries := make([]any, 0, len(tasks))
	for _, t := range tasks {
		entries = append(entries, searchEntry(q.base, t, "match"))
	}
	for _, ref := range ledger.Concerned(tasks) {
		typ, rid, _ := strings.Cut(ref, "/")
		if r, err := a.svc.Read(q.ctx, typ, rid); err == nil {
			entries = append(entries, searchEntry(q.base, r, "include"))
		}
	}
	if len(issues) > 0 {
		entries = append(entries, map[string]any{"resource": fhir.OperationOutcome(issues), "search": map[string]any{"mode": "outcome"}})
	}
	return bundleResponse(map[string]any{
		"resourceType": "Bundle", "type": "searchset", "total": len(tasks),
		"link":  []any{map[string]any{"relation": "self", "url": q.base + "/" + org + "/$pending-actions"}},
		"entry": entries,
	})
}

// actsFor checks that the caller may see the pending actions of Organization/id: an administrator, or a client
// acting for one of the organisation's ODS codes. Analysts read the ledger, not pending actions.
func (a *API) actsFor(ctx context.Context, id string) error {
	p, ok := auth.PrincipalFrom(ctx)
	switch {
	case !ok:
		return fhir.Errorf(fhir.IssueLogin, "", "the request is not authenticated")
	case p.Unrestricted || p.Role == auth.RoleAdmin:
		return nil
	case p.Role == auth.RoleAnalyst:
		return fhir.Errorf(fhir.IssueForbidden, "", "analysts read the ledger and compliance views, not pending actions")
	}
	r, err := a.svc.Read(ctx, "Organization", id)
	if err != nil {
		return err
	}
	obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
	if err != nil {
		return err
	}
	ids, _ := obj["identifier"].([]any)
	for _, i := range ids {
		m, _ := i.(map[string]any)
		if code, _ := m["value"].(string); m["system"] == odsSystem && p.ActsFor(code) {
			return nil
		}
	}
	return fhir.Errorf(fhir.IssueForbidden, "", "client %q does not act for Organization/%s", p.ClientID, id)
}

// clientTasks returns the organisation's other Tasks still to be done, through the search of Task by owner and
// status; when that search is not available it returns none, with a warning saying so.
func (a *API) clientTasks(ctx context.Context, org string) ([]fhir.Resource, []fhir.Issue) {
	page, err := a.svc.Search(ctx, "Task", url.Values{"owner": {org}, "status": {activeTaskStatuses}, "_count": {"1000"}})
	if err == nil {
		return page.Matches, nil
	}
	var fe *fhir.Error
	if errors.As(err, &fe) || errors.Is(err, store.ErrNotFound) {
		return nil, []fhir.Issue{{Severity: fhir.SeverityWarning, Code: fhir.IssueNotSupported,
			Details: "only the organisation's obligations are listed: the search of Task by owner and status is not available"}}
	}
	a.opts.Logger.Error("pending actions: search of the organisation's Tasks failed", "err", err)
	return nil, []fhir.Issue{{Severity: fhir.SeverityWarning, Code: fhir.IssueException, Details: "the organisation's other Tasks could not be listed"}}
}
