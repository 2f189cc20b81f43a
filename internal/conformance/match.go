package conformance

import (
	"slices"
	"strings"
	"time"

	fhirsearch "github.com/accord-fhir/accord/fhir/search"
)

// The criteria match as the store's searches do (internal/search): a string by case- and accent-insensitive
// prefix (:exact exactly, :contains anywhere), a token by code, system|code, |code or system|, a uri exactly
// (url also as url|version), _lastUpdated as an instant against the date's period and prefix.

// matchesAll reports whether e matches every criterion (AND); now is the time for ap on dates.
func matchesAll(e *entry, criteria []fhirsearch.Criterion, now time.Time) bool {
	for _, cr := range criteria {
		hit := slices.ContainsFunc(cr.Values, func(v fhirsearch.Value) bool { return e.matches(cr, v, now) })
		if hit == (cr.Modifier == "not") { // :not: the resources without a matching value, those without one included
			return false
		}
	}
	return true
}

// matches reports whether e matches one value of a criterion.
func (e *entry) matches(cr fhirsearch.Criterion, v fhirsearch.Value, now time.Time) bool {
	vals := e.values[cr.Param.Code]
	if cr.Modifier == "missing" {
		return vals.Empty() == v.Missing
	}
	switch cr.Param.Type {
	case fhirsearch.TypeToken:
		return tokenMatches(vals, cr.Modifier, v)
	case fhirsearch.TypeString:
		return slices.ContainsFunc(vals.Strings, func(s string) bool { return stringMatches(s, cr.Modifier, v.Text) })
	case fhirsearch.TypeURI:
		want, version, versioned := v.Text, "", false
		if cr.Param.Code == "url" {
			want, version, versioned = strings.Cut(v.Text, "|")
		}
		return slices.Contains(vals.URIs, want) && (!versioned || version == e.version)
	case fhirsearch.TypeDate:
		return slices.ContainsFunc(vals.Ranges, func(r fhirsearch.Range) bool { return instantMatches(r.Start, v, now) })
	}
	return false
}

func tokenMatches(vals fhirsearch.Values, modifier string, v fhirsearch.Value) bool {
	switch modifier {
	case "text":
		want := fhirsearch.Fold(v.Text)
		return slices.ContainsFunc(vals.Texts, func(t string) bool { return strings.HasPrefix(fhirsearch.Fold(t), want) })
	case "of-type":
		return slices.Contains(vals.OfType, fhirsearch.OfType{TypeSystem: v.TypeSystem, TypeCode: v.TypeCode, Value: v.Code})
	}
	return slices.ContainsFunc(vals.Tokens, func(t fhirsearch.Token) bool {
		switch {
		case !v.HasSystem:
			return t.Code == v.Code
		case v.Code == "":
			return t.System == v.System
		}
		return t == fhirsearch.Token{System: v.System, Code: v.Code}
	})
}

func stringMatches(s, modifier, want string) bool {
	switch modifier {
	case "exact":
		return s == want
	case "contains":
		return strings.Contains(fhirsearch.Fold(s), fhirsearch.Fold(want))
	}
	return strings.HasPrefix(fhirsearch.Fold(s), fhirsearch.Fold(want))
}

// instantMatches reports whether the instant t (a lastUpdated, which covers no period) meets the date value v:
// eq within its period, gt/sa after it, lt/eb before it, ne outside it, ap within its approximate period.
func instantMatches(t time.Time, v fhirsearch.Value, now time.Time) bool {
	from, to := v.Range.Start, v.Range.End
	switch v.Prefix {
	case fhirsearch.PrefixNe:
		return t.Before(from) || !t.Before(to)
	case fhirsearch.PrefixGt, fhirsearch.PrefixSa:
		return !t.Before(to)
	case fhirsearch.PrefixLt, fhirsearch.PrefixEb:
		return t.Before(from)
	case fhirsearch.PrefixGe:
		return !t.Before(from)
	case fhirsearch.PrefixLe:
		return t.Before(to)
	case fhirsearch.PrefixAp:
		a := fhirsearch.ApproximateRange(v.Range, now)
		from, to = a.Start, a.End
	}
	return !t.Before(from) && t.Before(to)
}

// sortEntries sorts list by the _sort keys as the store does: a resource without a value first ascending and
// last descending, ties by id in the direction of the first key; list is already sorted by id.
func sortEntries(list []*entry, keys []fhirsearch.SortKey) {
	if len(keys) == 0 {
		return
	}
	slices.SortStableFunc(list, func(a, b *entry) int {
		for _, k := range keys {
			av, aok := a.sortValue(k.Param)
			bv, bok := b.sortValue(k.Param)
			c := compareSortValues(av, aok, bv, bok)
			if k.Descending {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		if keys[0].Descending {
			return strings.Compare(b.res.ID, a.res.ID)
		}
		return strings.Compare(a.res.ID, b.res.ID)
	})
}

// compareSortValues compares two sort values, an absent one first.
func compareSortValues(a string, aok bool, b string, bok bool) int {
	switch {
	case aok && !bok:
		return 1
	case !aok && bok:
		return -1
	}
	return strings.Compare(a, b)
}

// sortValue is the value e sorts by on p: the smallest code of a token, the smallest folded string, the
// smallest uri, the earliest instant; false when e has none.
func (e *entry) sortValue(p *fhirsearch.Param) (string, bool) {
	vals := e.values[p.Code]
	var keys []string
	switch p.Type {
	case fhirsearch.TypeToken:
		for _, t := range vals.Tokens {
			keys = append(keys, t.Code)
		}
	case fhirsearch.TypeString:
		for _, s := range vals.Strings {
			keys = append(keys, fhirsearch.Fold(s))
		}
	case fhirsearch.TypeURI:
		keys = vals.URIs
	case fhirsearch.TypeDate:
		for _, r := range vals.Ranges {
			keys = append(keys, r.Start.UTC().Format("20060102150405.000"))
		}
	}
	if len(keys) == 0 {
		return "", false
	}
	return slices.Min(keys), true
}
