package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/validation"
)

// maxFileSize bounds the files `accord validate` reads, as the API bounds request bodies.
const maxFileSize = 64 << 20

// validateFiles runs `accord validate FILE|DIR…`: it validates each JSON resource or Bundle (the files of a
// directory, recursively) with the pipeline of the service, the entries of every Bundle against the profiles
// too (and the best-practice constraints, as warnings), prints the issues, and returns an error when any file has
// an error, so that vendors' CI fails.
func validateFiles(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("accord validate", flag.ContinueOnError)
	fset.SetOutput(stderr)
	levels := fset.String("rule-levels", getenv("ACCORD_RULE_LEVELS"), "enforcement level per Consensus clause, e.g. 2.4=warning,8.3=off (ACCORD_RULE_LEVELS)")
	levelsFile := fset.String("rule-levels-file", getenv("ACCORD_RULE_LEVELS_FILE"), "file of clause=level lines (ACCORD_RULE_LEVELS_FILE)")
	quiet := fset.Bool("q", false, "print errors only, not warnings and information")
	fset.Usage = func() {
		fmt.Fprint(stderr, "usage: accord validate [flags] FILE|DIR…\n\nValidates FHIR R4 JSON resources and Bundles against the R4 definitions and the Accord implementation guide.\nExits with status 1 when any file has an error.\n\n")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() == 0 {
		fset.Usage()
		return errors.New("validate: name at least one file or directory")
	}
	p, err := pipeline(*levels, *levelsFile, true)
	if err != nil {
		return err
	}
	files, err := jsonFiles(fset.Args())
	if err != nil {
		return err
	}
	var errs, warns int
	for _, f := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		issues := validateFile(ctx, p, f)
		for _, is := range issues {
			switch is.Severity {
			case fhir.SeverityError, fhir.SeverityFatal:
				errs++
			case fhir.SeverityWarning:
				warns++
			}
			if !*quiet || is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal {
				fmt.Fprintln(stdout, formatIssue(f, is))
			}
		}
	}
	fmt.Fprintf(stdout, "%d files: %d errors, %d warnings\n", len(files), errs, warns)
	if errs > 0 {
		return fmt.Errorf("validate: %d errors", errs)
	}
	return nil
}

// jsonFiles expands the arguments: files as named, directories to their *.json files (recursively, sorted),
// leaving out the manifests of FHIR packages (package.json, .index.json).
func jsonFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("validate: %w", err)
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		err = filepath.WalkDir(a, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if !d.IsDir() && strings.HasSuffix(name, ".json") && name != "package.json" && name != ".index.json" {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("validate: %w", err)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// validateFile returns the issues of one file: one structure issue when it cannot be read or decoded.
func validateFile(ctx context.Context, p *validation.Pipeline, path string) []fhir.Issue {
	f, err := os.Open(path)
	if err != nil {
		return []fhir.Issue{{Severity: fhir.SeverityFatal, Code: fhir.IssueException, Details: err.Error()}}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	switch {
	case err != nil:
		return []fhir.Issue{{Severity: fhir.SeverityFatal, Code: fhir.IssueException, Details: err.Error()}}
	case len(data) > maxFileSize:
		return []fhir.Issue{{Severity: fhir.SeverityFatal, Code: fhir.IssueTooLong, Details: fmt.Sprintf("the file is larger than %d MB", maxFileSize>>20)}}
	}
	obj, err := fhir.DecodeObject(data, fhir.MaxDepth)
	if err != nil {
		if fe, ok := fhir.AsError(err); ok {
			return fe.Issues
		}
		return []fhir.Issue{{Severity: fhir.SeverityFatal, Code: fhir.IssueStructure, Details: err.Error()}}
	}
	return p.ValidateAll(ctx, obj)
}

// formatIssue renders an issue as one line: file, severity, code, location, details, diagnostics.
func formatIssue(file string, is fhir.Issue) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: %s %s", file, is.Severity, is.Code)
	if len(is.Expression) > 0 {
		fmt.Fprintf(&sb, " at %s", strings.Join(is.Expression, ", "))
	}
	fmt.Fprintf(&sb, ": %s", is.Details)
	if is.Diagnostics != "" {
		fmt.Fprintf(&sb, " [%s]", is.Diagnostics)
	}
	return sb.String()
}
