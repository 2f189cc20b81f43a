package search

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/accord-fhir/accord/fhir"
)

func mustParse(t *testing.T, typ, query string, opts ParseOptions) *Query {
	t.Helper()
	params, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	q, err := testRegistry(t).Parse(typ, params, opts)
	if err != nil {
		t.Fatalf("Parse(%s?%s): %v", typ, query, err)
	}
	return q
}

func TestParse_Values(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	for _, tc := range []struct {
		name, typ, query string
		check            func(c Criterion) bool
	}{
		{"token code", "Task", "status=requested", func(c Criterion) bool {
			v := c.Values[0]
			return v.Code == "requested" && !v.HasSystem
		}},
		{"token system|code", "Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009", func(c Criterion) bool {
			v := c.Values[0]
			return v.System == "https://fhir.nhs.uk/Id/nhs-number" && v.Code == "9000000009" && v.HasSystem
		}},
		{"token |code", "Patient", "identifier=|123", func(c Criterion) bool { v := c.Values[0]; return v.System == "" && v.Code == "123" && v.HasSystem }},
		{"token system|", "Patient", "identifier=urn:x|", func(c Criterion) bool { v := c.Values[0]; return v.System == "urn:x" && v.Code == "" }},
		{"token escaped |", "Patient", `identifier=a\|b`, func(c Criterion) bool { v := c.Values[0]; return v.Code == "a|b" && !v.HasSystem }},
		{"OR within a value", "Task", "status=requested,accepted", func(c Criterion) bool {
			return len(c.Values) == 2 && c.Values[1].Code == "accepted"
		}},
		{"escaped comma", "Patient", `name=a\,b`, func(c Criterion) bool { return len(c.Values) == 1 && c.Values[0].Text == "a,b" }},
		{":of-type", "Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053", func(c Criterion) bool {
			v := c.Values[0]
			return c.Modifier == "of-type" && v.TypeCode == "MR" && v.Code == "446053"
		}},
		{"date day", "Patient", "birthdate=1980-03-15", func(c Criterion) bool {
			v := c.Values[0]
			return v.Prefix == PrefixEq && v.Range.Start.Equal(utc("1980-03-15T00:00:00Z")) && v.Range.End.Equal(utc("1980-03-16T00:00:00Z"))
		}},
		{"date prefix and zone", "Task", "authored-on=ge2024-03-15T10:00:00+01:00", func(c Criterion) bool {
			v := c.Values[0]
			return v.Prefix == PrefixGe && v.Range.Start.Equal(utc("2024-03-15T09:00:00Z")) && v.Range.End.Equal(utc("2024-03-15T09:00:01Z"))
		}},
		{"date with a + decoded to a space", "Task", "authored-on=lt2024-03-15T10:00:00%2B01:00", func(c Criterion) bool {
			return c.Values[0].Range.Start.Equal(utc("2024-03-15T09:00:00Z"))
		}},
		{"number precision", "RiskAssessment", "probability=100", func(c Criterion) bool {
			v := c.Values[0]
			return v.Low.String() == "99.5" && v.High.String() == "100.5"
		}},
		{"number decimals", "RiskAssessment", "probability=100.00", func(c Criterion) bool {
			v := c.Values[0]
			return v.Low.String() == "99.995" && v.High.String() == "100.005"
		}},
		{"number exponent", "RiskAssessment", "probability=1e2", func(c Criterion) bool {
			v := c.Values[0]
			return v.Low.String() == "50" && v.High.String() == "150"
		}},
		{"quantity", "Observation", "value-quantity=gt5.4|http://unitsofmeasure.org|mg", func(c Criterion) bool {
			v := c.Values[0]
			return v.Prefix == PrefixGt && v.Number.String() == "5.4" && v.UnitSystem == "http://unitsofmeasure.org" && v.UnitCode == "mg"
		}},
		{"reference Type/id", "Task", "owner=Organization/o1", func(c Criterion) bool { return equalStrings(c.Values[0].Refs, "Organization/o1") }},
		{"reference versioned", "Task", "owner=Organization/o1/_history/2", func(c Criterion) bool { return equalStrings(c.Values[0].Refs, "Organization/o1") }},
		{"reference :Type", "Task", "owner:Organization=o1", func(c Criterion) bool {
			return c.Modifier == "type" && c.Target == "Organization" && equalStrings(c.Values[0].Refs, "Organization/o1")
		}},
		{"reference bare id", "Observation", "patient=p1", func(c Criterion) bool {
			return equalStrings(c.Values[0].Refs, "Patient/p1", "Group/p1", "p1")
		}},
		{"reference :identifier", "Task", "owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|RJ1", func(c Criterion) bool {
			return c.Modifier == "identifier" && c.Values[0].Code == "RJ1"
		}},
		{":missing", "Task", "owner:missing=true", func(c Criterion) bool { return c.Modifier == "missing" && c.Values[0].Missing }},
		{"chain", "Task", "owner:Organization.name=acme", func(c Criterion) bool {
			return len(c.Chain) == 1 && c.Chain[0].Type == "Organization" && c.Chain[0].Param.Code == "name" && c.Chain[0].Values[0].Text == "acme"
		}},
		{"chain on every target with the parameter", "Observation", "subject.name=acme", func(c Criterion) bool {
			types := []string{}
			for _, in := range c.Chain {
				types = append(types, in.Type)
			}
			return strings.Join(types, ",") != "" && c.Param.Code == "subject"
		}},
		{"two-level chain", "Observation", "patient.organization.name=acme", func(c Criterion) bool {
			return len(c.Chain) == 1 && len(c.Chain[0].Chain) == 1 && c.Chain[0].Chain[0].Type == "Organization"
		}},
		{"_has", "ServiceRequest", "_has:Task:focus:status=requested", func(c Criterion) bool {
			return c.Has != nil && c.Has.Type == "Task" && c.Has.Ref.Code == "focus" && c.Has.Criterion.Values[0].Code == "requested"
		}},
		{":in, a versioned canonical", "Condition", "clinical-status:in=http://hl7.org/fhir/ValueSet/condition-clinical|4.0.1", func(c Criterion) bool {
			v := c.Values[0]
			return c.Modifier == "in" && v.Text == "http://hl7.org/fhir/ValueSet/condition-clinical|4.0.1" && v.System == ""
		}},
		{":not-in, two value sets", "Condition", "category:not-in=ValueSet/a,ValueSet/b", func(c Criterion) bool {
			return c.Modifier == "not-in" && len(c.Values) == 2 && c.Values[1].Text == "ValueSet/b"
		}},
		{":below", "Condition", "clinical-status:below=http://terminology.hl7.org/CodeSystem/condition-clinical|active", func(c Criterion) bool {
			v := c.Values[0]
			return c.Modifier == "below" && v.System == "http://terminology.hl7.org/CodeSystem/condition-clinical" && v.Code == "active"
		}},
		{":above, escaped |", "Condition", `code:above=urn:x|a\|b`, func(c Criterion) bool {
			v := c.Values[0]
			return c.Modifier == "above" && v.System == "urn:x" && v.Code == "a|b"
		}},
		{"composite", "Observation", "code-value-quantity=http://loinc.org|8480-6$gt100", func(c Criterion) bool {
			v := c.Values[0]
			return len(v.Parts) == 2 && v.Parts[0].Code == "8480-6" && v.Parts[1].Prefix == PrefixGt
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := mustParse(t, tc.typ, tc.query, ParseOptions{})
			if len(q.Criteria) != 1 {
				t.Fatalf("%d criteria, want 1", len(q.Criteria))
			}
			if !tc.check(q.Criteria[0]) {
				t.Errorf("Parse(%s?%s) = %+v", tc.typ, tc.query, q.Criteria[0])
			}
		})
	}
}

func equalStrings(got []string, want ...string) bool {
	return strings.Join(got, " ") == strings.Join(want, " ")
}

func TestParse_ResultParameters(t *testing.T) {
	q := mustParse(t, "Task", "_sort=-_lastUpdated,status&_count=5&_total=accurate&_summary=true&_elements=status,owner&_include=Task:owner&_revinclude:iterate=Provenance:target&_include:iterate=PractitionerRole:organization", ParseOptions{})
	if len(q.Sort) != 2 || !q.Sort[0].Descending || q.Sort[0].Param.Code != "_lastUpdated" || q.Sort[1].Param.Code != "status" {
		t.Errorf("Sort = %+v", q.Sort)
	}
	if q.Count != 5 || q.Total != "accurate" || q.Summary != "true" || strings.Join(q.Elements, ",") != "status,owner" {
		t.Errorf("Count %d Total %q Summary %q Elements %v", q.Count, q.Total, q.Summary, q.Elements)
	}
	if len(q.Includes) != 2 || q.Includes[0].Param.Code != "owner" || !q.Includes[1].Iterate {
		t.Errorf("Includes = %+v", q.Includes)
	}
	if len(q.RevIncludes) != 1 || q.RevIncludes[0].Type != "Provenance" || !q.RevIncludes[0].Iterate {
		t.Errorf("RevIncludes = %+v", q.RevIncludes)
	}
}

// TestParse_Contained: _contained and _containedType at their defaults select containers, as without them.
func TestParse_Contained(t *testing.T) {
	q := mustParse(t, "Task", "status=requested&_contained=false&_containedType=container", ParseOptions{Strict: true})
	if len(q.Criteria) != 1 || len(q.Issues) != 0 || len(q.Params) != 1 {
		t.Errorf("criteria %d, issues %v, params %v; want the status alone", len(q.Criteria), q.Issues, q.Params)
	}
}

func TestParse_UnknownParameter(t *testing.T) {
	q := mustParse(t, "Task", "status=requested&colour=blue", ParseOptions{})
	if len(q.Criteria) != 1 || len(q.Issues) != 1 || q.Issues[0].Severity != fhir.SeverityWarning || q.Issues[0].Expression[0] != "colour" {
		t.Errorf("criteria %d, issues %+v", len(q.Criteria), q.Issues)
	}
	if _, ok := q.Params["colour"]; ok {
		t.Error("the ignored parameter is kept for the links")
	}
	_, err := testRegistry(t).Parse("Task", url.Values{"colour": {"blue"}}, ParseOptions{Strict: true})
	if fe, ok := fhir.AsError(err); !ok || fe.Issues[0].Expression[0] != "colour" {
		t.Errorf("strict: %v, want an error naming colour", err)
	}
}

// TestParse_Errors: each bad request is an error of code invalid or not-supported that names the parameter.
func TestParse_Errors(t *testing.T) {
	for _, tc := range []struct {
		typ, query, name string
		code             fhir.IssueType
	}{
		{"Patient", "birthdate=1980-13-01", "birthdate", fhir.IssueInvalid},
		{"Patient", "family=%00", "family", fhir.IssueInvalid},
		{"Patient", "name:contains=a%00", "name:contains", fhir.IssueInvalid},
		{"Task", "subject:Patient.family=%00", "subject:Patient.family", fhir.IssueInvalid},
		{"Patient", "_sort=family%00", "_sort", fhir.IssueInvalid},
		{"Patient", "birthdate=yesterday", "birthdate", fhir.IssueInvalid},
		{"Patient", "birthdate=xx1980", "birthdate", fhir.IssueInvalid},
		{"RiskAssessment", "probability=ten", "probability", fhir.IssueInvalid},
		{"Observation", "value-quantity=5|mg", "value-quantity", fhir.IssueInvalid},
		{"Patient", "identifier=a|b|c", "identifier", fhir.IssueInvalid},
		{"Patient", "identifier:of-type=a|b", "identifier:of-type", fhir.IssueInvalid},
		{"Patient", "name:fuzzy=x", "name:fuzzy", fhir.IssueInvalid},
		{"Task", "owner:below=Organization/1", "owner:below", fhir.IssueNotSupported},
		{"Patient", "birthdate:in=http://x", "birthdate:in", fhir.IssueNotSupported},
		{"Condition", "code:below=http://snomed.info/sct", "code:below", fhir.IssueInvalid},
		{"Condition", "code:below=http://snomed.info/sct|", "code:below", fhir.IssueInvalid},
		{"Condition", "code:above=|404684003", "code:above", fhir.IssueInvalid},
		{"Condition", "code:above=a|b|c", "code:above", fhir.IssueInvalid},
		{"Task", "_contained=true", "_contained", fhir.IssueNotSupported},
		{"Task", "_contained=both", "_contained", fhir.IssueNotSupported},
		{"Task", "_contained=maybe", "_contained", fhir.IssueInvalid},
		{"Task", "_contained:exact=false", "_contained:exact", fhir.IssueInvalid},
		{"Task", "_containedType=contained", "_containedType", fhir.IssueNotSupported},
		{"Task", "_containedType=all", "_containedType", fhir.IssueInvalid},
		{"Task", "_revinclude=Provenance:*", "_revinclude", fhir.IssueInvalid},
		{"Patient", "name:missing=maybe", "name:missing", fhir.IssueInvalid},
		{"Task", "status.name=x", "status.name", fhir.IssueInvalid},
		{"Task", "owner:Observation=1", "owner:Observation", fhir.IssueInvalid},
		{"Task", "_has:Nothing:focus:status=x", "_has:Nothing:focus:status", fhir.IssueInvalid},
		{"Task", "_has:Task:status:status=x", "_has:Task:status:status", fhir.IssueInvalid},
		{"Task", "_count=-1", "_count", fhir.IssueInvalid},
		{"Task", "_count=ten", "_count", fhir.IssueInvalid},
		{"Task", "_sort=colour", "_sort", fhir.IssueInvalid},
		{"Task", "_include=Task:colour", "_include", fhir.IssueInvalid},
		{"Task", "_include=Task:status", "_include", fhir.IssueInvalid},
		{"Task", "_revinclude=Provenance:nothing", "_revinclude", fhir.IssueInvalid},
		{"Task", "_total=some", "_total", fhir.IssueInvalid},
		{"Task", "_summary=short", "_summary", fhir.IssueInvalid},
		{"Task", "_text=x", "_text", fhir.IssueNotSupported},
		{"Task", "_content=x", "_content", fhir.IssueNotSupported},
		{"Observation", "code-value-quantity=http://loinc.org|8480-6", "code-value-quantity", fhir.IssueInvalid},
	} {
		t.Run(tc.query, func(t *testing.T) {
			params, _ := url.ParseQuery(tc.query)
			_, err := testRegistry(t).Parse(tc.typ, params, ParseOptions{})
			fe, ok := fhir.AsError(err)
			if !ok {
				t.Fatalf("Parse(%s?%s) = %v, want an error", tc.typ, tc.query, err)
			}
			if fe.Code != tc.code || len(fe.Issues) != 1 || len(fe.Issues[0].Expression) != 1 || fe.Issues[0].Expression[0] != tc.name {
				t.Errorf("Parse(%s?%s) = %v (code %s), want code %s naming %s", tc.typ, tc.query, err, fe.Code, tc.code, tc.name)
			}
		})
	}
}
