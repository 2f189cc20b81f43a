package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/accord-fhir/accord/fhir/fhirpath"
	"github.com/accord-fhir/accord/internal/config"
	"github.com/accord-fhir/accord/internal/embeddb"
	"github.com/accord-fhir/accord/internal/ledger"
	"github.com/accord-fhir/accord/internal/store/mongo"
	"github.com/accord-fhir/accord/profiles"
)

// loadPack loads the configured rule pack (ACCORD_RULE_PACK, or the implementation guide's) with the configured
// local durations; any problem stops the start with every problem listed.
func loadPack(cfg config.Config) (*ledger.Pack, error) {
	durations, err := parseDurations(cfg.RuleDurations)
	if err != nil {
		return nil, err
	}
	fsys, name := fs.FS(profiles.FS), ledger.DefaultPack
	if cfg.RulePack != "" {
		abs, err := filepath.Abs(cfg.RulePack)
		if err != nil {
			return nil, fmt.Errorf("ACCORD_RULE_PACK: %w", err)
		}
		// The root, so that the pack may name its clause CodeSystem relative to itself, ../ included.
		fsys, name = os.DirFS("/"), strings.TrimPrefix(filepath.ToSlash(abs), "/")
	}
	p, err := ledger.LoadPack(fsys, name, fhirpath.NewEngine(), durations)
	var pe *ledger.PackError
	if errors.As(err, &pe) && cfg.RulePack != "" {
		pe.Name = cfg.RulePack
	}
	if err != nil {
		return nil, fmt.Errorf("ACCORD_RULE_PACK: %w", err)
	}
	return p, nil
}

// parseDurations reads ACCORD_RULE_DURATIONS: name=duration entries separated by commas.
func parseDurations(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, d, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(name) == "" || strings.TrimSpace(d) == "" {
			return nil, fmt.Errorf("ACCORD_RULE_DURATIONS: %q is not name=duration (e.g. result-communication=P10D)", part)
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(d)
	}
	return out, nil
}

// newLedger builds the ledger over the open store: its entries and state in st's database, its clock the wall
// clock, its sweep every cfg.SweepInterval.
func newLedger(ctx context.Context, cfg config.Config, st *mongo.Store, pack *ledger.Pack, log *slog.Logger) (*ledger.Ledger, error) {
	ls, err := mongo.NewLedger(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("open the ledger: %w", err)
	}
	opts := ledger.DefaultOptions()
	opts.SweepInterval, opts.SingleWriter, opts.Logger = cfg.SweepInterval, cfg.MongoURI == "", log
	return ledger.New(st, ls, pack, opts), nil
}

// ledgerVerb runs `accord ledger verify`: it recomputes the hash chain of the configured database's ledger and
// reports the first broken link (an error, so a non-zero exit). The embedded database must not be in use by a
// running service.
func ledgerVerb(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: accord ledger verify [flags of accord serve: -data-dir, -mongodb-uri, -db]")
	}
	cfg, err := config.Load(args[1:], getenv, stderr)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	uri := cfg.MongoURI
	if uri == "" {
		db, err := embeddb.Start(filepath.Join(cfg.DataDir, "db"), nil)
		if err != nil {
			return err
		}
		defer closeEmbedded(db, newLogger(cfg.LogLevel, stderr))
		uri = db.URI()
	}
	l, disconnect, err := mongo.OpenLedger(ctx, uri, cfg.Database)
	if err != nil {
		return err
	}
	defer disconnect()
	v, err := ledger.Verify(ctx, l)
	if err != nil {
		return fmt.Errorf("verify the ledger: %w", err)
	}
	if v.Broken != nil {
		fmt.Fprintf(stdout, "ledger broken at entry %d: %s (%d entries verified before it)\n", v.Broken.Seq, v.Broken.Reason, v.Entries)
		return fmt.Errorf("the ledger's hash chain is broken at entry %d", v.Broken.Seq)
	}
	fmt.Fprintf(stdout, "ledger verified: %d entries, head %d %s\n", v.Entries, v.Head, v.HeadHash)
	return nil
}
