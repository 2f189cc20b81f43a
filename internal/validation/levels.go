package validation

import (
	"fmt"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// Level is the enforcement level of a Consensus clause: its failures refuse a write (error), are accepted and
// reported as findings (warning), or are not reported (off).
type Level string

// The enforcement levels.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
	LevelOff     Level = "off"
)

// Levels maps clause ids to their enforcement level.
type Levels map[string]Level

// ParseLevels reads levels written as "2.4=warning,8.3=off" (commas or new lines between entries; spaces and
// lines starting with # are ignored). It returns an error naming the first entry that is not clause=level.
func ParseLevels(s string) (Levels, error) {
	out := Levels{}
	for _, entry := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "#") {
			continue
		}
		clause, level, ok := strings.Cut(entry, "=")
		clause, level = strings.TrimSpace(clause), strings.TrimSpace(level)
		switch l := Level(level); {
		case !ok || clause == "":
			return nil, fmt.Errorf("rule level %q is not clause=level", entry)
		case l != LevelError && l != LevelWarning && l != LevelOff:
			return nil, fmt.Errorf("rule level %q: the level must be error, warning or off", entry)
		default:
			out[clause] = l
		}
	}
	return out, nil
}

// apply gives every issue of a clause named in l that clause's level: it drops those of clauses that are off
// and sets the severity of the others. Processing issues (a rule that could not be evaluated) are kept as they
// are: they say nothing about the resource.
func (l Levels) apply(issues []fhir.Issue) []fhir.Issue {
	if len(l) == 0 {
		return issues
	}
	out := issues[:0]
	for _, is := range issues {
		level, ok := l[is.Clause]
		switch {
		case !ok || is.Clause == "" || is.Code == fhir.IssueProcessing:
		case level == LevelOff:
			continue
		case level == LevelWarning:
			is.Severity = fhir.SeverityWarning
		case level == LevelError:
			is.Severity = fhir.SeverityError
		}
		out = append(out, is)
	}
	return out
}

// Findings returns the issues that record a Consensus rule accepted with a warning: severity warning, with a
// clause. The ledger counts them as findings against the resource's sender.
func Findings(issues []fhir.Issue) []fhir.Issue {
	var out []fhir.Issue
	for _, is := range issues {
		if is.Clause != "" && is.Severity == fhir.SeverityWarning && is.Code != fhir.IssueProcessing {
			out = append(out, is)
		}
	}
	return out
}
