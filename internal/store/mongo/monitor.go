package mongo

import (
	"context"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
)

// Command is a database command the store sent, as Options.Monitor sees it.
type Command struct {
	// Name is the command: find, aggregate (counts), insert, update, delete, listIndexes …
	Name string
	// Collection is the collection it addresses ("" for database commands).
	Collection string
	// Fields are the document fields its filter compares (through $and, $or and $nor), sorted, each once; for
	// an aggregate, those of its $match stages.
	Fields []string
}

// commandMonitor reports every started command to fn.
func commandMonitor(fn func(Command)) *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		fn(describe(e.CommandName, e.Command))
	}}
}

func describe(name string, cmd bson.Raw) Command {
	c := Command{Name: name}
	if v, err := cmd.LookupErr(name); err == nil {
		c.Collection, _ = v.StringValueOK()
	}
	var doc bson.D
	if err := bson.Unmarshal(cmd, &doc); err != nil {
		return c
	}
	seen := map[string]bool{}
	for _, e := range doc {
		switch e.Key {
		case "filter", "query", "q":
			collectFields(e.Value, seen)
		case "pipeline":
			if stages, ok := e.Value.(bson.A); ok {
				for _, st := range stages {
					if d, ok := st.(bson.D); ok {
						for _, se := range d {
							if se.Key == "$match" {
								collectFields(se.Value, seen)
							}
						}
					}
				}
			}
		case "updates", "deletes":
			if list, ok := e.Value.(bson.A); ok {
				for _, u := range list {
					if d, ok := u.(bson.D); ok {
						for _, ue := range d {
							if ue.Key == "q" {
								collectFields(ue.Value, seen)
							}
						}
					}
				}
			}
		}
	}
	for f := range seen {
		c.Fields = append(c.Fields, f)
	}
	slices.Sort(c.Fields)
	return c
}

// collectFields adds the field names a filter compares.
func collectFields(v any, seen map[string]bool) {
	switch t := v.(type) {
	case bson.D:
		for _, e := range t {
			if strings.HasPrefix(e.Key, "$") {
				collectFields(e.Value, seen)
			} else {
				seen[e.Key] = true
			}
		}
	case bson.A:
		for _, e := range t {
			collectFields(e, seen)
		}
	}
}
