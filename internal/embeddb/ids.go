package embeddb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// IndexIDs gives every collection an index that FerretDB's point lookups can use. FerretDB v1.24's SQLite
// backend answers {_id: x} with `WHERE _ferretdb_sjson->'$._id' = ?` but indexes `_ferretdb_sjson->"_id"`; SQLite
// uses an expression index only for the same expression, so every lookup by _id scans its table. This gives each
// collection table a unique index on the expression the lookups use instead (FerretDB's own, on the same values
// under another spelling, goes: one index of _id to keep up on every insert, not two; a taken _id is still refused
// as a duplicate key). It is idempotent; run it after collections are created. Dropping a collection drops its
// index with its table.
func (s *Server) IndexIDs(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(s.dir, "*.sqlite"))
	if err != nil {
		return fmt.Errorf("list database files: %w", err)
	}
	for _, f := range files {
		if err := indexFile(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

func indexFile(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("database file %s: %w", filepath.Base(path), err)
	}
	u := &url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: "_pragma=busy_timeout(10000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM "_ferretdb_collections"`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil
		}
		return fmt.Errorf("list collections of %s: %w", filepath.Base(path), err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return fmt.Errorf("list collections of %s: %w", filepath.Base(path), err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list collections of %s: %w", filepath.Base(path), err)
	}
	for _, t := range tables {
		// First the unique index on the expression the lookups use, then without FerretDB's own (on the same
		// values, so just as unique, but never used by a query): every insert then maintains one index of _id,
		// not two. The index of earlier versions of this function, not unique, goes too.
		for _, q := range []string{
			fmt.Sprintf(`CREATE UNIQUE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+"_accord_uid", t),
			fmt.Sprintf(`DROP INDEX IF EXISTS %q`, t+"__id_"),
			fmt.Sprintf(`DROP INDEX IF EXISTS %q`, t+"_accord_id"),
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("index _id of %s: %w", t, err)
			}
		}
	}
	return nil
}
