package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/accord-fhir/accord/api/apitest"
	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// searchDataset is the purpose-built search data set (testdata/search/README.md).
const searchDataset = "../testdata/search/dataset.json"

// loadResources writes resources straight to the store (with their ids, indexed as on any write): the search
// tests need data of every type without the Accord profiles' requirements, which the write tests cover.
func loadResources(t testing.TB, s *apitest.Server, resources []fhir.Object) {
	t.Helper()
	for _, obj := range resources {
		typ, id := fhir.ResourceType(obj), obj["id"].(string)
		w := store.Write{Type: typ, ID: id, Object: obj, Method: "PUT"}
		if _, err := s.Store.Commit(context.Background(), []store.Write{w}); err != nil {
			t.Fatalf("load %s/%s: %v", typ, id, err)
		}
	}
}

// readBundleResources reads the resources of a collection Bundle file.
func readBundleResources(t testing.TB, path string) []fhir.Object {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := fhir.DecodeObject(b, fhir.MaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	var out []fhir.Object
	for _, e := range obj["entry"].([]any) {
		out = append(out, e.(map[string]any)["resource"].(map[string]any))
	}
	return out
}

// readExamples reads every official R4 example of testdata/r4examples.
func readExamples(t testing.TB) []fhir.Object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", examplesDir, err)
	}
	var out []fhir.Object
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := fhir.DecodeObject(b, fhir.MaxDepth)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, obj)
	}
	return out
}

// searchSet is a searchset Bundle as a test sees it.
type searchSet struct {
	raw      map[string]any
	matches  []string // "Type/id" of the match entries, in order
	included []string // "Type/id" of the include entries, sorted
	outcome  []map[string]any
	links    map[string]string
	total    *int
}

func parseSearchSet(t testing.TB, r *apitest.Response) searchSet {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("status %d, want 200: %s", r.Status, truncated(r.Body))
	}
	b := decode(t, r.Body)
	if b["resourceType"] != "Bundle" || b["type"] != "searchset" {
		t.Fatalf("not a searchset Bundle: %s", truncated(r.Body))
	}
	ss := searchSet{raw: b, links: map[string]string{}}
	if n, ok := b["total"].(json.Number); ok {
		v, _ := n.Int64()
		total := int(v)
		ss.total = &total
	}
	for _, l := range asList(b["link"]) {
		ss.links[l["relation"].(string)] = l["url"].(string)
	}
	for _, e := range asList(b["entry"]) {
		res, _ := e["resource"].(map[string]any)
		mode := get(e, "search", "mode")
		id, _ := res["id"].(string)
		ref := res["resourceType"].(string) + "/" + id
		switch mode {
		case "match":
			ss.matches = append(ss.matches, ref)
		case "include":
			ss.included = append(ss.included, ref)
		case "outcome":
			ss.outcome = append(ss.outcome, res)
		default:
			t.Errorf("entry %s has search.mode %v", ref, mode)
		}
	}
	slices.Sort(ss.included)
	return ss
}

// ids returns the ids of "Type/id" references.
func idsOf(refs []string) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		_, out[i], _ = strings.Cut(r, "/")
	}
	return out
}

// pathOf returns the path and query of a link, relative to the server.
func pathOf(t testing.TB, s *apitest.Server, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path + "?" + u.RawQuery
}
