package rest

import (
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// MaxHistoryCount bounds _count on history.
const MaxHistoryCount = 1000

// historyParams are the parameters a history interaction takes; _at and _list are R4's, not supported yet.
var historyParams = []string{"_count", "_since", "_cursor", "_format", "_pretty"}

// ParseHistory reads the parameters of a history interaction on typ and id ("" for the history of a type or of
// the system): _count (20 unless given, lowered to MaxHistoryCount), _since and _cursor. It returns an *fhir.Error
// of code invalid, naming the parameter, for a bad _count or _since, for _at and _list, and for any other
// parameter. See https://hl7.org/fhir/R4/http.html#history.
func ParseHistory(typ, id string, params url.Values) (store.HistoryQuery, error) {
	hq := store.HistoryQuery{Type: typ, ID: id, Count: 20, Cursor: params.Get("_cursor")}
	if v := params.Get("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return hq, fhir.Errorf(fhir.IssueInvalid, "_count", "_count must be a whole number of 1 or more")
		}
		hq.Count = min(n, MaxHistoryCount)
	}
	if v := params.Get("_since"); v != "" {
		t, err := parseInstant(v)
		if err != nil {
			return hq, fhir.Errorf(fhir.IssueInvalid, "_since", "_since must be an instant such as 2026-01-31T12:00:00Z")
		}
		hq.Since = t
	}
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case name == "_at" || name == "_list":
			return hq, fhir.Errorf(fhir.IssueInvalid, name, "history does not support %s yet", name)
		case !slices.Contains(historyParams, name):
			return hq, fhir.Errorf(fhir.IssueInvalid, truncate(name, 40), "history does not take the parameter %s", truncate(name, 40))
		}
	}
	return hq, nil
}

// parseInstant reads an instant, or a date-time or date without a time zone (as UTC).
func parseInstant(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Parse(time.RFC3339, v)
}
