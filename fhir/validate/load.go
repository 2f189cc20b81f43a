package validate

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
)

// definitions are the conformance resources read from the definition files, by canonical URL.
type definitions struct {
	structures  map[string]*resource
	valueSets   map[string]*resource
	codeSystems map[string]*resource
	// specification holds the URLs of the profiles read from Options.CoreProfiles: those published with the
	// specification, which are known but not enforced when they use what the validator does not support.
	specification map[string]bool
}

// addSpecification adds the definitions of c, the files of Options.CoreProfiles, to d and records the URLs of
// its profiles. A URL that d defines too is an error.
func (d *definitions) addSpecification(c *definitions) error {
	d.specification = map[string]bool{}
	for _, m := range []struct{ from, to map[string]*resource }{
		{c.structures, d.structures}, {c.valueSets, d.valueSets}, {c.codeSystems, d.codeSystems}} {
		for _, url := range sortedKeys(m.from) {
			r := m.from[url]
			if _, dup := m.to[url]; dup {
				return fmt.Errorf("%s %s is defined twice", r.ResourceType, url)
			}
			m.to[url] = r
			if r.ResourceType == "StructureDefinition" {
				d.specification[url] = true
			}
		}
	}
	return nil
}

// readDefinitions reads every file matching patterns in fsys, decoding the files concurrently.
// A pattern that matches nothing is an error, so that a renamed file does not silently disable validation.
func readDefinitions(fsys fs.FS, patterns []string) (*definitions, error) {
	var names []string
	for _, p := range patterns {
		m, err := fs.Glob(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("definition files %q: %w", p, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("definition files %q: no file matches", p)
		}
		names = append(names, m...)
	}
	slices.Sort(names)
	names = slices.Compact(names)

	decoded := make([]*resource, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { decoded[i], errs[i] = readFile(fsys, name) })
	}
	wg.Wait()

	defs := &definitions{
		structures:  map[string]*resource{},
		valueSets:   map[string]*resource{},
		codeSystems: map[string]*resource{},
	}
	for i, r := range decoded {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if err := defs.add(r); err != nil {
			return nil, fmt.Errorf("definition file %s: %w", names[i], err)
		}
	}
	return defs, nil
}

// readFile decodes one JSON resource, gunzipping files named *.gz.
func readFile(fsys fs.FS, name string) (*resource, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("definition file: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("definition file %s: %w", name, err)
		}
		defer zr.Close()
		r = zr
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("definition file %s: %w", name, err)
	}
	var res resource
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("definition file %s: %w", name, err)
	}
	return &res, nil
}

// add files r (or the entries of a Bundle) by type and URL; other resource types are ignored.
// A URL defined twice is an error: which definition wins would otherwise depend on file order.
func (d *definitions) add(r *resource) error {
	var m map[string]*resource
	switch r.ResourceType {
	case "Bundle":
		for _, e := range r.Entry {
			if e.Resource != nil {
				if err := d.add(e.Resource); err != nil {
					return err
				}
			}
		}
		return nil
	case "StructureDefinition":
		m = d.structures
	case "ValueSet":
		m = d.valueSets
	case "CodeSystem":
		m = d.codeSystems
	default:
		return nil
	}
	if r.URL == "" {
		return fmt.Errorf("%s without url", r.ResourceType)
	}
	if _, dup := m[r.URL]; dup {
		return fmt.Errorf("%s %s is defined twice", r.ResourceType, r.URL)
	}
	m[r.URL] = r
	return nil
}
