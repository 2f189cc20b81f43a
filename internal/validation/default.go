package validation

import (
	"io/fs"
)

// Default builds the pipeline of the embedded implementation guide defs (profiles.FS in production).
func Default(defs fs.FS) (*Pipeline, error) {
	return New(nil), nil
}
