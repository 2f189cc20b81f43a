package audit

import (
	"context"
	"sync"
)

// Trail collects what one request touches, for its entry. It is safe for concurrent use.
type Trail struct {
	mu          sync.Mutex
	resources   []string
	refused     []string
	omitted     int
	interaction string
}

// trailKey is the context key of the Trail.
type trailKey struct{}

// NewContext returns a copy of ctx that carries t.
func NewContext(ctx context.Context, t *Trail) context.Context {
	return context.WithValue(ctx, trailKey{}, t)
}

// FromContext returns the Trail of ctx, or nil.
func FromContext(ctx context.Context) *Trail {
	t, _ := ctx.Value(trailKey{}).(*Trail)
	return t
}

// Touch records resources ("Type/id/_history/vid") in the trail of ctx, if it has one.
func Touch(ctx context.Context, resources ...string) {
	t := FromContext(ctx)
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range resources {
		if len(t.resources) < MaxResources {
			t.resources = append(t.resources, r)
		} else {
			t.omitted++
		}
	}
}

// Refuse records the targets ("Type/id") of interactions refused to the request of ctx, if it has a trail: a
// batch's entries, each refused on its own.
func Refuse(ctx context.Context, targets ...string) {
	t := FromContext(ctx)
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range targets {
		if len(t.refused) < MaxResources {
			t.refused = append(t.refused, r)
		}
	}
}

// Refused returns the targets recorded with Refuse.
func (t *Trail) Refused() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.refused...)
}

// SetInteraction names the interaction of the request of ctx more precisely than its route can (a Bundle is a
// batch or a transaction).
func SetInteraction(ctx context.Context, interaction string) {
	if t := FromContext(ctx); t != nil {
		t.mu.Lock()
		t.interaction = interaction
		t.mu.Unlock()
	}
}

// Resources returns the resources touched and how many were omitted beyond MaxResources.
func (t *Trail) Resources() ([]string, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.resources...), t.omitted
}

// Interaction returns the interaction set with SetInteraction, or "".
func (t *Trail) Interaction() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.interaction
}
