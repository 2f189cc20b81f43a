package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/accord-fhir/accord/api"
	"github.com/accord-fhir/accord/internal/config"
	"github.com/accord-fhir/accord/internal/embeddb"
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/search"
	"github.com/accord-fhir/accord/internal/store/mongo"
)

// serve runs the service until ctx ends: in-flight requests finish, then the database closes.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, listening func(string)) error {
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg.LogLevel, stderr)

	uri, where := cfg.MongoURI, "MongoDB"
	if uri == "" {
		db, err := embeddb.Start(filepath.Join(cfg.DataDir, "db"), nil)
		if err != nil {
			return err
		}
		defer closeEmbedded(db, log)
		uri, where = db.URI(), "the embedded database in "+cfg.DataDir
	}
	storeOpts := mongo.DefaultOptions()
	storeOpts.Database, storeOpts.SingleWriter, storeOpts.Logger = cfg.Database, cfg.MongoURI == "", log
	storeOpts.Indexer = search.Identifiers{}
	st, err := mongo.Open(ctx, uri, storeOpts)
	if err != nil {
		return fmt.Errorf("open the store on %s: %w", where, err)
	}
	defer func() {
		if err := st.Close(context.Background()); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()

	v, err := validators()
	if err != nil {
		return err
	}
	svc := rest.New(st, v, search.NewIdentifiers(st), rest.DefaultOptions())
	apiOpts := api.DefaultOptions()
	apiOpts.BaseURL, apiOpts.MaxBody, apiOpts.Ready, apiOpts.Logger, apiOpts.Version = cfg.BaseURL, cfg.MaxBody, st.Ping, log, version

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: api.New(svc, apiOpts), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	base := cfg.BaseURL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	fmt.Fprintf(stdout, "Accord is serving FHIR R4 at %s/ (on %s)\n", base, where)
	if listening != nil {
		listening(ln.Addr().String())
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error { return st.Maintain(gctx, cfg.RecoverInterval) })
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		log.Info("shutting down: finishing in-flight requests")
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

func closeEmbedded(db *embeddb.Server, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.Close(ctx); err != nil {
		log.Error("closing the embedded database", "err", err)
	}
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
