package mongo

import (
	"context"
	"encoding/json"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/accord-fhir/accord/internal/auth"
)

// Clients is the registry of the clients registered through the admin API, in the "auth_clients" collection: one
// document per client, keyed by client id, holding the registration as JSON.
type Clients struct {
	coll *mongo.Collection
}

var _ auth.Clients = (*Clients)(nil)

// clientDoc is one stored client.
type clientDoc struct {
	ID   string `bson:"_id"`
	JSON string `bson:"json"`
}

// NewClients returns the client registry of the store's database.
func NewClients(s *Store) *Clients { return &Clients{coll: s.db.Collection("auth_clients")} }

// Get returns the client with this id, or auth.ErrClientNotFound.
func (c *Clients) Get(ctx context.Context, id string) (auth.Client, error) {
	var d clientDoc
	err := c.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if notFound(err) {
		return auth.Client{}, auth.ErrClientNotFound
	}
	if err != nil {
		return auth.Client{}, fmt.Errorf("read client %q: %w", id, err)
	}
	return d.client()
}

// List returns every stored client, ordered by id.
func (c *Clients) List(ctx context.Context) ([]auth.Client, error) {
	cur, err := c.coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	var docs []clientDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	out := make([]auth.Client, 0, len(docs))
	for _, d := range docs {
		cl, err := d.client()
		if err != nil {
			return nil, err
		}
		out = append(out, cl)
	}
	return out, nil
}

// Put validates cl (returning the *fhir.Error of auth.ValidateClient) and stores it, replacing any client with the
// same id.
func (c *Clients) Put(ctx context.Context, cl auth.Client) error {
	if err := auth.ValidateClient(cl); err != nil {
		return err
	}
	b, err := json.Marshal(cl)
	if err != nil {
		return fmt.Errorf("encode client %q: %w", cl.ID, err)
	}
	_, err = c.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: cl.ID}}, clientDoc{ID: cl.ID, JSON: string(b)},
		options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("store client %q: %w", cl.ID, err)
	}
	return nil
}

// Delete removes the client with this id, or returns auth.ErrClientNotFound.
func (c *Clients) Delete(ctx context.Context, id string) error {
	res, err := c.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return fmt.Errorf("delete client %q: %w", id, err)
	}
	if res.DeletedCount == 0 {
		return auth.ErrClientNotFound
	}
	return nil
}

func (d clientDoc) client() (auth.Client, error) {
	var cl auth.Client
	if err := json.Unmarshal([]byte(d.JSON), &cl); err != nil {
		return auth.Client{}, fmt.Errorf("stored client %q does not decode: %w", d.ID, err)
	}
	return cl, nil
}
