package conformance

import (
	"net/url"
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir"
)

// params are the search parameters each type supports, with how they match: uri and token exactly (token also
// as system|code with an empty system), string by case-insensitive prefix (":exact" exactly, ":contains"
// anywhere). See https://hl7.org/fhir/R4/search.html.
var params = map[string]func(e *entry) (value string, kind matchKind){
	"_id":       func(e *entry) (string, matchKind) { return e.res.ID, matchToken },
	"url":       func(e *entry) (string, matchKind) { return e.url, matchURI },
	"name":      func(e *entry) (string, matchKind) { return e.name, matchString },
	"title":     func(e *entry) (string, matchKind) { return e.title, matchString },
	"version":   func(e *entry) (string, matchKind) { return e.version, matchToken },
	"status":    func(e *entry) (string, matchKind) { return e.status, matchToken },
	"type":      func(e *entry) (string, matchKind) { return e.sdType, matchToken },
	"publisher": func(e *entry) (string, matchKind) { return str(e.obj, "publisher"), matchString },
}

type matchKind uint8

const (
	matchURI matchKind = iota
	matchToken
	matchString
)

// Search returns the resources of typ matching every parameter (several values of one parameter, comma
// separated, match any of them), sorted by id. Parameters starting with "_" other than _id are result
// parameters and are ignored (the guide is small: every match is returned); an unknown parameter, a modifier
// other than :exact, :contains, :missing on a string, or "type" on another type than StructureDefinition is a
// *fhir.Error of code invalid (400).
func (c *Catalog) Search(typ string, query url.Values) ([]fhir.Resource, error) {
	var out []fhir.Resource
	filters, err := parseFilters(typ, query)
	if err != nil {
		return nil, err
	}
	for _, e := range c.byType[typ] {
		if matchesAll(e, filters) {
			out = append(out, e.res)
		}
	}
	return out, nil
}

type filter struct {
	param, modifier string
	values          []string
}

func parseFilters(typ string, query url.Values) ([]filter, error) {
	var out []filter
	for _, key := range sortedKeys(query) {
		name, modifier, _ := strings.Cut(key, ":")
		if strings.HasPrefix(name, "_") && name != "_id" {
			continue
		}
		get, ok := params[name]
		if !ok || (name == "type" && typ != "StructureDefinition") {
			return nil, fhir.Errorf(fhir.IssueInvalid, key, "%s does not support the search parameter %q here (url, name, title, version, status, publisher, _id; type on StructureDefinition)", typ, truncate(name, 40))
		}
		_, kind := get(&entry{})
		if modifier != "" && (kind != matchString || (modifier != "exact" && modifier != "contains")) {
			return nil, fhir.Errorf(fhir.IssueInvalid, key, "the modifier :%s is not supported on %s", truncate(modifier, 20), name)
		}
		for _, v := range query[key] {
			out = append(out, filter{param: name, modifier: modifier, values: strings.Split(v, ",")})
		}
	}
	return out, nil
}

func matchesAll(e *entry, filters []filter) bool {
	for _, f := range filters {
		got, kind := params[f.param](e)
		if !slices.ContainsFunc(f.values, func(want string) bool { return matches(got, want, kind, f.modifier, e.version) }) {
			return false
		}
	}
	return true
}

// matches reports whether got matches the searched value want; version is the resource's, for a canonical
// URL searched with "|version".
func matches(got, want string, kind matchKind, modifier, version string) bool {
	switch kind {
	case matchURI:
		u, v, versioned := strings.Cut(want, "|")
		return got == u && (!versioned || v == version)
	case matchToken:
		if system, code, ok := strings.Cut(want, "|"); ok && system == "" {
			want = code
		}
		return got == want
	}
	g, w := strings.ToLower(got), strings.ToLower(want)
	switch modifier {
	case "exact":
		return got == want
	case "contains":
		return strings.Contains(g, w)
	}
	return strings.HasPrefix(g, w)
}

func sortedKeys(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
