package store

import "context"

// Restriction gives, for a resource type, the conditions every resource of that type read on the caller's behalf
// must also meet (the caller's organisation scoping); nil conditions mean no restriction for the type, and an OpEq
// condition without values lets nothing of it through.
type Restriction func(typ string) []Cond

type restrictionKey struct{}

// WithRestriction returns ctx carrying r: searches made with it restrict every query they make — the searched
// type, chained and reverse-chained types, included resources — so that nothing the caller may not see can
// decide or appear in a result; type and system history keep the versions of the resources it lets through.
func WithRestriction(ctx context.Context, r Restriction) context.Context {
	return context.WithValue(ctx, restrictionKey{}, r)
}

// RestrictionFrom returns the restriction in ctx, or nil.
func RestrictionFrom(ctx context.Context) Restriction {
	r, _ := ctx.Value(restrictionKey{}).(Restriction)
	return r
}
