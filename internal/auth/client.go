package auth

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
)

// Client is a registered SMART backend-services client, as written in the clients file and the admin API.
// Exactly one of JWKS and JWKSURI holds its public keys.
type Client struct {
	ID            string   `json:"client_id"`
	Organizations []string `json:"organizations"`
	Role          Role     `json:"role"`
	Scopes        []string `json:"scopes"`
	JWKS          *JWKS    `json:"jwks,omitempty"`
	JWKSURI       string   `json:"jwks_uri,omitempty"`
	// IdentifiableAccess lets an analyst see patient identifiers in clear.
	IdentifiableAccess bool `json:"identifiable_access,omitempty"`
}

// clone returns a deep copy of c, so that a registry never shares slices with its callers.
func (c Client) clone() Client {
	c.Organizations = slices.Clone(c.Organizations)
	c.Scopes = slices.Clone(c.Scopes)
	if c.JWKS != nil {
		c.JWKS = &JWKS{Keys: slices.Clone(c.JWKS.Keys)}
	}
	return c
}

// ErrClientNotFound is returned for a client id that is not registered.
var ErrClientNotFound = errors.New("client not found")

// Clients is the registry of clients.
//
// Get and Delete return ErrClientNotFound for an unknown id. Put validates the client (see ValidateClient) and
// returns that *fhir.Error when it is invalid; it registers a new client or replaces the one with the same id.
type Clients interface {
	Get(ctx context.Context, id string) (Client, error)
	List(ctx context.Context) ([]Client, error)
	Put(ctx context.Context, c Client) error
	Delete(ctx context.Context, id string) error
}

// MemoryClients is a Clients held in memory, typically seeded from the clients file.
type MemoryClients struct {
	mu      sync.RWMutex
	clients map[string]Client
}

var _ Clients = (*MemoryClients)(nil)

// NewMemoryClients returns a registry holding clients. It returns the validation error of the first invalid client.
func NewMemoryClients(clients ...Client) (*MemoryClients, error) {
	m := &MemoryClients{clients: make(map[string]Client, len(clients))}
	for _, c := range clients {
		if err := m.Put(context.Background(), c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Get returns the client with this id, or ErrClientNotFound.
func (m *MemoryClients) Get(_ context.Context, id string) (Client, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.clients[id]
	if !ok {
		return Client{}, ErrClientNotFound
	}
	return c.clone(), nil
}

// List returns every client, ordered by id.
func (m *MemoryClients) List(_ context.Context) ([]Client, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Client, 0, len(m.clients))
	for _, c := range m.clients {
		out = append(out, c.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Put validates c and registers it, replacing any client with the same id.
func (m *MemoryClients) Put(_ context.Context, c Client) error {
	if err := ValidateClient(c); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clients[c.ID] = c.clone()
	return nil
}

// Delete removes the client with this id, or returns ErrClientNotFound.
func (m *MemoryClients) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clients[id]; !ok {
		return ErrClientNotFound
	}
	delete(m.clients, id)
	return nil
}
