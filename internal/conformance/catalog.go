// Package conformance serves the conformance resources of Accord's implementation guide — StructureDefinition,
// ValueSet, CodeSystem, OperationDefinition and ImplementationGuide — read-only: read by id, search (on the
// parameters of SearchParams, with paging, sorting, _summary, _elements and _total), and the expansion of the
// guide's own value sets ($expand); and, through Terminology, the value sets and code system hierarchies of R4
// and of the guide that token searches name (:in, :not-in, :below, :above).
// See https://hl7.org/fhir/R4/conformance-module.html, https://hl7.org/fhir/R4/search.html and
// https://hl7.org/fhir/R4/valueset-operation-expand.html.
package conformance

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/accord-fhir/accord/fhir"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
)

// Types are the resource types a Catalog serves.
var Types = []string{"CodeSystem", "ImplementationGuide", "OperationDefinition", "StructureDefinition", "ValueSet"}

// Catalog holds the conformance resources of the guide. It is immutable and safe for concurrent use.
type Catalog struct {
	byType map[string][]*entry // sorted by id
	byURL  map[string]*entry
	loaded time.Time
	// reg parses searches and extracts the values they match (the parameters of definitions).
	reg        *fhirsearch.Registry
	summarizer *fhirsearch.Summarizer
}

// entry is one resource, with the values its search parameters match.
type entry struct {
	res                  fhir.Resource
	obj                  fhir.Object
	url, version, sdType string
	// values are the values of the search parameters, by code (_id and _lastUpdated included).
	values map[string]fhirsearch.Values
}

// Load reads the resources of the types in Types from the files of fsys matching patterns (other files and
// resource types are skipped), checking that ids and canonical URLs are unique. loaded is the lastUpdated of
// the resources (the time the guide was loaded), kept to the millisecond that meta.lastUpdated shows.
func Load(fsys fs.FS, loaded time.Time, patterns ...string) (*Catalog, error) {
	reg, err := newRegistry()
	if err != nil {
		return nil, fmt.Errorf("conformance search parameters: %w", err)
	}
	c := &Catalog{byType: map[string][]*entry{}, byURL: map[string]*entry{}, loaded: loaded.UTC().Truncate(time.Millisecond),
		reg: reg, summarizer: fhirsearch.NewSummarizer()}
	for _, p := range patterns {
		names, err := fs.Glob(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("conformance resources %q: %w", p, err)
		}
		for _, name := range names {
			if err := c.add(fsys, name); err != nil {
				return nil, err
			}
		}
	}
	for _, list := range c.byType {
		slices.SortFunc(list, func(a, b *entry) int { return strings.Compare(a.res.ID, b.res.ID) })
	}
	return c, nil
}

func (c *Catalog) add(fsys fs.FS, name string) error {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("conformance resource %s: %w", name, err)
	}
	obj, err := fhir.DecodeObject(data, fhir.MaxDepth)
	if err != nil {
		return fmt.Errorf("conformance resource %s: %w", name, err)
	}
	typ := fhir.ResourceType(obj)
	if !slices.Contains(Types, typ) {
		return nil
	}
	e := &entry{obj: obj}
	e.url, e.version, e.sdType = str(obj, "url"), str(obj, "version"), str(obj, "type")
	id := str(obj, "id")
	switch {
	case !fhir.ValidID(id):
		return fmt.Errorf("conformance resource %s: no valid id", name)
	case e.url == "":
		return fmt.Errorf("conformance resource %s: no url", name)
	case c.byURL[e.url] != nil:
		return fmt.Errorf("conformance resource %s: url %s is defined twice", name, e.url)
	case c.find(typ, id) != nil:
		return fmt.Errorf("conformance resource %s: %s/%s is defined twice", name, typ, id)
	}
	fhir.SetMeta(obj, id, "1", c.loaded)
	body, err := fhir.Marshal(obj)
	if err != nil {
		return fmt.Errorf("conformance resource %s: %w", name, err)
	}
	e.res = fhir.Resource{Type: typ, ID: id, VersionID: "1", LastUpdated: c.loaded, JSON: body}
	if e.values, err = c.searchValues(typ, obj); err != nil {
		return fmt.Errorf("conformance resource %s: %w", name, err)
	}
	c.byType[typ] = append(c.byType[typ], e)
	c.byURL[e.url] = e
	return nil
}

// searchValues are the values of obj's search parameters: those the registry extracts, its id and its
// lastUpdated (an instant: one millisecond).
func (c *Catalog) searchValues(typ string, obj fhir.Object) (map[string]fhirsearch.Values, error) {
	extracted, err := c.reg.Extract(typ, obj)
	if err != nil {
		return nil, fmt.Errorf("search values: %w", err)
	}
	out := make(map[string]fhirsearch.Values, len(extracted)+2)
	for _, x := range extracted {
		out[x.Param.Code] = x.Values
	}
	out["_id"] = fhirsearch.Values{Tokens: []fhirsearch.Token{{Code: str(obj, "id")}}}
	out["_lastUpdated"] = fhirsearch.Values{Ranges: []fhirsearch.Range{{Start: c.loaded, End: c.loaded.Add(time.Millisecond)}}}
	return out, nil
}

func str(obj fhir.Object, key string) string {
	s, _ := obj[key].(string)
	return s
}

func (c *Catalog) find(typ, id string) *entry {
	for _, e := range c.byType[typ] {
		if e.res.ID == id {
			return e
		}
	}
	return nil
}

// Serves reports whether typ is a type the catalog serves.
func (c *Catalog) Serves(typ string) bool { return slices.Contains(Types, typ) }

// Read returns the resource typ/id; a *fhir.Error of code not-found when there is none.
func (c *Catalog) Read(typ, id string) (fhir.Resource, error) {
	if e := c.find(typ, id); e != nil {
		return e.res, nil
	}
	return fhir.Resource{}, fhir.Errorf(fhir.IssueNotFound, "", "no %s with id %q in the implementation guide", typ, truncate(id, 64))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Profiles returns the canonical URLs of the guide's profiles of resource type typ, sorted.
func (c *Catalog) Profiles(typ string) []string {
	var out []string
	for _, e := range c.byType["StructureDefinition"] {
		if e.sdType == typ && str(e.obj, "kind") == "resource" && str(e.obj, "derivation") == "constraint" {
			out = append(out, e.url)
		}
	}
	slices.Sort(out)
	return out
}
