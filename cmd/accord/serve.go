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
	"runtime/debug"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/accord-fhir/accord/api"
	"github.com/accord-fhir/accord/internal/auth"
	"github.com/accord-fhir/accord/internal/config"
	"github.com/accord-fhir/accord/internal/embeddb"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/internal/rest"
	"github.com/accord-fhir/accord/internal/search"
	"github.com/accord-fhir/accord/internal/store"
	"github.com/accord-fhir/accord/internal/store/mongo"
)

// serve runs the service until ctx ends: in-flight requests finish, then the database closes.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, listening func(string)) error {
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg.LogLevel, stderr)
	if getenv("GOGC") == "" { // the Go runtime's own setting wins
		debug.SetGCPercent(cfg.GCPercent)
	}
	files := &secrets{}
	if !cfg.AuthOff() {
		if files, err = loadSecrets(cfg); err != nil {
			return err
		}
	}
	tlsConfig, err := loadTLS(cfg)
	if err != nil {
		return err
	}
	pack, err := loadPack(cfg)
	if err != nil {
		return err
	}

	uri, where := cfg.MongoURI, "MongoDB"
	var embedded *embeddb.Server
	if uri == "" {
		db, err := embeddb.Start(filepath.Join(cfg.DataDir, "db"), nil)
		if err != nil {
			return err
		}
		defer closeEmbedded(db, log)
		uri, where, embedded = db.URI(), "the embedded database in "+cfg.DataDir, db
	}
	storeOpts := mongo.DefaultOptions()
	storeOpts.Database, storeOpts.SingleWriter, storeOpts.TypeDatabases, storeOpts.Logger = cfg.Database, cfg.MongoURI == "", cfg.MongoURI == "", log
	storeOpts.QueryIndexes = cfg.MongoURI != "" // the embedded database answers queries without them
	if embedded != nil {
		storeOpts.Dialer = embedded.Dialer() // its writers queue per database instead of sleeping on SQLite's lock
	}
	scoping := auth.NewIndexer()
	searchParams, err := searchParameters()
	if err != nil {
		return err
	}
	storeOpts.Indexer = store.Indexers{search.NewIndexer(searchParams, log), scoping, ledger.Indexer{}}
	st, err := mongo.Open(ctx, uri, storeOpts)
	if err != nil {
		return fmt.Errorf("open the store on %s: %w", where, err)
	}
	scoping.Attach(st)
	defer func() {
		if err := st.Close(context.Background()); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()

	v, guide, err := validators(cfg.RuleLevels, cfg.RuleLevelsFile)
	if err != nil {
		return err
	}
	led, err := newLedger(ctx, cfg, st, pack, log)
	if err != nil {
		return err
	}
	searcher := search.New(st, searchParams, searchOptions(cfg, v, guide))
	restOpts := rest.DefaultOptions()
	restOpts.Scoping = scoping.Scoping() // access shares the indexer's caches, which the store's writes keep current
	svc := rest.New(led.Observe(st), v, searcher, restOpts)
	apiOpts := api.DefaultOptions()
	apiOpts.Ledger, apiOpts.Includes = led, searcher
	apiOpts.BaseURL, apiOpts.MaxBody, apiOpts.Ready, apiOpts.Logger, apiOpts.Version = cfg.BaseURL, cfg.MaxBody, st.Ping, log, version
	apiOpts.Conformance = guide

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	base := cfg.BaseURL
	if base == "" {
		base = "http://" + ln.Addr().String()
		if tlsConfig != nil {
			base = "https://" + ln.Addr().String()
		}
	}
	sec, err := newSecurity(ctx, cfg, files, st, base, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer sec.close(log)
	apiOpts.Security = sec.Security
	srv := &http.Server{Handler: api.New(svc, apiOpts), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
		TLSConfig: tlsConfig, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stdout, "Accord is serving FHIR R4 at %s/ (on %s)\n", base, where)
	announce(cfg, files, base, stdout, stderr)
	if listening != nil {
		listening(ln.Addr().String())
	}

	g, gctx := errgroup.WithContext(ctx)
	// The ledger stops after the last request: it processes what they committed.
	ledgerCtx, stopLedger := context.WithCancel(context.Background())
	defer stopLedger()
	g.Go(func() error { return led.Run(ledgerCtx) })
	g.Go(func() error {
		if err := serveOn(srv, ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error { return st.Maintain(gctx, cfg.RecoverInterval) })
	if embedded != nil {
		g.Go(func() error { return indexIDs(gctx, embedded, log) })
	}
	g.Go(func() error { return sec.run(gctx) })
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		log.Info("shutting down: finishing in-flight requests")
		defer stopLedger()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

// indexIDs gives the embedded database's collections the _id index its point lookups need (embeddb.IndexIDs), at
// start and then every minute for the collections created since.
func indexIDs(ctx context.Context, db *embeddb.Server, log *slog.Logger) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if err := db.IndexIDs(ctx); err != nil && ctx.Err() == nil {
			log.Error("indexing the embedded database", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
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
