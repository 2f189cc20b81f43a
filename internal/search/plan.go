package search

import (
	"context"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/store"
)

// planner turns criteria into store conditions; chains and reverse chains run their own queries first.
type planner struct {
	s   *Searcher
	ctx context.Context
	now time.Time
}

// conds returns the conditions of all criteria (AND).
func (pl *planner) conds(criteria []fhirsearch.Criterion) ([]store.Cond, error) {
	out := make([]store.Cond, 0, len(criteria))
	for _, c := range criteria {
		cond, err := pl.cond(c)
		if err != nil {
			return nil, err
		}
		out = append(out, cond)
	}
	return out, nil
}

// cond returns the condition of one criterion: any of its values (OR).
func (pl *planner) cond(c fhirsearch.Criterion) (store.Cond, error) {
	switch {
	case c.Has != nil:
		return pl.has(c)
	case len(c.Chain) > 0:
		return pl.chain(c)
	}
	alts := make([]store.Cond, 0, len(c.Values))
	for _, v := range c.Values {
		if c.Param.Type == fhirsearch.TypeToken && isTermModifier(c.Modifier) {
			cond, err := pl.termCond(c, v)
			if err != nil {
				return store.Cond{}, err
			}
			alts = append(alts, cond)
			continue
		}
		alts = append(alts, pl.valueCond(c, v))
	}
	cond := alts[0]
	if len(alts) > 1 {
		cond = or(alts...)
	}
	if c.Modifier == "not" || c.Modifier == "not-in" {
		cond.Not = true // R4: resources without a matching value, those without a value included
	}
	return cond, nil
}

// isTermModifier reports whether a token modifier needs the terminology.
func isTermModifier(m string) bool {
	return m == "in" || m == "not-in" || m == "below" || m == "above"
}

// valueCond is the condition of one value of a criterion.
func (pl *planner) valueCond(c fhirsearch.Criterion, v fhirsearch.Value) store.Cond {
	code := c.Param.Code
	main := field(code, "")
	switch code {
	case "_id":
		main = "_id"
	case "_lastUpdated":
		main = "ts"
	}
	if c.Modifier == "missing" {
		return missingCond(c.Param, main, v.Missing)
	}
	switch code {
	case "_id":
		return store.Cond{Field: "_id", Op: store.OpEq, Values: []any{v.Code}}
	case "_lastUpdated":
		return instantCond("ts", v, pl.now)
	}
	switch c.Param.Type {
	case fhirsearch.TypeToken:
		return tokenCond(code, c.Modifier, v)
	case fhirsearch.TypeString:
		switch c.Modifier {
		case "exact":
			return store.Cond{Field: field(code, "exact"), Op: store.OpEq, Values: []any{v.Text}}
		case "contains":
			return store.Cond{Field: main, Op: store.OpContains, Values: []any{esc(fhirsearch.Fold(v.Text))}}
		}
		return store.Cond{Field: main, Op: store.OpPrefix, Values: []any{esc(fhirsearch.Fold(v.Text))}}
	case fhirsearch.TypeURI:
		switch c.Modifier {
		case "below":
			return store.Cond{Field: main, Op: store.OpPrefix, Values: []any{v.Text}}
		case "above":
			return store.Cond{Field: main, Op: store.OpEq, Values: fhir.Strings(uriAncestors(v.Text))}
		}
		return store.Cond{Field: main, Op: store.OpEq, Values: []any{v.Text}}
	case fhirsearch.TypeReference:
		if c.Modifier == "identifier" {
			return tokenCond(code+":identifier", "", v)
		}
		return store.Cond{Field: main, Op: store.OpEq, Values: fhir.Strings(v.Refs)}
	case fhirsearch.TypeDate:
		return dateCond(code, v, pl.now)
	case fhirsearch.TypeNumber:
		return numberCond(main, v)
	case fhirsearch.TypeQuantity:
		return quantityCond(code, v)
	case fhirsearch.TypeComposite:
		return store.Cond{Field: main, Op: store.OpMatch, Values: []any{"^" + compositeRegex(c.Param, v, pl.now) + "$"}}
	}
	return store.Cond{Field: "_id", Op: store.OpExists, Values: []any{false}}
}

// missingCond selects the resources without a value of p (missing) or with one. A token whose values are only
// texts (a CodeableConcept with text alone), or a reference that is only an identifier, has a value.
func missingCond(p *fhirsearch.Param, main string, missing bool) store.Cond {
	fields := []string{main}
	switch {
	case main != field(p.Code, ""):
	case p.Type == fhirsearch.TypeToken:
		fields = append(fields, field(p.Code, "text"))
	case p.Type == fhirsearch.TypeReference:
		fields = append(fields, field(p.Code, "identifier"))
	}
	conds := make([]store.Cond, len(fields))
	for i, f := range fields {
		conds[i] = store.Cond{Field: f, Op: store.OpExists, Values: []any{!missing}}
	}
	switch {
	case len(conds) == 1:
		return conds[0]
	case missing:
		return and(conds...)
	}
	return or(conds...)
}

// tokenCond is the condition of a token value on the fields of code (code may carry a suffix: the fields of
// :identifier on a reference).
func tokenCond(code, modifier string, v fhirsearch.Value) store.Cond {
	f := fieldPrefix + code
	switch {
	case modifier == "text":
		return store.Cond{Field: f + ":text", Op: store.OpPrefix, Values: []any{fhirsearch.Fold(v.Text)}}
	case modifier == "of-type":
		return store.Cond{Field: f + ":of-type", Op: store.OpEq, Values: []any{esc(v.TypeSystem) + "|" + esc(v.TypeCode) + "|" + esc(v.Code)}}
	case !v.HasSystem:
		return store.Cond{Field: f, Op: store.OpEq, Values: []any{bareKey(v.Code)}}
	case v.Code == "":
		return store.Cond{Field: f, Op: store.OpPrefix, Values: []any{esc(v.System) + "|"}}
	}
	return store.Cond{Field: f, Op: store.OpEq, Values: []any{tokenKey(v.System, v.Code)}}
}

// uriAncestors are u and the URIs it is below: http://a/b/c, http://a/b, http://a.
func uriAncestors(u string) []string {
	out := []string{u}
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return out
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	for i := len(parts) - 1; i > 0; i-- {
		out = append(out, scheme+"://"+strings.Join(parts[:i], "/"))
	}
	return out
}

// compositeRegex matches a composite key: each component's part, joined by $.
func compositeRegex(p *fhirsearch.Param, v fhirsearch.Value, now time.Time) string {
	parts := make([]string, len(v.Parts))
	for i, pv := range v.Parts {
		parts[i] = "(?:" + componentRegex(p.Components[i].Param, pv, now) + ")"
	}
	return strings.Join(parts, `\$`)
}

// componentRegex matches one component's key for value v.
func componentRegex(p *fhirsearch.Param, v fhirsearch.Value, now time.Time) string {
	switch p.Type {
	case fhirsearch.TypeToken:
		switch {
		case !v.HasSystem:
			return quote(bareKey(v.Code))
		case v.Code == "":
			return quote(esc(v.System)+"|") + anyKeyPart
		}
		return quote(tokenKey(v.System, v.Code))
	case fhirsearch.TypeString:
		return quote(esc(fhirsearch.Fold(v.Text))) + anyKeyPart
	case fhirsearch.TypeReference:
		alts := make([]string, len(v.Refs))
		for i, r := range v.Refs {
			alts[i] = quote(esc(r))
		}
		return alternatives(alts)
	case fhirsearch.TypeDate:
		return dateRegex(v.Prefix, v.Range, now)
	case fhirsearch.TypeNumber:
		return numberRegex(v.Prefix, v)
	case fhirsearch.TypeQuantity:
		if v.UnitSystem == "" && v.UnitCode == "" {
			return numberRegex(v.Prefix, v)
		}
		return quantityRegex(v)
	}
	return quote(esc(v.Text))
}

// chain resolves a chained criterion: the ids of the referenced resources that match, on each possible type,
// become the references the parameter must hold.
func (pl *planner) chain(c fhirsearch.Criterion) (store.Cond, error) {
	var refs []any
	base := pl.s.baseURL(pl.ctx)
	for _, inner := range c.Chain {
		conds, err := pl.conds([]fhirsearch.Criterion{inner})
		if err != nil {
			return store.Cond{}, err
		}
		page, err := pl.s.find(pl.ctx, inner.Type, store.Query{Conds: conds, Count: pl.s.opts.MaxChainMatches + 1, OmitJSON: true, Fields: []string{}})
		if err != nil {
			return store.Cond{}, err
		}
		if len(page.Resources) > pl.s.opts.MaxChainMatches {
			return store.Cond{}, tooMany(c.Name, pl.s.opts.MaxChainMatches, inner.Type)
		}
		for _, r := range page.Resources {
			refs = append(refs, refKeys(r.Reference(), base)...)
		}
	}
	return store.Cond{Field: field(c.Param.Code, ""), Op: store.OpEq, Values: refs}, nil
}

// has resolves a reverse chain: the resources of Has.Type that match refer, through Has.Ref, to the ids that
// match.
func (pl *planner) has(c fhirsearch.Criterion) (store.Cond, error) {
	h := c.Has
	conds, err := pl.conds([]fhirsearch.Criterion{h.Criterion})
	if err != nil {
		return store.Cond{}, err
	}
	refField := field(h.Ref.Code, "")
	page, err := pl.s.find(pl.ctx, h.Type, store.Query{Conds: conds, Count: pl.s.opts.MaxChainMatches + 1, OmitJSON: true, Fields: []string{refField}})
	if err != nil {
		return store.Cond{}, err
	}
	if len(page.Resources) > pl.s.opts.MaxChainMatches {
		return store.Cond{}, tooMany(c.Name, pl.s.opts.MaxChainMatches, h.Type)
	}
	seen := map[string]bool{}
	var ids []any
	base := pl.s.baseURL(pl.ctx)
	for _, f := range page.Fields {
		for _, ref := range fhirsearch.Strings(f[refField]) {
			if id, ok := strings.CutPrefix(localRef(ref, base), c.Type+"/"); ok && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return store.Cond{Field: "_id", Op: store.OpEq, Values: ids}, nil
}

func tooMany(name string, limit int, typ string) error {
	return fhir.Errorf(fhir.IssueTooCostly, name, "%s matches more than %d %s resources: narrow the search", name, limit, typ)
}
