// Package embeddb runs FerretDB with its SQLite backend inside the Accord process, so that Accord and its tests
// have a real MongoDB wire-protocol database when no MongoDB server is configured.
//
// It is a default for trying Accord and for tests; production uses a MongoDB replica set (see shared design).
package embeddb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Server is a running embedded database.
type Server struct {
	dir    string
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
	turns  *turns // each database's turn to write, shared by the connections of Dialer
}

// Start runs FerretDB on SQLite files under dir (created if missing), listening on a free loopback port.
// It returns an error when the directory cannot be created or FerretDB cannot start.
func Start(dir string, logger *slog.Logger) (*Server, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded database directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create embedded database directory: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    slog.New(&lazyHandler{inner: logger.Handler()}),
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", OmitHost: true, Path: abs + "/"}).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded database: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{dir: abs, uri: f.MongoDBURI(), cancel: cancel, done: make(chan struct{}), turns: newTurns()}
	go func() {
		defer close(s.done)
		_ = f.Run(ctx)
	}()
	return s, nil
}

// URI is the mongodb:// connection string of the running server.
func (s *Server) URI() string { return s.uri }

// Close stops the server and waits (up to the context's deadline) for its SQLite files to be closed.
func (s *Server) Close(ctx context.Context) error {
	s.cancel()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return errors.New("embedded database did not stop in time")
	case <-time.After(30 * time.Second):
		return errors.New("embedded database did not stop within 30s")
	}
}
