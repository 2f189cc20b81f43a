package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/ledger"
)

// ledgerRoutes registers the analysts' ledger API: the entries, the chain's verification, the compliance figures
// and their MeasureReports. Entries are only ever read here: no route changes or deletes them.
func (a *API) ledgerRoutes(r *gin.Engine) {
	g := r.Group("/ledger", a.negotiate)
	a.serve(g, "", methods{http.MethodGet: a.wrap(a.ledgerEntries)})
	a.serve(g, "/$verify", methods{http.MethodGet: a.wrap(a.ledgerVerify)})
	a.serve(g, "/$compliance", methods{http.MethodGet: a.wrap(a.ledgerCompliance)})
	a.serve(g, "/$measure-report", methods{http.MethodGet: a.wrap(a.ledgerMeasureReports)})
	a.serve(g, "/$advice-and-guidance", methods{http.MethodGet: a.wrap(a.ledgerAdvice)})
	a.serve(g, "/:op", nil) // no other operation, whatever the method (404)
}

// maxLedgerCount bounds the page size of GET /ledger.
const maxLedgerCount = 1000

// ledgerReader checks that the caller may read the ledger: analysts and administrators.
func ledgerReader(ctx context.Context) error {
	p, ok := auth.PrincipalFrom(ctx)
	switch {
	case !ok:
		return fhir.Errorf(fhir.IssueLogin, "", "the request is not authenticated")
	case p.Unrestricted || p.Role == auth.RoleAnalyst || p.Role == auth.RoleAdmin:
		return nil
	}
	return fhir.Errorf(fhir.IssueForbidden, "", "the ledger is read by analysts and administrators; client %q is a %s", p.ClientID, p.Role)
}

// onlyParams refuses parameters other than allowed (and _format, _pretty).
func onlyParams(q *request, allowed ...string) error {
	takes := "no parameters"
	if len(allowed) > 0 {
		takes = strings.Join(allowed, ", ")
	}
	for name, values := range q.c.Request.URL.Query() {
		switch {
		case !contains(allowed, name) && name != "_format" && name != "_pretty":
			return badParam(name, "unknown parameter "+truncate(name, 40)+"; this endpoint takes "+takes)
		case len(values) > 1:
			return badParam(name, truncate(name, 40)+" is given more than once: give it once (groupBy lists its values with commas)")
		}
	}
	return nil
}

// ledgerEntries serves GET /ledger: entries filtered by clause, organization, state (the change) and period, in
// sequence order, paged by _count and _cursor (the sequence number to continue after).
func (a *API) ledgerEntries(q *request) (*response, error) {
	if err := ledgerReader(q.ctx); err != nil {
		return nil, err
	}
	if err := onlyParams(q, "clause", "organization", "state", "period", "_count", "_cursor"); err != nil {
		return nil, err
	}
	eq, count, err := a.entryQuery(q)
	if err != nil {
		return nil, err
	}
	entries, err := a.opts.Ledger.Entries(q.ctx, eq)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"count": min(len(entries), count)}
	if len(entries) > count {
		entries = entries[:count]
		next := q.c.Request.URL.Query()
		next.Set("_count", strconv.Itoa(count)) // as served: a larger _count is cut to maxLedgerCount
		next.Set("_cursor", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
		out["next"] = q.base + "/ledger?" + next.Encode()
	}
	patient := a.patientView(q)
	list := make([]any, len(entries))
	for i, e := range entries {
		m := entryJSON(e)
		if p := patient(e.Patient); p != "" {
			m["patient"] = p
		}
		list[i] = m
	}
	out["entries"] = list
	return jsonResponse(http.StatusOK, out)
}

// entryQuery reads the filters of GET /ledger; the query asks for one entry more than the page, to know whether
// there is a next page.
func (a *API) entryQuery(q *request) (ledger.EntryQuery, int, error) {
	var eq ledger.EntryQuery
	count := 100
	if v, ok := q.c.GetQuery("_count"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return eq, 0, badParam("_count", "_count must be a whole number of 1 or more")
		}
		count = min(n, maxLedgerCount)
	}
	if v, ok := q.c.GetQuery("_cursor"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return eq, 0, badParam("_cursor", "_cursor must be the sequence number of an entry")
		}
		eq.After = n
	}
	if v, ok := q.c.GetQuery("clause"); ok {
		if _, known := a.opts.Ledger.Pack().Clauses[v]; !known {
			return eq, 0, badParam("clause", "unknown clause "+strconv.Quote(truncate(v, 20))+": clause ids are those of "+fhir.ClauseSystem)
		}
		eq.Clause = v
	}
	if v, ok := q.c.GetQuery("state"); ok {
		if !slices.Contains(ledger.Changes, v) {
			return eq, 0, badParam("state", "state must be one of "+strings.Join(ledger.Changes, ", "))
		}
		eq.Change = v
	}
	if v, ok := q.c.GetQuery("organization"); ok {
		if v == "" {
			return eq, 0, badParam("organization", "organization must be Organization/<id>, <id>, or <system>|<value>")
		}
		eq.Organizations = a.opts.Ledger.OrganizationKeys(q.ctx, organizationKey(v))
	}
	if v, ok := q.c.GetQuery("period"); ok {
		from, to, err := ledger.ParsePeriod("period", v)
		if err != nil {
			return eq, 0, err
		}
		eq.From, eq.To = from, to
	}
	eq.Count = count + 1
	return eq, count, nil
}

// organizationKey is the ledger's key of an organisation parameter: "Organization/x" for "x".
func organizationKey(v string) string {
	if strings.Contains(v, "/") || strings.Contains(v, "|") {
		return v
	}
	return "Organization/" + v
}

// entryJSON renders a ledger entry.
func entryJSON(e ledger.Entry) map[string]any {
	m := map[string]any{
		"seq": e.Seq, "key": e.Key, "time": e.Time.Format(fhir.InstantFormat), "clause": e.Clause, "rule": e.Rule,
		"event": e.Event, "change": e.Change, "state": e.State, "actor": e.Actor, "prev": e.Prev, "hash": e.Hash,
	}
	if e.Obligation != "" {
		m["obligation"] = e.Obligation
	}
	if e.Organization != "" {
		m["organization"] = e.Organization
	}
	if !e.Due.IsZero() {
		m["due"] = e.Due.Format(fhir.InstantFormat)
	}
	if e.Change == ledger.ChangeFulfilled {
		m["onTime"] = e.OnTime()
	}
	return m
}

// ledgerVerify serves GET /ledger/$verify: the chain recomputed, and its first broken link.
func (a *API) ledgerVerify(q *request) (*response, error) {
	if err := ledgerReader(q.ctx); err != nil {
		return nil, err
	}
	if err := onlyParams(q); err != nil {
		return nil, err
	}
	if err := a.opts.Ledger.Flush(q.ctx); err != nil {
		return nil, err
	}
	v, err := a.opts.Ledger.Verify(q.ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"verified": v.Broken == nil, "entries": v.Entries, "head": v.Head}
	if v.HeadHash != "" {
		out["headHash"] = v.HeadHash
	}
	if v.Broken != nil {
		out["brokenAt"] = map[string]any{"seq": v.Broken.Seq, "reason": v.Broken.Reason}
	}
	return jsonResponse(http.StatusOK, out)
}

// compliancePeriod reads the required period parameter.
func compliancePeriod(q *request) (time.Time, time.Time, error) {
	v, ok := q.c.GetQuery("period")
	if !ok {
		return time.Time{}, time.Time{}, badParam("period", "period is required: e.g. 2026, 2026-03, or 2026-01/2026-03")
	}
	return ledger.ParsePeriod("period", v)
}

// ledgerCompliance serves GET /ledger/$compliance?period=…&groupBy=clause|organization|month (several, comma
// separated, group by all of them).
func (a *API) ledgerCompliance(q *request) (*response, error) {
	if err := ledgerReader(q.ctx); err != nil {
		return nil, err
	}
	if err := onlyParams(q, "period", "groupBy"); err != nil {
		return nil, err
	}
	from, to, err := compliancePeriod(q)
	if err != nil {
		return nil, err
	}
	groupBy := []string{ledger.ByClause}
	if v, ok := q.c.GetQuery("groupBy"); ok {
		groupBy = nil
		for _, g := range strings.Split(v, ",") {
			if g != ledger.ByClause && g != ledger.ByOrganization && g != ledger.ByMonth {
				return nil, badParam("groupBy", "groupBy must be clause, organization or month (or several, comma separated), not "+strconv.Quote(truncate(g, 30)))
			}
			if !slices.Contains(groupBy, g) {
				groupBy = append(groupBy, g)
			}
		}
	}
	groups, total, err := a.opts.Ledger.Compliance(q.ctx, ledger.ComplianceQuery{From: from, To: to, GroupBy: groupBy})
	if err != nil {
		return nil, err
	}
	list := make([]any, len(groups))
	for i, g := range groups {
		m := figuresJSON(g.Figures)
		for _, k := range []struct{ name, v string }{{"clause", g.Clause}, {"organization", g.Organization}, {"month", g.Month}} {
			if slices.Contains(groupBy, k.name) {
				m[k.name] = k.v
			}
		}
		list[i] = m
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"period":  map[string]any{"start": from.Format(fhir.InstantFormat), "end": to.Format(fhir.InstantFormat)},
		"groupBy": groupBy, "groups": list, "total": figuresJSON(total),
	})
}

// figuresJSON renders figures with their on-time rate (null while no obligation has an outcome).
func figuresJSON(f ledger.Figures) map[string]any {
	b, _ := json.Marshal(f)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["onTimeRate"] = nil
	if rate, ok := f.OnTimeRate(); ok {
		m["onTimeRate"] = rate
	}
	return m
}

// ledgerMeasureReports serves GET /ledger/$measure-report?period=…: the compliance figures of the period as a
// collection Bundle of MeasureReports, one per clause and organisation.
func (a *API) ledgerMeasureReports(q *request) (*response, error) {
	if err := ledgerReader(q.ctx); err != nil {
		return nil, err
	}
	if err := onlyParams(q, "period"); err != nil {
		return nil, err
	}
	from, to, err := compliancePeriod(q)
	if err != nil {
		return nil, err
	}
	reports, err := a.opts.Ledger.MeasureReports(q.ctx, from, to)
	if err != nil {
		return nil, err
	}
	entries := make([]any, len(reports))
	for i, r := range reports {
		entries[i] = map[string]any{"resource": r}
	}
	self := q.base + "/ledger/$measure-report?" + url.Values{"period": {q.c.Query("period")}}.Encode()
	return bundleResponse(map[string]any{
		"resourceType": "Bundle", "type": "collection", "timestamp": a.opts.Ledger.Now().UTC().Format(fhir.InstantFormat),
		"link": []any{map[string]any{"relation": "self", "url": self}}, "entry": entries,
	})
}

// ledgerAdvice serves GET /ledger/$advice-and-guidance?period=…: the report of clause 7.1, in all and by the
// organisation that made the requests.
func (a *API) ledgerAdvice(q *request) (*response, error) {
	if err := ledgerReader(q.ctx); err != nil {
		return nil, err
	}
	if err := onlyParams(q, "period"); err != nil {
		return nil, err
	}
	from, to, err := compliancePeriod(q)
	if err != nil {
		return nil, err
	}
	rep, err := a.opts.Ledger.AdviceAndGuidance(q.ctx, from, to)
	if errors.Is(err, ledger.ErrNoAdviceReport) {
		return nil, notFound("the rule pack defines no advice-and-guidance report")
	}
	if err != nil {
		return nil, err
	}
	groups := make([]any, len(rep.Groups))
	for i, g := range rep.Groups {
		m := adviceJSON(g.AdviceFigures)
		m["organization"] = g.Organization
		groups[i] = m
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"period": map[string]any{"start": from.Format(fhir.InstantFormat), "end": to.Format(fhir.InstantFormat)},
		"clause": "7.1", "total": adviceJSON(rep.AdviceFigures), "groups": groups,
	})
}

// adviceJSON renders the figures of the advice-and-guidance report with their shares (null of nothing).
func adviceJSON(f ledger.AdviceFigures) map[string]any {
	after, okAfter, conv, okConv := f.Rates()
	m := map[string]any{"referrals": f.Referrals, "referralsAfterAdvice": f.ReferralsAfterAdvice,
		"adviceRequests": f.AdviceRequests, "adviceConverted": f.AdviceConverted, "shareAfterAdvice": nil, "conversionRate": nil}
	if okAfter {
		m["shareAfterAdvice"] = after
	}
	if okConv {
		m["conversionRate"] = conv
	}
	return m
}

// jsonResponse renders v as plain JSON (the ledger's own documents are not FHIR resources).
func jsonResponse(status int, v any) (*response, error) {
	body, err := fhir.Marshal(v)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return &response{status: status, header: h, body: body}, nil
}

// patientView returns how the caller sees the patient of a ledger entry: as stored ("<system>|<value>" of the NHS
// number, or a reference), or, for an analyst without identifiable access, as a keyed hash that links the entries of
// one patient without identifying them. Without a pseudonymiser such callers see no patient at all.
func (a *API) patientView(q *request) func(key string) string {
	p, _ := auth.PrincipalFrom(q.ctx)
	if !p.Pseudonymised() {
		return func(key string) string { return key }
	}
	ps := a.opts.Security.Pseudonymiser
	return func(key string) string {
		if key == "" || ps == nil {
			return ""
		}
		system, value, ok := strings.Cut(key, "|")
		if !ok {
			system, value = "reference", key
		}
		return ps.Pseudonym(system, value)
	}
}
