package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/ledger"
)

// public serves the public area (/public/…), which needs no token: the waiting times of clause 6.4.
func (a *API) public(q *request) (*response, error) {
	if q.c.Param("path") != "/waiting-times" || a.opts.Ledger == nil {
		return nil, notFound("no such public endpoint")
	}
	if q.c.Request.Method != http.MethodGet && q.c.Request.Method != http.MethodHead {
		return nil, &statusError{status: http.StatusMethodNotAllowed, msg: "the waiting times are read with GET"}
	}
	return a.waitingTimes(q)
}

// waitingTimes serves GET /public/waiting-times?period=…: per provider and service, the median and 90th percentile
// days from referral received to first appointment, over the period (by default the twelve months to today), for
// groups of at least ledger.MinGroup referrals; smaller groups are left out so that no patient can be singled out.
func (a *API) waitingTimes(q *request) (*response, error) {
	if err := onlyParams(q, "period"); err != nil {
		return nil, err
	}
	now := a.opts.Ledger.Now().UTC()
	to := now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	from := to.AddDate(-1, 0, 0)
	if v, ok := q.c.GetQuery("period"); ok {
		var err error
		if from, to, err = ledger.ParsePeriod("period", v); err != nil {
			return nil, err
		}
	}
	w, err := a.opts.Ledger.WaitingTimes(q.ctx, from, to)
	if errors.Is(err, ledger.ErrNoWaitingTimes) {
		return nil, notFound("no waiting times are published: the rule pack defines none")
	}
	if err != nil {
		return nil, err
	}
	groups := make([]any, len(w.Groups))
	for i, g := range w.Groups {
		provider := map[string]any{"reference": g.Provider}
		if g.ProviderName != "" {
			provider["name"] = g.ProviderName
		}
		groups[i] = map[string]any{"provider": provider, "service": g.Service, "referrals": g.Referrals,
			"medianDays": g.MedianDays, "percentile90Days": g.P90Days}
	}
	resp, err := jsonResponse(http.StatusOK, map[string]any{
		"title":            "Days from referral received to first appointment, per provider and service (Consensus clause 6.4)",
		"period":           map[string]any{"start": w.From.Format(fhir.InstantFormat), "end": w.To.Format(fhir.InstantFormat)},
		"computed":         w.Computed.UTC().Format(fhir.InstantFormat),
		"minimumGroupSize": ledger.MinGroup,
		"suppressedGroups": w.Suppressed,
		"groups":           groups,
	})
	if resp != nil {
		resp.header.Set("Cache-Control", "public, max-age=300")
	}
	return resp, err
}
