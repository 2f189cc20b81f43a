package search

import (
	"log/slog"
	"slices"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
	"github.com/accord-fhir/accord/internal/store"
)

// Indexer computes the search index fields of every resource written (see the package comment for their form).
// It is a store.Indexer; safe for concurrent use.
type Indexer struct {
	reg *fhirsearch.Registry
	log *slog.Logger
}

var _ store.Indexer = (*Indexer)(nil)

// NewIndexer returns an Indexer of the parameters in reg. log receives the names of parameters whose expression
// fails on a resource (never resource content); nil uses slog.Default().
func NewIndexer(reg *fhirsearch.Registry, log *slog.Logger) *Indexer {
	if log == nil {
		log = slog.Default()
	}
	return &Indexer{reg: reg, log: log}
}

// maxCombinations bounds the keys of one composite value, so that a resource with many codes cannot make an
// index entry explode.
const maxCombinations = 256

// Index returns the index fields of obj, a resource of typ. A parameter whose expression fails on obj is left out
// and logged; the write goes on, since the failure is the engine's, not the resource's.
func (ix *Indexer) Index(typ string, obj fhir.Object) (map[string]any, error) {
	extracted, err := ix.reg.Extract(typ, obj)
	if err != nil {
		ix.log.Warn("search index: a parameter expression failed", "type", typ, "err", err)
	}
	out := make(map[string]any, 2*len(extracted))
	for _, e := range extracted {
		encode(e.Param, e.Values, out)
	}
	return out, nil
}

// encode adds the fields of one parameter's values to out.
func encode(p *fhirsearch.Param, v fhirsearch.Values, out map[string]any) {
	put := func(suffix string, keys []string) {
		if keys = dedupe(keys); len(keys) > 0 {
			out[field(p.Code, suffix)] = fhir.Strings(keys)
		}
	}
	keys := valueKeys(p, v)
	put("", keys)
	if len(keys) > 0 && p.Type != fhirsearch.TypeComposite {
		out[field(p.Code, "sort")] = sortKey(p.Type, v, keys)
	}
	switch p.Type {
	case fhirsearch.TypeToken:
		put("text", mapStrings(v.Texts, fhirsearch.Fold))
		var typed []string
		for _, o := range v.OfType {
			typed = append(typed, esc(o.TypeSystem)+"|"+esc(o.TypeCode)+"|"+esc(o.Value))
		}
		put("of-type", typed)
	case fhirsearch.TypeString:
		put("exact", v.Strings)
	case fhirsearch.TypeReference:
		put("identifier", tokenKeys(v.RefIDs))
	case fhirsearch.TypeDate:
		var ends []string
		for _, r := range v.Ranges {
			ends = append(ends, instantKey(r.End))
		}
		put("end", ends)
	case fhirsearch.TypeQuantity:
		var units []string
		for _, q := range v.Quantities {
			if n, ok := numberTextKey(q.Value); ok {
				units = append(units, quantityKeys(q, n)...)
			}
		}
		put("unit", units)
	}
}

// valueKeys are the main keys of a parameter's values (the sp_<code> field).
func valueKeys(p *fhirsearch.Param, v fhirsearch.Values) []string {
	var keys []string
	switch p.Type {
	case fhirsearch.TypeToken:
		keys = tokenKeys(v.Tokens)
	case fhirsearch.TypeString:
		keys = mapStrings(v.Strings, func(s string) string { return esc(fhirsearch.Fold(s)) })
	case fhirsearch.TypeReference:
		keys = v.Refs
	case fhirsearch.TypeDate:
		for _, r := range v.Ranges {
			keys = append(keys, rangeKey(r))
		}
	case fhirsearch.TypeNumber:
		for _, n := range v.Numbers {
			if k, ok := numberTextKey(n); ok {
				keys = append(keys, k)
			}
		}
	case fhirsearch.TypeQuantity:
		for _, q := range v.Quantities {
			if k, ok := numberTextKey(q.Value); ok {
				keys = append(keys, k)
			}
		}
	case fhirsearch.TypeURI:
		keys = v.URIs
	case fhirsearch.TypeComposite:
		for _, node := range v.Nodes {
			keys = append(keys, combinations(p.Components, node)...)
		}
	}
	return keys
}

// componentKeys are the keys of one component of a composite: for a quantity, the number alone and with units.
func componentKeys(p *fhirsearch.Param, v fhirsearch.Values) []string {
	if p.Type != fhirsearch.TypeQuantity {
		return valueKeys(p, v)
	}
	var keys []string
	for _, q := range v.Quantities {
		if n, ok := numberTextKey(q.Value); ok {
			keys = append(append(keys, n), quantityKeys(q, n)...)
		}
	}
	return keys
}

// combinations joins the keys of a composite node's components with $: every combination, up to
// maxCombinations.
func combinations(components []fhirsearch.Component, node []fhirsearch.Values) []string {
	out := []string{""}
	for i, part := range node {
		var next []string
		for _, prefix := range out {
			for _, k := range dedupe(componentKeys(components[i].Param, part)) {
				if len(next) == maxCombinations {
					break
				}
				if i > 0 {
					k = "$" + k
				}
				next = append(next, prefix+k)
			}
		}
		out = next
	}
	return out
}

// tokenKeys are "system|code" and the bare code of each token.
func tokenKeys(tokens []fhirsearch.Token) []string {
	keys := make([]string, 0, 2*len(tokens))
	for _, t := range tokens {
		keys = append(keys, tokenKey(t.System, t.Code), bareKey(t.Code))
	}
	return keys
}

// sortKey is the value _sort orders by: the smallest bare code of a token, the smallest key otherwise.
func sortKey(t fhirsearch.Type, v fhirsearch.Values, keys []string) string {
	if t == fhirsearch.TypeToken && len(v.Tokens) > 0 {
		codes := make([]string, len(v.Tokens))
		for i, tok := range v.Tokens {
			codes[i] = tok.Code
		}
		return slices.Min(codes)
	}
	return slices.Min(keys)
}

func dedupe(keys []string) []string {
	if len(keys) < 2 {
		return keys
	}
	seen := make(map[string]bool, len(keys))
	out := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func mapStrings(in []string, f func(string) string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if m := f(s); m != "" {
			out = append(out, m)
		}
	}
	return out
}
