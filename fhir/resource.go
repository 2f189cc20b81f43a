package fhir

import (
	"time"
)

// Resource is one stored version of a resource: who it is, and the complete JSON served to clients
// (with id and meta set by the server). A deleted version has Deleted set and no JSON.
type Resource struct {
	Type        string
	ID          string
	VersionID   string
	LastUpdated time.Time
	Deleted     bool
	JSON        []byte
}

// Reference is "Type/id", the relative reference of r.
func (r Resource) Reference() string { return r.Type + "/" + r.ID }

// InstantFormat is the layout of meta.lastUpdated and other instants Accord writes: UTC with milliseconds.
const InstantFormat = "2006-01-02T15:04:05.000Z07:00"

// SetMeta sets the server-managed id, meta.versionId and meta.lastUpdated of obj, keeping the rest of meta
// (profile, tag, security, source, extensions) as sent.
func SetMeta(obj Object, id, versionID string, lastUpdated time.Time) {
	obj["id"] = id
	meta, _ := obj["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["versionId"] = versionID
	meta["lastUpdated"] = lastUpdated.UTC().Format(InstantFormat)
	obj["meta"] = meta
}

// ResourceType returns obj's resourceType, or "" when it is absent or not a string.
func ResourceType(obj Object) string {
	s, _ := obj["resourceType"].(string)
	return s
}
