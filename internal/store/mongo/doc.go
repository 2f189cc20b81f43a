// Package mongo implements store.Store on MongoDB through the official driver; it runs unchanged on the embedded
// FerretDB. It is the only package of Accord that imports the driver.
//
// Layout: "versions" holds every version, keyed "Type/id/vid" (inserting it is the compare-and-swap of a write);
// one collection per resource type holds the current view, keyed by id, with the search index fields. With
// Options.TypeDatabases (the embedded database), each type's view and versions are in a database of its own,
// "<database>_<Type>", so that each type has its own SQLite file and writer; system history then merges the
// types' versions (history.go), and the older single-database layout is moved at start (layout.go). "txns" holds
// the commit records of multi-resource commits; "claims" the conditional-create claims; "meta" the repair mark;
// "reindex" the pending re-indexes (reindex.go). Each version also carries a copy of its resource's restriction
// fields (Options.VersionFields, e.g. the organisation-scoping acl) so that restricted history is one query.
// Versions and views hold the resource's JSON exactly as received in "raw", compressed (rawjson.go).
// A multi-resource commit writes its versions marked pending, then inserts its commit record (the atomic decision),
// then rolls forward; Recover finishes or undoes what a crashed process left. A write whose version or view the
// database could not store, or whose index fields hold too many values, is refused before any of this (limits.go).
// See design.md "Storage".
package mongo
