package auth

import (
	"encoding/json"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// ParseClient decodes one client registration (the body of PUT /admin/clients/{client_id}) as strictly as the
// clients file, and validates it. It returns a *fhir.Error of code invalid with one issue per problem, its
// Expression the member's JSON path ("$" for the document).
func ParseClient(data []byte) (Client, error) {
	c, problems := parseClient(json.RawMessage(data), "")
	if len(problems) == 0 {
		return c, nil
	}
	fe := &fhir.Error{Code: fhir.IssueInvalid}
	for _, p := range problems {
		path := strings.TrimPrefix(p.Path, ".")
		if path == "" {
			path = "$"
		}
		fe.Issues = append(fe.Issues, fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueValue,
			Details: p.Message, Expression: []string{path}})
	}
	return Client{}, fe
}
