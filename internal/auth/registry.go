package auth

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// ErrClientInFile is returned by Registry.Put and Registry.Delete for a client defined in the clients file (or the
// development client): it is changed in the file, and the service restarted.
var ErrClientInFile = errors.New("the client is defined in the clients file")

// Registry is the service's Clients: the clients of the clients file (fixed), above those registered through the
// admin API (stored in the database). A fixed client wins over a stored one with the same id, which it hides, and
// cannot be changed or deleted through the registry; removing it from the file and restarting removes it.
type Registry struct {
	fixed  *MemoryClients
	stored Clients
}

var _ Clients = (*Registry)(nil)

// NewRegistry returns the registry of the fixed clients over stored. It returns the validation error of the first
// invalid fixed client, or an error naming a client id given twice.
func NewRegistry(fixed []Client, stored Clients) (*Registry, error) {
	seen := map[string]bool{}
	for _, c := range fixed {
		if seen[c.ID] {
			return nil, fmt.Errorf("client %q is defined twice", c.ID)
		}
		seen[c.ID] = true
	}
	m, err := NewMemoryClients(fixed...)
	if err != nil {
		return nil, err
	}
	return &Registry{fixed: m, stored: stored}, nil
}

// Get returns the fixed client with this id, else the stored one, else ErrClientNotFound.
func (r *Registry) Get(ctx context.Context, id string) (Client, error) {
	c, err := r.fixed.Get(ctx, id)
	if !errors.Is(err, ErrClientNotFound) {
		return c, err
	}
	return r.stored.Get(ctx, id)
}

// List returns every client, fixed ones hiding stored ones of the same id, ordered by id.
func (r *Registry) List(ctx context.Context) ([]Client, error) {
	fixed, _ := r.fixed.List(ctx)
	stored, err := r.stored.List(ctx)
	if err != nil {
		return nil, err
	}
	out := fixed
	for _, c := range stored {
		if !r.Fixed(c.ID) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Put validates c and stores it; ErrClientInFile for a fixed client.
func (r *Registry) Put(ctx context.Context, c Client) error {
	if r.Fixed(c.ID) {
		return fmt.Errorf("put client %q: %w", c.ID, ErrClientInFile)
	}
	return r.stored.Put(ctx, c)
}

// Delete removes a stored client; ErrClientInFile for a fixed one, ErrClientNotFound for an unknown one.
func (r *Registry) Delete(ctx context.Context, id string) error {
	if r.Fixed(id) {
		return fmt.Errorf("delete client %q: %w", id, ErrClientInFile)
	}
	return r.stored.Delete(ctx, id)
}

// Fixed reports whether the client id is defined in the clients file.
func (r *Registry) Fixed(id string) bool {
	_, err := r.fixed.Get(context.Background(), id)
	return err == nil
}

// Hidden returns the ids of stored clients that fixed clients hide, for a warning at start.
func (r *Registry) Hidden(ctx context.Context) ([]string, error) {
	stored, err := r.stored.List(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range stored {
		if r.Fixed(c.ID) {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}
