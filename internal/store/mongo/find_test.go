package mongo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

// fieldIndexer indexes a Basic resource's "k" (a string, absent when empty), "g" (a group) and "tags" (an array).
type fieldIndexer struct{}

func (fieldIndexer) Index(_ string, obj fhir.Object) (map[string]any, error) {
	out := map[string]any{}
	if k, _ := obj["k"].(string); k != "" {
		out["x_k"] = k
	}
	if g, _ := obj["g"].(string); g != "" {
		out["x_g"] = g
	}
	if tags, ok := obj["tags"].([]any); ok {
		out["x_tags"] = tags
	}
	return out, nil
}

func basic(k, g string, tags ...string) fhir.Object {
	obj := fhir.Object{"resourceType": "Basic", "k": k, "g": g}
	if len(tags) > 0 {
		list := make([]any, len(tags))
		for i, t := range tags {
			list[i] = t
		}
		obj["tags"] = list
	}
	return obj
}

func newFindStore(t *testing.T) *Store {
	t.Helper()
	s, _ := newTestStore(t, func(o *Options) { o.Indexer = fieldIndexer{} })
	return s
}

func putBasic(t *testing.T, s *Store, id string, obj fhir.Object) {
	t.Helper()
	mustCommit(t, s, store.Write{Type: "Basic", ID: id, Object: obj, Method: "PUT"})
}

func ids(rs []fhir.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// page reads every page of q by keyset paging forward (with After), n at a time.
func pageAll(t *testing.T, s *Store, q store.Query, n int, between func(page int)) []string {
	t.Helper()
	var all []string
	q.Count, q.Fields = n, []string{"x_k", "x_g"}
	for page := 0; page < 50; page++ {
		found, err := s.Find(context.Background(), "Basic", q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(found.Resources)...)
		if len(found.Resources) < n {
			return all
		}
		last := len(found.Resources) - 1
		q.After = position(q.Sort, found.Resources[last], found.Fields[last])
		if between != nil {
			between(page)
		}
	}
	t.Fatal("paging did not end")
	return nil
}

func position(keys []store.SortKey, r fhir.Resource, fields map[string]any) *store.Position {
	p := &store.Position{ID: r.ID}
	for _, k := range keys {
		if k.Field == "_id" {
			p.Values = append(p.Values, r.ID)
		} else {
			p.Values = append(p.Values, fields[k.Field])
		}
	}
	return p
}

// TestFind_KeysetPaging pages through resources with duplicate and absent sort values, in both directions and
// with two keys: the pages put together are the whole order, each resource once.
func TestFind_KeysetPaging(t *testing.T) {
	s := newFindStore(t)
	data := map[string][2]string{ // id → k, g
		"a": {"2", "x"}, "b": {"1", "y"}, "c": {"", "x"}, "d": {"2", "y"}, "e": {"3", ""},
		"f": {"", "y"}, "g": {"1", "x"}, "h": {"2", "x"}, "i": {"", ""}, "j": {"3", "x"},
	}
	for id, v := range data {
		putBasic(t, s, id, basic(v[0], v[1]))
	}
	for _, tc := range []struct {
		name string
		sort []store.SortKey
		want string
	}{
		{"ascending, absent first, ties by id", []store.SortKey{{Field: "x_k"}}, "c f i b g a d h e j"},
		{"descending, absent last, ties by id descending", []store.SortKey{{Field: "x_k", Descending: true}}, "j e h d a g b i f c"},
		{"two keys", []store.SortKey{{Field: "x_k"}, {Field: "x_g", Descending: true}}, "f c i b g d a h j e"},
		{"by id", []store.SortKey{{Field: "_id", Descending: true}}, "j i h g f e d c b a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{1, 3, 4} {
				got := strings.Join(pageAll(t, s, store.Query{Sort: tc.sort}, n, nil), " ")
				if got != tc.want {
					t.Errorf("pages of %d: %s, want %s", n, got, tc.want)
				}
			}
		})
	}
}

// TestFind_KeysetPaging_WhileWriting adds resources between pages, before and after the position: the pages
// neither skip nor repeat the resources that were there from the start.
func TestFind_KeysetPaging_WhileWriting(t *testing.T) {
	s := newFindStore(t)
	for i := range 9 {
		putBasic(t, s, fmt.Sprintf("r%d", i), basic(fmt.Sprintf("k%d", i), ""))
	}
	got := pageAll(t, s, store.Query{Sort: []store.SortKey{{Field: "x_k"}}}, 2, func(page int) {
		putBasic(t, s, fmt.Sprintf("new-before-%d", page), basic("k0", "")) // sorts before the position
		putBasic(t, s, fmt.Sprintf("a-new-%d", page), basic("", ""))        // absent: first
	})
	var original []string
	for _, id := range got {
		if strings.HasPrefix(id, "r") {
			original = append(original, id)
		}
	}
	if want := "r0 r1 r2 r3 r4 r5 r6 r7 r8"; strings.Join(original, " ") != want {
		t.Errorf("original resources over the pages: %v, want %s", original, want)
	}
}

// TestFind_Before reads the page before a position, in the query's order.
func TestFind_Before(t *testing.T) {
	s := newFindStore(t)
	for i := range 6 {
		putBasic(t, s, fmt.Sprintf("r%d", i), basic(fmt.Sprintf("k%d", i), ""))
	}
	for _, tc := range []struct {
		desc bool
		at   string
		want string
	}{
		{false, "k4", "r2 r3"},
		{true, "k1", "r3 r2"},
		{false, "k1", "r0"},
	} {
		found, err := s.Find(context.Background(), "Basic", store.Query{Sort: []store.SortKey{{Field: "x_k", Descending: tc.desc}}, Count: 2,
			Before: &store.Position{Values: []any{tc.at}, ID: "r" + tc.at[1:]}})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(ids(found.Resources), " "); got != tc.want {
			t.Errorf("2 before %s (descending %v): %s, want %s", tc.at, tc.desc, got, tc.want)
		}
	}
}

// TestFind_Conditions checks the operators on single and array fields.
func TestFind_Conditions(t *testing.T) {
	s := newFindStore(t)
	putBasic(t, s, "a", basic("apple", "x", "t|1", "u|9"))
	putBasic(t, s, "b", basic("banana", "y", "t|5"))
	putBasic(t, s, "c", basic("cherry", ""))
	putBasic(t, s, "d", basic("", "x", "t|9"))
	mustCommit(t, s, store.Write{Type: "Basic", ID: "e", Object: basic("gone", "x"), Method: "PUT"})
	mustCommit(t, s, store.Write{Type: "Basic", ID: "e", Method: "DELETE"})
	eq := func(f string, v ...any) store.Cond { return store.Cond{Field: f, Op: store.OpEq, Values: v} }
	for _, tc := range []struct {
		name  string
		conds []store.Cond
		want  string
	}{
		{"eq on an array element", []store.Cond{eq("x_tags", "t|5")}, "b"},
		{"in", []store.Cond{eq("x_k", "apple", "cherry")}, "a c"},
		{"ne includes absent", []store.Cond{{Field: "x_g", Op: store.OpNe, Values: []any{"x"}}}, "b c"},
		{"match, one element at a time", []store.Cond{{Field: "x_tags", Op: store.OpMatch, Values: []any{`^t\|[5-9]$`}}}, "b d"},
		{"two ranges on an array may meet different elements", []store.Cond{{Field: "x_tags", Op: store.OpGe, Values: []any{"t|6"}}, {Field: "x_tags", Op: store.OpLt, Values: []any{"t|2"}}}, "a"},
		{"prefix", []store.Cond{{Field: "x_k", Op: store.OpPrefix, Values: []any{"ba", "ch"}}}, "b c"},
		{"contains, quoted", []store.Cond{{Field: "x_tags", Op: store.OpContains, Values: []any{"|9"}}}, "a d"},
		{"exists false", []store.Cond{{Field: "x_k", Op: store.OpExists, Values: []any{false}}}, "d"},
		{"not", []store.Cond{{Field: "x_tags", Op: store.OpPrefix, Values: []any{"t|"}, Not: true}}, "c"},
		{"or of and", []store.Cond{{Or: []store.Cond{{And: []store.Cond{eq("x_g", "x"), eq("x_k", "apple")}}, eq("x_k", "cherry")}}}, "a c"},
		{"two conditions on one field", []store.Cond{eq("x_g", "x"), {Field: "x_g", Op: store.OpExists, Values: []any{true}}, {Or: []store.Cond{eq("x_k", "apple")}}, {Or: []store.Cond{eq("x_tags", "t|1")}}}, "a"},
		{"empty in matches nothing", []store.Cond{eq("x_k")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, err := s.Find(context.Background(), "Basic", store.Query{Conds: tc.conds, Sort: []store.SortKey{{Field: "_id"}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ids(found.Resources), " "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFind_FieldsCountsAndMonitor(t *testing.T) {
	var mu sync.Mutex
	var cmds []Command
	s, _ := newTestStore(t, func(o *Options) {
		o.Indexer = fieldIndexer{}
		o.Monitor = func(c Command) { mu.Lock(); cmds = append(cmds, c); mu.Unlock() }
	})
	putBasic(t, s, "a", basic("apple", "x", "t|1"))
	putBasic(t, s, "b", basic("banana", "x"))
	mu.Lock()
	cmds = nil
	mu.Unlock()
	q := store.Query{Conds: []store.Cond{{Field: "x_g", Op: store.OpEq, Values: []any{"x"}}}, Sort: []store.SortKey{{Field: "x_k"}},
		Count: 1, CountTotal: true, Fields: []string{"x_k", "x_tags"}, OmitJSON: true}
	found, err := s.Find(context.Background(), "Basic", q)
	if err != nil {
		t.Fatal(err)
	}
	if found.Total != 2 || len(found.Resources) != 1 || found.Resources[0].JSON != nil {
		t.Errorf("total %d, %d resources, JSON %q", found.Total, len(found.Resources), found.Resources[0].JSON)
	}
	if diff := cmp.Diff([]map[string]any{{"x_k": "apple", "x_tags": []any{"t|1"}}}, found.Fields); diff != "" {
		t.Errorf("Fields (-want +got):\n%s", diff)
	}
	count, err := s.Find(context.Background(), "Basic", store.Query{CountOnly: true})
	if err != nil || count.Total != 2 || count.Resources != nil {
		t.Errorf("CountOnly: %+v, %v", count, err)
	}
	mu.Lock()
	defer mu.Unlock()
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name+" "+c.Collection+" "+strings.Join(c.Fields, ","))
	}
	want := []string{"aggregate Basic deleted,x_g", "find Basic deleted,x_g", "aggregate Basic deleted"}
	if !slices.Equal(names, want) {
		t.Errorf("commands %q, want %q", names, want)
	}
}
