package conformance

import (
	"slices"
	"strings"

	"github.com/accord-fhir/accord/fhir/fhirpath"
	fhirsearch "github.com/accord-fhir/accord/fhir/search"
)

// r4Params is the base of the canonical URLs of R4's search parameters.
const r4Params = "http://hl7.org/fhir/SearchParameter/"

// definitions are the R4 search parameters the catalog implements: those of every resource on its id and meta
// (not _content, _text and _query), R4's conformance-* parameters on the elements the five types share, and
// StructureDefinition's type. Each is R4's (TestDefinitions_AreR4s) with its bases narrowed to the catalog's
// types. R4 defines more on these types (date, description, kind …): searches with them are refused.
func definitions() []fhirsearch.Definition {
	def := func(name, code string, typ fhirsearch.Type, base []string, expr string) fhirsearch.Definition {
		return fhirsearch.Definition{URL: r4Params + name, Code: code, Type: typ, Base: base, Expression: expr, Version: "4.0.1"}
	}
	out := []fhirsearch.Definition{
		def("Resource-id", "_id", fhirsearch.TypeToken, Types, "Resource.id"),
		def("Resource-lastUpdated", "_lastUpdated", fhirsearch.TypeDate, Types, "Resource.meta.lastUpdated"),
		def("Resource-profile", "_profile", fhirsearch.TypeURI, Types, "Resource.meta.profile"),
		def("Resource-security", "_security", fhirsearch.TypeToken, Types, "Resource.meta.security"),
		def("Resource-source", "_source", fhirsearch.TypeURI, Types, "Resource.meta.source"),
		def("Resource-tag", "_tag", fhirsearch.TypeToken, Types, "Resource.meta.tag"),
		def("StructureDefinition-type", "type", fhirsearch.TypeURI, []string{"StructureDefinition"}, "StructureDefinition.type"),
	}
	for _, p := range []struct {
		code string
		typ  fhirsearch.Type
	}{{"name", fhirsearch.TypeString}, {"publisher", fhirsearch.TypeString}, {"status", fhirsearch.TypeToken},
		{"title", fhirsearch.TypeString}, {"url", fhirsearch.TypeURI}, {"version", fhirsearch.TypeToken}} {
		branches := make([]string, len(Types))
		for i, t := range Types {
			branches[i] = t + "." + p.code
		}
		out = append(out, def("conformance-"+p.code, p.code, p.typ, Types, strings.Join(branches, " | ")))
	}
	return out
}

// SearchParams returns the search parameters the catalog implements on typ, sorted by code, for the
// CapabilityStatement; none for a type it does not serve.
func SearchParams(typ string) []fhirsearch.Definition {
	var out []fhirsearch.Definition
	for _, d := range definitions() {
		if slices.Contains(d.Base, typ) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b fhirsearch.Definition) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// newRegistry returns the registry of definitions, which parses searches and extracts the values they match.
func newRegistry() (*fhirsearch.Registry, error) {
	return fhirsearch.NewRegistry(definitions(), fhirpath.NewEngine())
}
