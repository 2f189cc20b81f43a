package auth

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadOrCreateSecret_CreatesOnceOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "secret")
	calls := 0
	create := func() ([]byte, error) { calls++; return []byte("first"), nil }
	got, err := ReadOrCreateSecret(path, create)
	if err != nil || string(got) != "first" {
		t.Fatalf("first call = %q, %v", got, err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("file mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
	got, err = ReadOrCreateSecret(path, func() ([]byte, error) { calls++; return []byte("second"), nil })
	if err != nil || string(got) != "first" || calls != 1 {
		t.Errorf("second call = %q, %v after %d creations; want the first secret, created once", got, err, calls)
	}
}
