package validation

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/fhir"
)

func issue(sev fhir.Severity, details string) fhir.Issue {
	return fhir.Issue{Severity: sev, Code: fhir.IssueInvalid, Details: details}
}

func step(issues ...fhir.Issue) Step {
	return StepFunc(func(fhir.Object) []fhir.Issue { return issues })
}

func TestPipeline(t *testing.T) {
	warn, err1, err2 := issue(fhir.SeverityWarning, "w"), issue(fhir.SeverityError, "e1"), issue(fhir.SeverityError, "e2")
	for _, tc := range []struct {
		name string
		p    *Pipeline
		want []fhir.Issue
	}{
		{"structure errors stop the pipeline", New(step(err1), step(err2)), []fhir.Issue{err1}},
		{"structure warnings do not", New(step(warn), step(err1), step(err2)), []fhir.Issue{warn, err1, err2}},
		{"later errors are all collected", New(nil, step(err1), step(warn, err2)), []fhir.Issue{err1, warn, err2}},
		{"no steps, no issues", New(nil), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.Validate(context.Background(), fhir.Object{"resourceType": "Task"})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
