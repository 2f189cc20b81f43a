package fhirpath

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

var (
	reportEngine = flag.String("report", "", "write a conformance report for `engine` (gofhir or accord) to -report-out")
	reportOut    = flag.String("report-out", "conformance-report.txt", "report file written by -report")
)

// TestConformanceReport measures an engine against the fhirpath.js golden corpus and writes the figures used in
// EVALUATION.md. It runs only when asked: go test ./fhir/fhirpath -run TestConformanceReport -report=gofhir.
func TestConformanceReport(t *testing.T) {
	var r runner
	switch *reportEngine {
	case "":
		t.Skip("no -report engine")
	case "gofhir":
		r = newGofhirRunner()
	case "gofhir-model":
		r = newGofhirModelRunner()
	case "accord":
		r = newAccordRunner(t)
	default:
		t.Fatalf("unknown engine %q", *reportEngine)
	}
	g := loadGolden(t)
	f, err := os.Create(*reportOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	writeReport(t, f, g, r)
}

type tally struct {
	cases, nodes int
	outcomes     map[string]int
}

func writeReport(t *testing.T, w io.Writer, g *goldenSet, r runner) {
	groups := map[string]*tally{}
	type bad struct{ outcome, id, expr, file, ctx, detail string }
	var bads []bad
	for _, c := range g.cases {
		e := g.corpus.Expressions[c.Expr]
		group := e.Kind
		if e.ID == "ele-1" {
			group = "invariant ele-1"
		} else if e.Kind == "invariant" {
			group = "invariant (not ele-1)"
		}
		tl := groups[group]
		if tl == nil {
			tl = &tally{outcomes: map[string]int{}}
			groups[group] = tl
		}
		want, err := c.want()
		if err != nil {
			t.Fatal(err)
		}
		file := g.corpus.Files[c.File]
		got, gotErr := r.run(g.files[file], c.Context, e.Expression)
		out, detail := compareCase(want, c.Error, got, gotErr)
		tl.cases++
		tl.nodes += max(len(want), 1)
		tl.outcomes[out]++
		if out != outAgree {
			bads = append(bads, bad{out, e.ID, e.Expression, file, c.Context, detail})
		}
	}
	fmt.Fprintf(w, "engine: %s\ncorpus: %v\n\n", r.name(), g.corpus.Source)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range groups {
			if !yield(k) {
				return
			}
		}
	})
	all := &tally{outcomes: map[string]int{}}
	for _, n := range names {
		tl := groups[n]
		writeTally(w, n, tl)
		all.cases += tl.cases
		all.nodes += tl.nodes
		for k, v := range tl.outcomes {
			all.outcomes[k] += v
		}
	}
	writeTally(w, "all", all)
	fmt.Fprintln(w)
	slices.SortStableFunc(bads, func(a, b bad) int {
		return strings.Compare(a.outcome+a.id, b.outcome+b.id)
	})
	for _, b := range bads {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", b.outcome, b.id, b.file, b.ctx, oneLine(b.expr, 160), oneLine(b.detail, 300))
	}
}

func writeTally(w io.Writer, name string, tl *tally) {
	fmt.Fprintf(w, "%-24s cases %5d  context nodes %5d ", name, tl.cases, tl.nodes)
	for _, o := range []string{outAgree, outValues, outDiffer, outRefError, outOurError, outPanic, outContextNum} {
		if n := tl.outcomes[o]; n > 0 {
			fmt.Fprintf(w, " %s %d (%.1f%%)", o, n, 100*float64(n)/float64(tl.cases))
		}
	}
	fmt.Fprintln(w)
}

func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		s = s[:n-3] + "..."
	}
	return s
}
