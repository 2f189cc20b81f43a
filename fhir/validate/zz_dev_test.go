package validate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/accord-fhir/accord/fhir"
)

func TestDevAll(t *testing.T) {
	if os.Getenv("DEVALL") == "" {
		t.Skip()
	}
	t0 := time.Now()
	opts := DefaultOptions()
	calls := &countEval{}
	if os.Getenv("DEVINV") != "" {
		opts.Invariants = calls
	}
	v, err := New(os.DirFS("../../profiles"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { fmt.Println("evaluator calls", calls.n) }()
	fmt.Println("load", time.Since(t0))
	fmt.Println("unchecked", v.UncheckedValueSets())
	files, _ := filepath.Glob("/tmp/npm/node_modules/hl7.fhir.r4.examples/*.json")
	sort.Strings(files)
	counts := map[string]int{}
	bad := 0
	for _, f := range files {
		if strings.HasSuffix(f, "package.json") || strings.HasSuffix(f, ".index.json") {
			continue
		}
		data, _ := os.ReadFile(f)
		obj, err := fhir.DecodeObject(data, 200)
		if err != nil {
			fmt.Println("decode", f, err)
			continue
		}
		issues := v.Validate(obj)
		if len(issues) > 0 {
			bad++
			for _, is := range issues {
				counts[string(is.Code)+" "+is.Details]++
				fmt.Printf("%s\t%s\t%s\t%s\t%s\n", filepath.Base(f), is.Code, is.Expression[0], is.Details, is.Diagnostics)
			}
		}
	}
	fmt.Println("bad files", bad, "of", len(files))
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range counts {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n })
	for _, x := range l {
		fmt.Println("COUNT", x.n, x.k)
	}
}

func TestDevOne(t *testing.T) {
	if os.Getenv("DEVONE") == "" {
		t.Skip()
	}
	v, err := New(os.DirFS("../../profiles"), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(os.Getenv("DEVONE"))
	obj, err := fhir.DecodeObject(data, 200)
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range v.Validate(obj) {
		fmt.Printf("%s\t%s\t%s\t%s\t%s\n", is.Severity, is.Code, is.Expression[0], is.Details, is.Diagnostics)
	}
}

type countEval struct{ n int }

func (c *countEval) EvaluateInvariant(resource fhir.Object, context any, expr string) (bool, error) {
	c.n++
	return true, nil
}
