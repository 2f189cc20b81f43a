package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/store"
)

// issueStatus is the HTTP status of each OperationOutcome issue type used as an error classification.
var issueStatus = map[fhir.IssueType]int{
	fhir.IssueStructure:    http.StatusBadRequest,
	fhir.IssueInvalid:      http.StatusBadRequest,
	fhir.IssueRequired:     http.StatusBadRequest,
	fhir.IssueValue:        http.StatusBadRequest,
	fhir.IssueInvariant:    http.StatusBadRequest,
	fhir.IssueCodeInvalid:  http.StatusBadRequest,
	fhir.IssueTooCostly:    http.StatusBadRequest,
	fhir.IssueNotSupported: http.StatusBadRequest,
	fhir.IssueProcessing:   http.StatusUnprocessableEntity,
	fhir.IssueBusinessRule: http.StatusUnprocessableEntity,
	fhir.IssueNotFound:     http.StatusNotFound,
	fhir.IssueDeleted:      http.StatusGone,
	fhir.IssueConflict:     http.StatusConflict,
	fhir.IssueDuplicate:    http.StatusConflict,
	fhir.IssueMultiple:     http.StatusPreconditionFailed,
	fhir.IssueTooLong:      http.StatusRequestEntityTooLarge,
	fhir.IssueLogin:        http.StatusUnauthorized,
	fhir.IssueSecurity:     http.StatusForbidden,
	fhir.IssueForbidden:    http.StatusForbidden,
	fhir.IssueThrottled:    http.StatusTooManyRequests,
}

// errorResponse maps err to its HTTP status and OperationOutcome issues. Unknown errors are a 500 whose cause is
// logged but not shown.
func errorResponse(err error, log *slog.Logger) (int, []fhir.Issue) {
	status, issues := classify(err)
	var ee *rest.EntryError
	if errors.As(err, &ee) {
		for i := range issues {
			if len(issues[i].Expression) == 0 {
				issues[i].Expression = []string{ee.Expression()}
			}
		}
	}
	if status == http.StatusInternalServerError {
		log.Error("request failed", "err", err)
	}
	return status, issues
}

func classify(err error) (int, []fhir.Issue) {
	one := func(status int, code fhir.IssueType, details string) (int, []fhir.Issue) {
		return status, []fhir.Issue{{Severity: fhir.SeverityError, Code: code, Details: details}}
	}
	var fe *fhir.Error
	var tooBig *http.MaxBytesError
	var held *store.ClaimedError
	var tooLarge *store.TooLargeError
	var se *statusError
	var un *unauthenticated
	var th *throttledError
	switch {
	case errors.As(err, &un):
		return one(http.StatusUnauthorized, fhir.IssueLogin, un.msg)
	case errors.As(err, &th):
		return one(http.StatusTooManyRequests, fhir.IssueThrottled, th.Error())
	case errors.Is(err, auth.ErrClientNotFound):
		return one(http.StatusNotFound, fhir.IssueNotFound, "no client is registered with this client_id")
	case errors.Is(err, auth.ErrClientInFile):
		return one(http.StatusConflict, fhir.IssueConflict, "the client is defined in the clients file: change it there and restart")
	case errors.Is(err, audit.ErrNotFound):
		return one(http.StatusNotFound, fhir.IssueNotFound, "no such audit event")
	case errors.As(err, &se):
		code, ok := statusIssue[se.status]
		if !ok {
			code = fhir.IssueProcessing
		}
		is := fhir.Issue{Severity: fhir.SeverityError, Code: code, Details: se.msg}
		if se.expr != "" {
			is.Expression = []string{se.expr}
		}
		return se.status, []fhir.Issue{is}
	case errors.As(err, &fe):
		status, ok := issueStatus[fe.Code]
		if !ok {
			status = http.StatusInternalServerError
		}
		return status, append([]fhir.Issue(nil), fe.Issues...)
	case errors.As(err, &tooBig):
		return one(http.StatusRequestEntityTooLarge, fhir.IssueTooLong, "the request body is larger than the limit")
	case errors.As(err, &tooLarge):
		return one(http.StatusRequestEntityTooLarge, fhir.IssueTooLong, tooLarge.Error())
	case errors.Is(err, store.ErrNotFound):
		return one(http.StatusNotFound, fhir.IssueNotFound, "no such resource")
	case errors.Is(err, store.ErrGone):
		return one(http.StatusGone, fhir.IssueDeleted, "the resource has been deleted")
	case errors.Is(err, store.ErrPreconditionFailed):
		return one(http.StatusPreconditionFailed, fhir.IssueConflict, "precondition failed: "+preconditionDetail(err))
	case errors.Is(err, store.ErrConflict), errors.As(err, &held):
		return one(http.StatusConflict, fhir.IssueConflict, "the resource was changed concurrently; retry the request")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return one(http.StatusServiceUnavailable, fhir.IssueTransient, "the request was cancelled or timed out")
	}
	return one(http.StatusInternalServerError, fhir.IssueException, "internal error")
}

// preconditionDetail says which precondition failed: the If-Match version, or criteria matching several resources.
func preconditionDetail(err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// statusError is a failure the HTTP layer itself decides (404 route, 405, 406, 415 …).
type statusError struct {
	status int
	msg    string
	expr   string
}

func (e *statusError) Error() string { return e.msg }

func notFound(msg string) error { return &statusError{status: http.StatusNotFound, msg: msg} }

func badParam(name, msg string) error {
	return &statusError{status: http.StatusBadRequest, msg: msg, expr: name}
}

var statusIssue = map[int]fhir.IssueType{
	http.StatusNotFound:             fhir.IssueNotFound,
	http.StatusMethodNotAllowed:     fhir.IssueNotSupported,
	http.StatusNotAcceptable:        fhir.IssueNotSupported,
	http.StatusUnsupportedMediaType: fhir.IssueNotSupported,
	http.StatusBadRequest:           fhir.IssueInvalid,
	http.StatusInternalServerError:  fhir.IssueException,
}
