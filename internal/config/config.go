// Package config loads Accord's configuration once, from environment variables and the matching command-line
// flags (flags win), with defaults, and says exactly what is wrong with it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is Accord's configuration.
type Config struct {
	// Addr is the listen address (ACCORD_ADDR, -addr).
	Addr string
	// DataDir holds the embedded database (ACCORD_DATA_DIR, -data-dir).
	DataDir string
	// MongoURI selects a MongoDB server instead of the embedded database (MONGODB_URI, -mongodb-uri).
	MongoURI string
	// Database is the database name (ACCORD_DB, -db).
	Database string
	// MaxBody is the largest request body in bytes (ACCORD_MAX_BODY, -max-body; accepts 10MB, 512KB, 1048576).
	MaxBody int64
	// BaseURL is the public FHIR base URL (ACCORD_BASE_URL, -base-url); empty derives it from each request.
	BaseURL string
	// ShutdownTimeout bounds the wait for in-flight requests at SIGTERM (ACCORD_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// RecoverInterval is how often unfinished writes are looked for (ACCORD_RECOVER_INTERVAL).
	RecoverInterval time.Duration
	// SweepInterval is how often obligations past due are marked breached (ACCORD_SWEEP_INTERVAL, -sweep-interval).
	SweepInterval time.Duration
	// RulePack names a rule pack file to load instead of the implementation guide's (ACCORD_RULE_PACK,
	// -rule-pack); its clause CodeSystem is read relative to it. RuleDurations sets the pack's local durations,
	// e.g. "result-communication=P10D,referral-first-contact=P21D" (ACCORD_RULE_DURATIONS, -rule-durations).
	// cmd loads and checks both.
	RulePack, RuleDurations string
	// LogLevel is debug, info, warn or error (ACCORD_LOG_LEVEL).
	LogLevel string
	// RuleLevels overrides the enforcement level (error, warning or off) of Consensus clauses, e.g.
	// "2.4=warning,8.3=off" (ACCORD_RULE_LEVELS, -rule-levels); RuleLevelsFile names a file of such entries, one a
	// line (ACCORD_RULE_LEVELS_FILE, -rule-levels-file). RuleLevels wins over the file. cmd parses both.
	RuleLevels, RuleLevelsFile string
	// Auth is "on" (the default) or "off" (ACCORD_AUTH, -auth): off serves every request without a token, as an
	// administrator, for local development only.
	Auth string
	// ClientsFile names the JSON file of the registered clients (ACCORD_CLIENTS_FILE, -clients-file).
	ClientsFile string
	// TokenKeyFile names the PEM file of the P-384 keys that sign access tokens, the current key last, shared by
	// every instance (ACCORD_TOKEN_KEY_FILE, -token-key-file). Required with MONGODB_URI; otherwise a key is
	// generated and kept under the data directory.
	TokenKeyFile string
	// PseudonymKeyFile names the file of the secret that pseudonymises patient identifiers for analysts
	// (ACCORD_PSEUDONYM_KEY_FILE, -pseudonym-key-file). Required with MONGODB_URI; otherwise generated under the
	// data directory.
	PseudonymKeyFile string
	// RateLimit is the requests per second each client may make, in bursts of twice that (ACCORD_RATE_LIMIT,
	// -rate-limit); 0 turns the limit off.
	RateLimit float64
	// SearchMaxCount is the largest page a search returns: a larger _count is lowered to it
	// (ACCORD_SEARCH_MAX_COUNT, -search-max-count; 1 to 10000).
	SearchMaxCount int
	// GCPercent is the Go garbage collector's target: the heap grows by this percentage of the live heap between
	// collections (ACCORD_GC_PERCENT, -gc-percent; 25 to 2000). Go's default, 100, collects so often under write
	// load that the collector takes a large share of the CPU; GOGC in the environment, when set, wins over it.
	GCPercent int
	// TLSCertFile and TLSKeyFile name the PEM certificate chain and key to serve HTTPS directly
	// (ACCORD_TLS_CERT_FILE, ACCORD_TLS_KEY_FILE); both or neither.
	TLSCertFile, TLSKeyFile string
}

// DefaultGCPercent is the garbage collector's default target (Config.GCPercent).
const DefaultGCPercent = 400

// AuthOff reports whether authentication is turned off.
func (c Config) AuthOff() bool { return c.Auth == "off" }

// Default returns the defaults.
func Default() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "./data",
		Database:        "accord",
		MaxBody:         10 << 20,
		ShutdownTimeout: 30 * time.Second,
		RecoverInterval: time.Minute,
		SweepInterval:   time.Minute,
		LogLevel:        "info",
		Auth:            "on",
		RateLimit:       50,
		SearchMaxCount:  1000,
		GCPercent:       DefaultGCPercent,
	}
}

// Load reads the environment (through getenv) and then args; it returns the configuration or every problem.
func Load(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	c := Default()
	var errs []error
	str := func(dst *string, env string) {
		if v := getenv(env); v != "" {
			*dst = v
		}
	}
	str(&c.Addr, "ACCORD_ADDR")
	str(&c.DataDir, "ACCORD_DATA_DIR")
	str(&c.MongoURI, "MONGODB_URI")
	str(&c.Database, "ACCORD_DB")
	str(&c.BaseURL, "ACCORD_BASE_URL")
	str(&c.LogLevel, "ACCORD_LOG_LEVEL")
	str(&c.RuleLevels, "ACCORD_RULE_LEVELS")
	str(&c.RuleLevelsFile, "ACCORD_RULE_LEVELS_FILE")
	str(&c.Auth, "ACCORD_AUTH")
	str(&c.ClientsFile, "ACCORD_CLIENTS_FILE")
	str(&c.TokenKeyFile, "ACCORD_TOKEN_KEY_FILE")
	str(&c.PseudonymKeyFile, "ACCORD_PSEUDONYM_KEY_FILE")
	str(&c.TLSCertFile, "ACCORD_TLS_CERT_FILE")
	str(&c.TLSKeyFile, "ACCORD_TLS_KEY_FILE")
	rateLimit := getenv("ACCORD_RATE_LIMIT")
	searchMax := getenv("ACCORD_SEARCH_MAX_COUNT")
	gcPercent := getenv("ACCORD_GC_PERCENT")
	maxBody := getenv("ACCORD_MAX_BODY")
	shutdown, recover := getenv("ACCORD_SHUTDOWN_TIMEOUT"), getenv("ACCORD_RECOVER_INTERVAL")
	sweep := getenv("ACCORD_SWEEP_INTERVAL")
	str(&c.RulePack, "ACCORD_RULE_PACK")
	str(&c.RuleDurations, "ACCORD_RULE_DURATIONS")

	fs := flag.NewFlagSet("accord serve", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (ACCORD_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the embedded database (ACCORD_DATA_DIR)")
	fs.StringVar(&c.MongoURI, "mongodb-uri", c.MongoURI, "MongoDB connection string; empty runs the embedded database (MONGODB_URI)")
	fs.StringVar(&c.Database, "db", c.Database, "database name (ACCORD_DB)")
	fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public FHIR base URL (ACCORD_BASE_URL)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (ACCORD_LOG_LEVEL)")
	fs.StringVar(&c.RuleLevels, "rule-levels", c.RuleLevels, "enforcement level per Consensus clause, e.g. 2.4=warning,8.3=off (ACCORD_RULE_LEVELS)")
	fs.StringVar(&c.RuleLevelsFile, "rule-levels-file", c.RuleLevelsFile, "file of clause=level lines (ACCORD_RULE_LEVELS_FILE)")
	fs.StringVar(&maxBody, "max-body", maxBody, "largest request body, e.g. 10MB (ACCORD_MAX_BODY)")
	fs.StringVar(&shutdown, "shutdown-timeout", shutdown, "wait for in-flight requests at shutdown, e.g. 30s (ACCORD_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&recover, "recover-interval", recover, "how often to finish interrupted writes, e.g. 1m (ACCORD_RECOVER_INTERVAL)")
	fs.StringVar(&sweep, "sweep-interval", sweep, "how often to mark obligations past due as breached, e.g. 1m (ACCORD_SWEEP_INTERVAL)")
	fs.StringVar(&c.RulePack, "rule-pack", c.RulePack, "rule pack file instead of the built-in South East London Consensus (ACCORD_RULE_PACK)")
	fs.StringVar(&c.RuleDurations, "rule-durations", c.RuleDurations, "local durations of the rule pack, e.g. result-communication=P10D (ACCORD_RULE_DURATIONS)")
	fs.StringVar(&c.Auth, "auth", c.Auth, "on, or off for local development only (ACCORD_AUTH)")
	fs.StringVar(&c.ClientsFile, "clients-file", c.ClientsFile, "JSON file of the registered clients (ACCORD_CLIENTS_FILE)")
	fs.StringVar(&c.TokenKeyFile, "token-key-file", c.TokenKeyFile, "PEM file of the token signing keys, current last (ACCORD_TOKEN_KEY_FILE)")
	fs.StringVar(&c.PseudonymKeyFile, "pseudonym-key-file", c.PseudonymKeyFile, "file of the pseudonymisation secret (ACCORD_PSEUDONYM_KEY_FILE)")
	fs.StringVar(&rateLimit, "rate-limit", rateLimit, "requests per second per client, 0 for no limit (ACCORD_RATE_LIMIT)")
	fs.StringVar(&searchMax, "search-max-count", searchMax, "largest page of a search (ACCORD_SEARCH_MAX_COUNT)")
	fs.StringVar(&gcPercent, "gc-percent", gcPercent, "garbage collector target, in percent of the live heap (ACCORD_GC_PERCENT)")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", c.TLSCertFile, "PEM certificate chain to serve HTTPS (ACCORD_TLS_CERT_FILE)")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", c.TLSKeyFile, "PEM private key to serve HTTPS (ACCORD_TLS_KEY_FILE)")
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("flags: %w", err)
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if maxBody != "" {
		n, err := ParseSize(maxBody)
		if err != nil {
			errs = append(errs, fmt.Errorf("ACCORD_MAX_BODY: %w", err))
		}
		c.MaxBody = n
	}
	for _, d := range []struct {
		name, v string
		dst     *time.Duration
	}{{"ACCORD_SHUTDOWN_TIMEOUT", shutdown, &c.ShutdownTimeout}, {"ACCORD_RECOVER_INTERVAL", recover, &c.RecoverInterval}, {"ACCORD_SWEEP_INTERVAL", sweep, &c.SweepInterval}} {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as 30s", d.name, d.v))
		}
		*d.dst = v
	}
	if rateLimit != "" {
		v, err := strconv.ParseFloat(rateLimit, 64)
		if err != nil || v < 0 || v > 1e6 {
			errs = append(errs, fmt.Errorf("ACCORD_RATE_LIMIT: %q is not a number of requests per second (0 for none)", rateLimit))
		}
		c.RateLimit = v
	}
	if searchMax != "" {
		n, err := strconv.Atoi(searchMax)
		if err != nil {
			errs = append(errs, fmt.Errorf("ACCORD_SEARCH_MAX_COUNT: %q is not a whole number", searchMax))
		}
		c.SearchMaxCount = n
	}
	if gcPercent != "" {
		n, err := strconv.Atoi(gcPercent)
		if err != nil {
			errs = append(errs, fmt.Errorf("ACCORD_GC_PERCENT: %q is not a whole number", gcPercent))
		}
		c.GCPercent = n
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("ACCORD_ADDR: %q is not host:port", c.Addr))
	}
	if c.MongoURI == "" && c.DataDir == "" {
		errs = append(errs, errors.New("ACCORD_DATA_DIR: empty, and no MONGODB_URI is set"))
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		errs = append(errs, errors.New("MONGODB_URI: must start with mongodb:// or mongodb+srv://"))
	}
	if c.Database == "" || strings.ContainsAny(c.Database, "/\\. \"$") {
		errs = append(errs, fmt.Errorf("ACCORD_DB: %q is not a valid database name", c.Database))
	}
	if c.SearchMaxCount < 1 || c.SearchMaxCount > 10000 {
		errs = append(errs, fmt.Errorf("ACCORD_SEARCH_MAX_COUNT: %d is not from 1 to 10000", c.SearchMaxCount))
	}
	if c.GCPercent < 25 || c.GCPercent > 2000 {
		errs = append(errs, fmt.Errorf("ACCORD_GC_PERCENT: %d is not from 25 to 2000", c.GCPercent))
	}
	if c.MaxBody < 1024 {
		errs = append(errs, fmt.Errorf("ACCORD_MAX_BODY: %d bytes is too small (at least 1KB)", c.MaxBody))
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("ACCORD_BASE_URL: %q is not an http(s) URL", c.BaseURL))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("ACCORD_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(append(errs, c.validateSecurity()...)...)
}

// validateSecurity checks the authentication and TLS settings: with MONGODB_URI (several instances), the keys
// are shared files, not generated ones.
func (c Config) validateSecurity() []error {
	var errs []error
	if c.Auth != "on" && c.Auth != "off" {
		errs = append(errs, fmt.Errorf("ACCORD_AUTH: %q is not on or off", c.Auth))
	}
	if c.MongoURI != "" && c.Auth == "on" {
		if c.TokenKeyFile == "" {
			errs = append(errs, errors.New("ACCORD_TOKEN_KEY_FILE: required with MONGODB_URI (every instance signs with the same keys)"))
		}
		if c.PseudonymKeyFile == "" {
			errs = append(errs, errors.New("ACCORD_PSEUDONYM_KEY_FILE: required with MONGODB_URI (every instance pseudonymises alike)"))
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("ACCORD_TLS_CERT_FILE and ACCORD_TLS_KEY_FILE: give both, or neither"))
	}
	return errs
}

// ParseSize reads a byte size: a number with an optional KB, MB or GB suffix (powers of 1024).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 10MB", s)
	}
	return n * mult, nil
}
