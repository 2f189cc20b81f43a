package search

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// cursor is the position a page link starts after (or, Before, ends before), opaque to clients: base64url JSON.
type cursor struct {
	// Sort identifies the order the position belongs to, so that a cursor is not used with another.
	Sort string `json:"o"`
	// Values are the sort values of the position: "s:string", "t:RFC 3339 time", or null for an absent value.
	Values []any  `json:"v"`
	ID     string `json:"i"`
	// Type is the resource type of the position (which a search of several types orders by).
	Type   string `json:"t,omitempty"`
	Before bool   `json:"b,omitempty"`
}

// sortSignature names an order: its fields with - for descending.
func sortSignature(keys []store.SortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.Field
		if k.Descending {
			parts[i] = "-" + k.Field
		}
	}
	return strings.Join(parts, ",")
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // strings, nil and slices of them always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a _cursor of the order keys; a cursor that is malformed or of another order is a 400.
func decodeCursor(s string, keys []store.SortKey) (cursor, *store.Position, error) {
	bad := fhir.Errorf(fhir.IssueInvalid, "_cursor", "the _cursor is not one of this search's page links")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, nil, bad
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.Sort != sortSignature(keys) || len(c.Values) != len(keys) || c.ID == "" {
		return cursor{}, nil, bad
	}
	pos := &store.Position{ID: c.ID, Values: make([]any, len(c.Values))}
	for i, v := range c.Values {
		if v == nil {
			continue
		}
		text, _ := v.(string)
		switch {
		case strings.HasPrefix(text, "s:"):
			pos.Values[i] = text[2:]
		case strings.HasPrefix(text, "t:"):
			t, err := time.Parse(time.RFC3339Nano, text[2:])
			if err != nil {
				return cursor{}, nil, bad
			}
			pos.Values[i] = t.UTC()
		default:
			return cursor{}, nil, bad
		}
	}
	return c, pos, nil
}

// newCursor is the cursor of a resource's position: the values of its sort keys (from its index fields).
func newCursor(keys []store.SortKey, r fhir.Resource, fields map[string]any, before bool) cursor {
	c := cursor{Sort: sortSignature(keys), ID: r.ID, Type: r.Type, Before: before, Values: make([]any, len(keys))}
	for i, k := range keys {
		switch k.Field {
		case "_id":
			c.Values[i] = "s:" + r.ID
		case "ts":
			c.Values[i] = "t:" + r.LastUpdated.UTC().Format(time.RFC3339Nano)
		default:
			if s, ok := fields[k.Field].(string); ok {
				c.Values[i] = "s:" + s
			}
		}
	}
	return c
}
