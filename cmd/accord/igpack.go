package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"time"

	"github.com/accord-fhir/accord/profiles"
)

// igpack runs `accord igpack [-o FILE]`: it writes the embedded implementation guide as a FHIR NPM package, a
// gzipped tar of package/package.json, package/.index.json, the conformance resources in package/ and the
// examples in package/example/, that vendors load into their own tools (the HL7 validator, HAPI, Firely).
// See https://confluence.hl7.org/display/FHIR/NPM+Package+Specification.
func igpack(args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("accord igpack", flag.ContinueOnError)
	fset.SetOutput(stderr)
	out := fset.String("o", "", "output file (default: NAME-VERSION.tgz from package.json, in the current directory)")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return errors.New("igpack: unexpected arguments; use -o FILE")
	}
	manifest, err := readManifest(profiles.FS)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = manifest.Name + "-" + manifest.Version + ".tgz"
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("igpack: %w", err)
	}
	n, err := writePackage(f, profiles.FS)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(*out)
		return fmt.Errorf("igpack: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %s %s, %d resources\n", *out, manifest.Name, manifest.Version, n)
	return nil
}

type packageManifest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func readManifest(fsys fs.FS) (packageManifest, error) {
	var m packageManifest
	data, err := fs.ReadFile(fsys, "ig/package.json")
	if err != nil {
		return m, fmt.Errorf("igpack: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Name == "" || m.Version == "" {
		return m, fmt.Errorf("igpack: ig/package.json has no name and version (%v)", err)
	}
	return m, nil
}

// indexEntry is one file of package/.index.json.
type indexEntry struct {
	Filename     string `json:"filename"`
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	URL          string `json:"url,omitempty"`
	Version      string `json:"version,omitempty"`
	Kind         string `json:"kind,omitempty"`
	Type         string `json:"type,omitempty"`
}

// writePackage writes the package of the guide in fsys (ig/) to w and returns the number of resources.
// Entries are sorted and carry a fixed time, so that the same guide gives the same bytes.
func writePackage(w io.Writer, fsys fs.FS) (int, error) {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) error {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0).UTC(), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	manifest, err := fs.ReadFile(fsys, "ig/package.json")
	if err != nil {
		return 0, err
	}
	if err := add("package/package.json", manifest); err != nil {
		return 0, err
	}
	index, n, err := addResources(fsys, add)
	if err != nil {
		return 0, err
	}
	idx, err := json.MarshalIndent(map[string]any{"index-version": 1, "files": index}, "", "  ")
	if err != nil {
		return 0, err
	}
	if err := add("package/.index.json", idx); err != nil {
		return 0, err
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	return n, gz.Close()
}

// readIndexEntry reads the .index.json entry of a resource: its type and id, and its url, version, kind and type
// where they are strings (an OperationDefinition's "type" is a boolean, not a StructureDefinition's type).
func readIndexEntry(data []byte) (indexEntry, error) {
	var r struct {
		ResourceType, ID, URL, Version string
		Kind, Type                     any
	}
	if err := json.Unmarshal(data, &r); err != nil || r.ResourceType == "" || r.ID == "" {
		return indexEntry{}, errors.New("not a FHIR resource with an id")
	}
	e := indexEntry{ResourceType: r.ResourceType, ID: r.ID, URL: r.URL, Version: r.Version}
	e.Kind, _ = r.Kind.(string)
	e.Type, _ = r.Type.(string)
	return e, nil
}

// addResources adds the conformance resources of ig/ to package/ and the examples of ig/examples/ to
// package/example/, in name order; it returns the index of the conformance resources and the number of files.
func addResources(fsys fs.FS, add func(name string, data []byte) error) ([]indexEntry, int, error) {
	index, n := []indexEntry{}, 0
	for _, dir := range []string{"ig", "ig/examples"} {
		names, err := fs.Glob(fsys, dir+"/*.json")
		if err != nil {
			return nil, 0, err
		}
		slices.Sort(names)
		for _, name := range names {
			base := path.Base(name)
			if base == "package.json" {
				continue
			}
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, 0, err
			}
			e, err := readIndexEntry(data)
			if err != nil {
				return nil, 0, fmt.Errorf("%s: %w", name, err)
			}
			target := "package/example/" + base
			if dir == "ig" {
				target, e.Filename = "package/"+base, base
				index = append(index, e)
			}
			if err := add(target, data); err != nil {
				return nil, 0, err
			}
			n++
		}
	}
	return index, n, nil
}
