package auth

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadOrCreateSecret returns the contents of the secret file at path, first creating it with create's bytes when
// it does not exist: readable by its owner only (0600), in a directory made 0700, and never overwritten (two
// processes starting at once cannot both create it: the second fails and can read the first's on retry).
func ReadOrCreateSecret(path string, create func() ([]byte, error)) ([]byte, error) {
	data, err := os.ReadFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return data, err
	}
	if data, err = create(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	return data, f.Close()
}
