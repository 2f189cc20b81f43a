package validate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// Applicable returns the canonical URLs of the profiles that apply to obj by what it is: those of its type
// whose applies-when expression is true for it, sorted. An expression that cannot be evaluated is a
// processing warning, and its profile does not apply. Without an InvariantEvaluator only the profiles that
// apply to their whole type are returned.
func (v *Validator) Applicable(obj fhir.Object) ([]string, []fhir.Issue) {
	typ := fhir.ResourceType(obj)
	var urls []string
	var issues []fhir.Issue
	for _, td := range v.byType[typ] {
		ok, known := td.appliesWhen == "true", td.appliesWhen == "true"
		if td.selector != nil {
			ok, known = td.selector.test(obj)
		}
		if !known && v.invariants != nil {
			var err error
			ok, err = v.invariants.EvaluateInvariant(Invariant{Key: "applies-when:" + td.url, Expression: td.appliesWhen,
				Context: obj, Type: typ, Resource: obj, RootResource: obj})
			if err != nil {
				issues = append(issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: fhir.IssueProcessing,
					Details:     fmt.Sprintf("Could not decide whether the profile %s applies", td.url),
					Diagnostics: err.Error(), Expression: []string{typ}})
				continue
			}
		}
		if ok {
			urls = append(urls, td.url)
		}
	}
	return urls, issues
}

// ValidateProfiles checks obj against every profile that applies to it — by what it is (Applicable), because
// its meta.profile names it, or because it is in named — reporting only what the profiles add to the base
// definitions, each issue once. A profile that another of them derives from is checked through it. A
// meta.profile that names neither a loaded profile nor a base definition is a processing error (Accord does not
// know what the resource claims to conform to); so is an unknown profile in named. A profile known but not
// enforced (NotEnforced) is a warning.
func (v *Validator) ValidateProfiles(obj fhir.Object, named ...string) []fhir.Issue {
	urls, issues := v.Applicable(obj)
	typ := fhir.ResourceType(obj)
	meta, _ := obj["meta"].(map[string]any)
	claimed, _ := meta["profile"].([]any)
	for i, p := range claimed {
		s, _ := p.(string)
		url, _, _ := strings.Cut(s, "|")
		expr := typ + ".meta.profile[" + strconv.Itoa(i) + "]"
		reason, known := v.notEnforced[url]
		switch {
		case v.profiles[url] != nil:
			urls = append(urls, url)
		case known:
			issues = append(issues, notEnforced(url, reason, expr))
		case v.isCore(url):
		default:
			issues = append(issues, unknownProfile(url, expr, "claims"))
		}
	}
	for _, n := range named {
		url, _, _ := strings.Cut(n, "|")
		reason, known := v.notEnforced[url]
		switch {
		case v.profiles[url] != nil:
			urls = append(urls, url)
		case known:
			issues = append(issues, notEnforced(url, reason, typ))
		default:
			issues = append(issues, unknownProfile(url, typ, "is asked to conform to"))
		}
	}
	seen := map[string]bool{}
	for _, url := range v.withoutAncestors(urls) {
		td := v.profiles[url]
		if td.name != typ {
			issues = append(issues, fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueProcessing,
				Details:    fmt.Sprintf("The profile %s applies to %s resources", url, td.name),
				Expression: []string{typ}})
			continue
		}
		for _, is := range v.run(obj, td, true) {
			key := string(is.Code) + "\x00" + is.Expression[0] + "\x00" + is.Details
			if seen[key] {
				continue
			}
			seen[key] = true
			is.Details += " (profile " + url + ")"
			is.Profile = url
			issues = append(issues, is)
		}
	}
	sortIssues(issues)
	return issues
}

func unknownProfile(url, expr, verb string) fhir.Issue {
	return fhir.Issue{Severity: fhir.SeverityError, Code: fhir.IssueProcessing,
		Details:    fmt.Sprintf("The resource %s the profile %s, which is not known here", verb, truncate(url, 200)),
		Expression: []string{expr}}
}

// notEnforced is the warning for a resource checked against a profile that the validator knows but does not
// enforce: the resource is not refused for it, and not checked against it.
func notEnforced(url, reason, expr string) fhir.Issue {
	return fhir.Issue{Severity: fhir.SeverityWarning, Code: fhir.IssueNotSupported,
		Details: fmt.Sprintf("The profile %s is known here but not enforced, so the resource was not checked "+
			"against it: %s", url, reason),
		Expression: []string{expr}}
}

// isCore reports whether url is the canonical URL of a base definition.
func (v *Validator) isCore(url string) bool {
	name, ok := strings.CutPrefix(url, "http://hl7.org/fhir/StructureDefinition/")
	td := v.core[name]
	return ok && td != nil && td.url == url
}

// withoutAncestors returns urls without duplicates and without the profiles that another of them derives from,
// in order.
func (v *Validator) withoutAncestors(urls []string) []string {
	slices.Sort(urls)
	urls = slices.Compact(urls)
	ancestors := map[string]bool{}
	for _, u := range urls {
		td := v.profiles[u]
		for d := 0; td != nil && d < maxProfileDepth; d++ {
			td = v.profiles[td.base]
			if td != nil {
				ancestors[td.url] = true
			}
		}
	}
	return slices.DeleteFunc(urls, func(u string) bool { return ancestors[u] })
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
