package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/internal/store"
)

// odsSystem is the identifier system of ODS organisation codes.
const odsSystem = "https://fhir.nhs.uk/Id/ods-organization-code"

// Page sizes of $pending-actions.
const (
	defaultPendingCount = 50
	maxPendingCount     = 1000
)

// pendingActions serves GET /Organization/{id}/$pending-actions: the organisation's open obligations and its other
// Tasks still to be done (owned by a reference to the Organization or by its ODS code), oldest due first, with the
// resources they concern included, as a searchset Bundle paged by _count and _cursor. The caller must act for the
// organisation (or be an administrator).
func (a *API) pendingActions(q *request) (*response, error) {
	if q.c.Request.Method != http.MethodGet {
		return nil, &statusError{status: http.StatusMethodNotAllowed, msg: "$pending-actions is read with GET"}
	}
	if err := onlyParams(q, "_count", "_cursor"); err != nil {
		return nil, err
	}
	if v, ok := q.c.GetQuery("_cursor"); ok && v == "" {
		return nil, badParam("_cursor", "the _cursor is not one of this operation's page links")
	}
	count := defaultPendingCount
	if v, ok := q.c.GetQuery("_count"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPendingCount {
			return nil, badParam("_count", fmt.Sprintf("_count must be a whole number from 1 to %d", maxPendingCount))
		}
		count = n
	}
	id := q.c.Param("id")
	if !fhir.ValidID(id) {
		return nil, badParam("id", "the organisation id is not a valid id")
	}
	if p, ok := auth.PrincipalFrom(q.ctx); ok {
		if err := p.Check("Task", auth.InteractionSearch); err != nil { // the actions are Tasks
			return nil, err
		}
	}
	org := "Organization/" + id
	codes, err := a.actsFor(q.ctx, id)
	if err != nil {
		return nil, err
	}
	owners := []string{org}
	for _, c := range codes {
		owners = append(owners, odsSystem+"|"+c)
	}
	visible, err := a.svc.VisibleContext(q.ctx)
	if err != nil {
		return nil, err
	}
	page, err := a.opts.Ledger.Pending(visible, owners, count, q.c.Query("_cursor"))
	if err != nil {
		return nil, err
	}
	entries := make([]any, 0, len(page.Tasks))
	for _, t := range page.Tasks {
		audit.Touch(q.ctx, t.Type+"/"+t.ID+"/_history/"+t.VersionID)
		entries = append(entries, searchEntry(q.base, t, "match"))
	}
	for _, ref := range ledger.Concerned(page.Tasks) {
		typ, rid, _ := strings.Cut(ref, "/")
		if r, err := a.svc.Read(q.ctx, typ, rid); err == nil {
			entries = append(entries, searchEntry(q.base, r, "include"))
		}
	}
	self := url.Values{"_count": {strconv.Itoa(count)}}
	if c := q.c.Query("_cursor"); c != "" {
		self.Set("_cursor", c)
	}
	links := []any{map[string]any{"relation": "self", "url": q.base + "/" + org + "/$pending-actions?" + self.Encode()}}
	if page.Next != "" {
		next := url.Values{"_count": {strconv.Itoa(count)}, "_cursor": {page.Next}}
		links = append(links, map[string]any{"relation": "next", "url": q.base + "/" + org + "/$pending-actions?" + next.Encode()})
	}
	return bundleResponse(map[string]any{
		"resourceType": "Bundle", "type": "searchset", "total": page.Total, "link": links, "entry": entries,
	})
}

// actsFor checks that the caller may see the pending actions of Organization/id — an administrator, or a client
// acting for one of the organisation's ODS codes — and returns the organisation's ODS codes the caller acts for
// (all of them for an administrator). Analysts read the ledger, not pending actions.
func (a *API) actsFor(ctx context.Context, id string) ([]string, error) {
	p, ok := auth.PrincipalFrom(ctx)
	switch {
	case !ok:
		return nil, fhir.Errorf(fhir.IssueLogin, "", "the request is not authenticated")
	case p.Role == auth.RoleAnalyst && !p.Unrestricted:
		return nil, fhir.Errorf(fhir.IssueForbidden, "", "analysts read the ledger and compliance views, not pending actions")
	}
	allowed := p.Unrestricted || p.Role == auth.RoleAdmin
	r, err := a.svc.Read(ctx, "Organization", id)
	if allowed && (errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrGone)) {
		return nil, nil // obligations may name an organisation not (or no longer) stored
	}
	if err != nil {
		return nil, err
	}
	obj, err := fhir.DecodeObject(r.JSON, fhir.MaxDepth)
	if err != nil {
		return nil, err
	}
	var codes []string
	ids, _ := obj["identifier"].([]any)
	for _, i := range ids {
		m, _ := i.(map[string]any)
		code, _ := m["value"].(string)
		if m["system"] != odsSystem || code == "" {
			continue
		}
		if p.ActsFor(code) || p.Unrestricted || p.Role == auth.RoleAdmin {
			codes = append(codes, code) // a client's pending actions are those of the codes it acts for
		}
		allowed = allowed || p.ActsFor(code)
	}
	if !allowed {
		return nil, fhir.Errorf(fhir.IssueForbidden, "", "client %q does not act for Organization/%s", p.ClientID, id)
	}
	return codes, nil
}
