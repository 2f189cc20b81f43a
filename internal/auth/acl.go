package auth

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// The index fields that organisation scoping writes beside the current version of a resource.
const (
	// FieldACL holds who may see a resource of a scoped type: ODS codes and "Organization/<id>" references.
	FieldACL = "acl"
	// FieldODS holds an Organization's own ODS codes, to find the Organizations of a client's organisations.
	FieldODS = "acl_ods"
	// FieldSources lists the other resources a resource's FieldACL was computed from, as "Type/id": the patients it
	// is about (their GP practice) and the resources its Via elements reference. It finds the resources to index
	// again when one of those changes what it lends them.
	FieldSources = "acl_src"
	// FieldLends holds what a resource lends to the FieldACL of others, as "<elements>=<token>": a Patient's GP
	// practice, a Via target's organisations. A write that changes it indexes the resources naming it in
	// FieldSources again (the store does, see internal/store/mongo reindex.go).
	FieldLends = "acl_lends"
	// FieldAwaits lists the FieldSources that were not stored when the resource was indexed ("Type/id"): the store
	// remembers them apart, so that creating one indexes the resources awaiting it again with a single lookup,
	// instead of searching every collection whenever a resource is created under a chosen id.
	FieldAwaits = "acl_await"
)

// practicePath is the element of a Patient naming its registered GP practice.
const practicePath = "generalPractitioner"

// The caches of a Scoping: entries live cacheTTL (the longest another process's change goes unseen), and a cache
// holds at most cacheSize of them.
const (
	cacheTTL  = 30 * time.Second
	cacheSize = 10000
)

// maxViaReads bounds the referenced resources read to resolve the Via rules of one resource: the references beyond
// it name no organisation (so they neither grant a write nor widen visibility).
const maxViaReads = 8

// Source is what organisation scoping reads: the current version of a resource (ErrNotFound-wrapping errors for
// none), and the current resources matching a query. store.Store is one.
type Source interface {
	Read(ctx context.Context, typ, id string) (fhir.Resource, error)
	Find(ctx context.Context, typ string, q store.Query) (store.FindPage, error)
}

// Scoping decides organisation-scoped access with the rules of ScopingRules: who may see a resource, and as whom
// a client writes it. It is safe for concurrent use.
type Scoping struct {
	rules map[string]TypeRule
	src   Source
	// practices caches the GP practice of patients, by patient id, and under absentKey the patients not stored.
	practices *practiceCache
	// targets caches the organisation tokens of the resources referenced through Via rules, by viaKey.
	targets *practiceCache
	// orgs caches the references of the Organizations carrying a client's ODS codes, by orgsKey.
	orgs *practiceCache
	// targetPaths lists, for each type Via rules resolve, the sets of its elements they read.
	targetPaths map[string][][]string
}

// NewScoping returns a Scoping that reads patients and organisations from src (nil: references are not resolved,
// so that patient data is seen by no GP practice; only an Indexer not yet attached to its store does that).
func NewScoping(src Source) *Scoping { return newScoping(src, time.Now) }

// newScoping is NewScoping with the clock of its caches.
func newScoping(src Source, now func() time.Time) *Scoping {
	s := &Scoping{rules: ScopingRules(), src: src, practices: newPracticeCache(cacheTTL, cacheSize, now),
		targets: newPracticeCache(cacheTTL, cacheSize, now), orgs: newPracticeCache(cacheTTL, cacheSize, now),
		targetPaths: map[string][][]string{}}
	for _, r := range s.rules {
		for _, via := range r.Via {
			for typ, paths := range via.Targets {
				if !slices.ContainsFunc(s.targetPaths[typ], func(p []string) bool { return slices.Equal(p, paths) }) {
					s.targetPaths[typ] = append(s.targetPaths[typ], paths)
				}
			}
		}
	}
	return s
}

// Shared reports whether resources of typ are visible to every client with a scope for the type.
func (s *Scoping) Shared(typ string) bool { return rule(s.rules, typ).Shared }

// Tokens returns who may see obj, a resource of typ: the ODS codes and "Organization/<id>" references named in its
// visibility and writer elements and in the resources its Via elements reference, and those of the registered GP
// practice of the patient it is about. Shared types have none (everyone sees them). It returns an error only when
// the patient or a referenced resource cannot be read (not when it does not exist).
func (s *Scoping) Tokens(ctx context.Context, typ string, obj fhir.Object) ([]string, error) {
	tokens, _, _, err := s.scope(ctx, typ, obj)
	return tokens, err
}

// scope returns the tokens of obj (see Tokens), the other resources they were read from as "Type/id" — the
// patients it is about and the Via targets it references, stored or not (one stored later names its
// organisations then) — and those of them not stored. All are sorted, each entry once.
func (s *Scoping) scope(ctx context.Context, typ string, obj fhir.Object) (tokens, sources, missing []string, err error) {
	r := rule(s.rules, typ)
	if r.Shared {
		return nil, nil, nil, nil
	}
	for _, path := range append(slices.Clone(r.See), r.Writers...) {
		tokens = append(tokens, orgTokens(obj, path)...)
	}
	via, refs, absent, err := s.viaTokens(ctx, r, obj, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	tokens, sources, missing = append(tokens, via...), refs, absent
	for _, path := range r.Patient {
		for _, id := range patientIDs(obj, path) {
			gp, found, err := s.practice(ctx, id)
			if err != nil {
				return nil, nil, nil, err
			}
			tokens, sources = append(tokens, gp...), append(sources, "Patient/"+id)
			if !found {
				missing = append(missing, "Patient/"+id)
			}
		}
	}
	return sortedSet(tokens), sortedSet(sources), sortedSet(missing), nil
}

// sortedSet sorts list and removes repetitions.
func sortedSet(list []string) []string {
	slices.Sort(list)
	return slices.Compact(list)
}

// practice returns the organisation tokens of the GP practice of Patient/id, and whether the patient is stored
// (none when it is not). Without a source, every patient counts as stored.
func (s *Scoping) practice(ctx context.Context, id string) ([]string, bool, error) {
	if s.src == nil {
		return nil, true, nil
	}
	if codes, ok := s.practices.get(id); ok {
		return codes, true, nil
	}
	if _, ok := s.practices.get(absentKey(id)); ok {
		return nil, false, nil
	}
	gen := s.practices.generation()
	p, err := s.src.Read(ctx, "Patient", id)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrGone) {
		s.practices.put(absentKey(id), nil, gen) // events often name patients never stored: read them once
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("organisation scoping: read the patient: %w", err)
	}
	obj, err := fhir.DecodeObject(p.JSON, fhir.MaxDepth)
	if err != nil {
		return nil, false, fmt.Errorf("organisation scoping: decode Patient/%s: %w", id, err)
	}
	codes := orgTokens(obj, practicePath)
	s.practices.put(id, codes, gen)
	return codes, true, nil
}

// absentKey is the practice cache's key recording that Patient/id is not stored ('!' is in no resource id).
func absentKey(id string) string { return "!" + id }

// viaTokens returns the organisation tokens named through the Via rules of r: those at the target elements of
// each resource obj references there, read from pending ("Type/id", resources of the same transaction), else from
// the cache, else from the source; the references resolved ("Type/id"); and those of them not stored (not in
// pending either). At most maxViaReads references are resolved; missing targets name none. The cache, like the patients', may hold a target changed by another
// process for its TTL.
func (s *Scoping) viaTokens(ctx context.Context, r TypeRule, obj fhir.Object, pending map[string]fhir.Object) (tokens, refs, missing []string, err error) {
	for _, via := range r.Via {
		for _, ref := range targetRefs(obj, via.Path, via.Targets) {
			if len(refs) == maxViaReads {
				return tokens, refs, missing, nil
			}
			refs = append(refs, ref)
			typ, id, _ := strings.Cut(ref, "/")
			paths := via.Targets[typ]
			if target, ok := pending[ref]; ok {
				tokens = append(tokens, targetTokens(target, paths)...)
				continue
			}
			if s.src == nil {
				continue
			}
			key := viaKey(ref, paths)
			if cached, ok := s.targets.get(key); ok {
				tokens = append(tokens, cached...)
				continue
			}
			gen := s.targets.generation()
			res, err := s.src.Read(ctx, typ, id)
			if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrGone) {
				missing = append(missing, ref)
				continue // not cached: it may be created next
			}
			if err != nil {
				return nil, nil, nil, fmt.Errorf("organisation scoping: read %s: %w", ref, err)
			}
			target, err := fhir.DecodeObject(res.JSON, fhir.MaxDepth)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("organisation scoping: decode %s: %w", ref, err)
			}
			found := targetTokens(target, paths)
			s.targets.put(key, found, gen)
			tokens = append(tokens, found...)
		}
	}
	return tokens, refs, missing, nil
}

// targetTokens returns the organisation tokens at the elements paths of a referenced resource.
func targetTokens(target fhir.Object, paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, orgTokens(target, p)...)
	}
	return out
}

// viaKey is the cache key of the organisations at the elements paths of the resource ref ("Type/id").
func viaKey(ref string, paths []string) string { return ref + "#" + strings.Join(paths, ",") }

// Index returns the scoping index fields of obj: FieldACL and FieldSources (and FieldAwaits for the sources not
// stored) for a scoped type, FieldODS for an Organization, and FieldLends for a Patient or a type Via rules resolve. It caches what it reads, never obj: the
// caches learn of a write from Forget, once it is decided.
func (s *Scoping) Index(ctx context.Context, typ string, obj fhir.Object) (map[string]any, error) {
	fields := map[string]any{}
	if typ == "Organization" {
		if codes := selfCodes(obj); len(codes) > 0 {
			fields[FieldODS] = codes
		}
	}
	if lends := s.lends(typ, obj); len(lends) > 0 {
		fields[FieldLends] = lends
	}
	tokens, sources, missing, err := s.scope(ctx, typ, obj)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		fields[FieldAwaits] = missing
	}
	if len(tokens) > 0 {
		fields[FieldACL] = tokens
	}
	if len(sources) > 0 {
		fields[FieldSources] = sources
	}
	return fields, nil
}

// lends returns what obj, a resource of typ, lends to the FieldACL of other resources, as "<elements>=<token>":
// a Patient's GP practice, and the organisations at each set of elements Via rules read of its type. It depends on
// obj alone, so that indexing another resource again never changes it.
func (s *Scoping) lends(typ string, obj fhir.Object) []string {
	var out []string
	if typ == "Patient" {
		for _, t := range orgTokens(obj, practicePath) {
			out = append(out, practicePath+"="+t)
		}
	}
	for _, paths := range s.targetPaths[typ] {
		key := strings.Join(paths, ",")
		for _, t := range targetTokens(obj, paths) {
			out = append(out, key+"="+t)
		}
	}
	return sortedSet(out)
}

// Forget drops what the Scoping caches about typ/id, so that this process serves nothing older than a write of
// it: a Patient's GP practice, the organisations of a resource Via rules resolve, and for an Organization the
// Organizations of every set of ODS codes (its codes may have been others before). The store calls it, through
// the Indexer, once each write is decided (store.Forgetter).
func (s *Scoping) Forget(typ, id string) {
	if typ == "Patient" {
		s.practices.drop(id, absentKey(id))
	}
	if sets := s.targetPaths[typ]; len(sets) > 0 {
		keys := make([]string, len(sets))
		for i, paths := range sets {
			keys[i] = viaKey(typ+"/"+id, paths)
		}
		s.targets.drop(keys...)
	}
	if typ == "Organization" {
		s.orgs.clear()
	}
}

// Visibility is what one principal may see, computed once per request.
type Visibility struct {
	s          *Scoping
	restricted bool
	tokens     []string // ODS codes and "Organization/<id>" of the principal's organisations
}

// Restricted reports whether p sees only what its organisations may see: provider and GP systems.
func Restricted(p Principal) bool {
	return !p.Unrestricted && (p.Role == RoleProvider || p.Role == RoleGP)
}

// Visibility returns what p may see: for a restricted principal, its ODS codes and the references of the
// Organizations that carry them (cached for cacheTTL by set of codes, and dropped when an Organization is written
// through this process).
func (s *Scoping) Visibility(ctx context.Context, p Principal) (*Visibility, error) {
	v := &Visibility{s: s, restricted: Restricted(p)}
	if !v.restricted {
		return v, nil
	}
	v.tokens = slices.Clone(p.Organizations)
	if s.src != nil && len(p.Organizations) > 0 {
		refs, err := s.organizations(ctx, p.Organizations)
		if err != nil {
			return nil, err
		}
		v.tokens = append(v.tokens, refs...)
	}
	return v, nil
}

// organizations returns the references of the Organizations carrying one of codes, from the cache or the source.
func (s *Scoping) organizations(ctx context.Context, codes []string) ([]string, error) {
	key := orgsKey(codes)
	if refs, ok := s.orgs.get(key); ok {
		return refs, nil
	}
	gen := s.orgs.generation()
	page, err := s.src.Find(ctx, "Organization", store.Query{Conds: []store.Cond{
		{Field: FieldODS, Op: store.OpEq, Values: fhir.Strings(codes)}}, OmitJSON: true})
	if err != nil {
		return nil, fmt.Errorf("organisation scoping: find the client's organisations: %w", err)
	}
	refs := make([]string, len(page.Resources))
	for i, r := range page.Resources {
		refs[i] = r.Reference()
	}
	s.orgs.put(key, refs, gen)
	return refs, nil
}

// orgsKey is the cache key of a set of ODS codes: the same whatever their order and repetitions.
func orgsKey(codes []string) string { return strings.Join(sortedSet(slices.Clone(codes)), "\n") }

// Sees reports whether the principal may see obj, a resource of typ.
func (v *Visibility) Sees(ctx context.Context, typ string, obj fhir.Object) (bool, error) {
	if !v.restricted || v.s.Shared(typ) {
		return true, nil
	}
	tokens, err := v.s.Tokens(ctx, typ, obj)
	if err != nil {
		return false, err
	}
	for _, t := range tokens {
		if slices.Contains(v.tokens, t) {
			return true, nil
		}
	}
	return false, nil
}

// Conds returns the conditions that restrict a query on typ to what the principal may see (none when it sees
// everything of typ). They are meant for the query itself, so that totals and pages count only visible resources.
func (v *Visibility) Conds(typ string) []store.Cond {
	if !v.restricted || v.s.Shared(typ) {
		return nil
	}
	return []store.Cond{{Field: FieldACL, Op: store.OpEq, Values: fhir.Strings(v.tokens)}}
}

// WritesAs returns nil when p may write obj, a resource of typ, as one of its organisations: one of the writer
// elements of the type, or a resource referenced through its Via rules, names an organisation p acts for, by ODS
// code or by a reference to an Organization carrying it. A Reference that gives both an ODS code and a literal
// reference names p only when both do, so that a writer cannot name itself in one part and another organisation
// (which the ledger would hold to account) in the other. An Organization (Self) is written only by a client acting
// for every ODS code among its identifiers. pending holds the resources of the same transaction by "Type/id", for
// references to an Organization (or a Via target) written with it. Unrestricted principals and administrators
// write anything. A refusal is a *fhir.Error of code forbidden (HTTP 403).
func (s *Scoping) WritesAs(ctx context.Context, p Principal, typ string, obj fhir.Object, pending map[string]fhir.Object) error {
	if !Restricted(p) {
		return nil
	}
	r := rule(s.rules, typ)
	if r.Self {
		return selfWriter(p, typ, obj)
	}
	named := false
	var mixed []string // References naming p in one part and another organisation in the other
	for _, path := range r.Writers {
		for _, ref := range orgRefs(obj, path) {
			names, other, err := s.refNames(ctx, p, ref, pending)
			if err != nil {
				return err
			}
			named = named || names && !other
			if names && other && !slices.Contains(mixed, typ+"."+path) {
				mixed = append(mixed, typ+"."+path)
			}
		}
	}
	if len(mixed) > 0 {
		refusal := fhir.Errorf(fhir.IssueForbidden, "", "client %q names one of its organisations in one part of a "+
			"Reference and another organisation in the other: the identifier and the reference must name the same "+
			"organisation (%s)", p.ClientID, strings.Join(mixed, ", "))
		refusal.Issues[0].Expression = mixed
		return refusal
	}
	if named {
		return nil
	}
	via, _, _, err := s.viaTokens(ctx, r, obj, pending)
	if err != nil {
		return err
	}
	for _, tok := range via {
		codes, err := s.orgCodes(ctx, tok, pending)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(codes, p.ActsFor) {
			return nil
		}
	}
	if len(r.Writers) == 0 && len(r.Via) == 0 {
		return fhir.Errorf(fhir.IssueForbidden, typ, "a %s names no organisation it is written as: only administrators write it", typ)
	}
	var where []string
	for _, w := range r.Writers {
		where = append(where, typ+"."+w)
	}
	direct := len(where) // the elements naming the writer themselves
	var through []string // the elements of referenced resources naming it
	for _, via := range r.Via {
		where = append(where, typ+"."+via.Path)
		for _, t := range slices.Sorted(maps.Keys(via.Targets)) {
			for _, path := range via.Targets[t] {
				through = append(through, fmt.Sprintf("%s.%s through %s.%s", t, path, typ, via.Path))
			}
		}
	}
	elems := strings.Join(append(slices.Clone(where[:direct]), through...), " or ")
	refusal := fhir.Errorf(fhir.IssueForbidden, "", "client %q writes a %s only as one of its organisations (%s), named "+
		"by ODS code or Organization reference in %s", p.ClientID, typ, strings.Join(p.Organizations, ", "), elems)
	refusal.Issues[0].Expression = where
	return refusal
}

// selfWriter checks that p acts for every ODS code among the identifiers of obj, a resource that is itself an
// organisation (an Organization), and that there is at least one.
func selfWriter(p Principal, typ string, obj fhir.Object) error {
	var foreign []string
	acts := false
	for i, v := range elements(obj, "identifier") {
		id, _ := v.(map[string]any)
		if sys, _ := id["system"].(string); sys != ODSSystem {
			continue
		}
		if code := odsCode(id); code != "" && p.ActsFor(code) {
			acts = true
			continue
		}
		foreign = append(foreign, fmt.Sprintf("%s.identifier[%d]", typ, i))
	}
	if acts && len(foreign) == 0 {
		return nil
	}
	refusal := fhir.Errorf(fhir.IssueForbidden, "", "client %q writes a %s only for its own organisations (%s): every "+
		"ODS code among its identifiers must be one of them", p.ClientID, typ, strings.Join(p.Organizations, ", "))
	refusal.Issues[0].Expression = []string{typ + ".identifier"}
	if len(foreign) > 0 {
		refusal.Issues[0].Expression = foreign
	}
	return refusal
}

// refNames reports whether ref names an organisation p acts for (names), and whether it names another one too
// (other): the ODS code and the Organization referenced, where ref gives them, must each be one of p's. A literal
// reference to an Organization that is not stored names none of p's.
func (s *Scoping) refNames(ctx context.Context, p Principal, ref orgRef, pending map[string]fhir.Object) (names, other bool, err error) {
	if ref.hasCode {
		if ref.code != "" && p.ActsFor(ref.code) {
			names = true
		} else {
			other = true
		}
	}
	if ref.ref != "" {
		codes, err := s.orgCodes(ctx, ref.ref, pending)
		if err != nil {
			return false, false, err
		}
		if slices.ContainsFunc(codes, p.ActsFor) {
			names = true
		} else {
			other = true
		}
	}
	return names, other, nil
}

// orgCodes returns the ODS codes of an organisation token: the code itself, or the identifiers of the referenced
// Organization (from pending, else the store); none when it does not exist.
func (s *Scoping) orgCodes(ctx context.Context, token string, pending map[string]fhir.Object) ([]string, error) {
	id, isRef := strings.CutPrefix(token, "Organization/")
	if !isRef {
		return []string{token}, nil
	}
	if obj, ok := pending[token]; ok {
		return selfCodes(obj), nil
	}
	if s.src == nil {
		return nil, nil
	}
	org, err := s.src.Read(ctx, "Organization", id)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrGone) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("organisation scoping: read %s: %w", token, err)
	}
	obj, err := fhir.DecodeObject(org.JSON, fhir.MaxDepth)
	if err != nil {
		return nil, fmt.Errorf("organisation scoping: decode %s: %w", token, err)
	}
	return selfCodes(obj), nil
}
