// Command accord runs Accord, the FHIR R4 service that holds the South East London primary/secondary care
// interface Consensus to account. `accord serve` (the default) runs the service; `accord help` lists the verbs.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "accord:", err)
		os.Exit(1)
	}
}

// run dispatches a verb; listening, when not nil, receives the address the service listens on.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, listening func(addr string)) error {
	verb := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		verb, args = args[0], args[1:]
	}
	switch verb {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr, listening)
	case "token":
		return token(ctx, args, getenv, stdout, stderr)
	case "validate":
		return validateFiles(ctx, args, getenv, stdout, stderr)
	case "igpack":
		return igpack(args, stdout, stderr)
	case "ledger":
		return ledgerVerb(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "accord", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return errors.New("unknown verb " + verb + "; run `accord help`")
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `accord: the FHIR R4 service of the South East London interface Consensus

  accord [serve] [flags]   run the service (the default); accord serve -h lists the flags
  accord token [flags]     print an access token of the development client (embedded database, auth on)
  accord validate FILE|DIR… validate resources and Bundles offline against the Accord implementation guide
  accord igpack [-o FILE]  write the implementation guide as a FHIR NPM package (.tgz)
  accord ledger verify     recompute the ledger's hash chain and report its first broken link (service stopped)
  accord version           print the version
  accord help              print this help

With no MONGODB_URI, accord runs an embedded database (FerretDB on SQLite) under ACCORD_DATA_DIR (./data).
`
