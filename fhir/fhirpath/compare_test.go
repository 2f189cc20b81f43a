package fhirpath

import (
	"fmt"
	"strings"
)

// runner evaluates a corpus case: expr at each node that contextPath selects in resource ("" is the root), with
// %resource and %rootResource the resource.
type runner interface {
	name() string
	run(resource []byte, contextPath, expr string) ([][]item, error)
}

// Outcomes of a case, from best to worst.
const (
	outAgree      = "agree"        // same items, same types (or both engines fail)
	outValues     = "values-agree" // same items, but a type name differs (FHIR.code against System.String …)
	outDiffer     = "differ"       // different items
	outRefError   = "ref-error"    // fhirpath.js fails, the engine returns a result
	outOurError   = "error"        // the engine fails, fhirpath.js returns a result
	outPanic      = "panic"        // the engine panicked
	outContextNum = "context"      // the context path selects a different number of nodes
)

// compareCase compares a case's expected and actual results and says how they differ.
func compareCase(want [][]item, wantErr string, got [][]item, gotErr error) (string, string) {
	switch {
	case wantErr != "" && gotErr != nil:
		return outAgree, ""
	case gotErr != nil && strings.HasPrefix(gotErr.Error(), "panic"):
		return outPanic, gotErr.Error()
	case gotErr != nil:
		return outOurError, gotErr.Error()
	case wantErr != "":
		return outRefError, wantErr
	case len(want) != len(got):
		return outContextNum, fmt.Sprintf("%d context nodes, want %d", len(got), len(want))
	}
	status := outAgree
	for i := range want {
		s, d := compareItems(want[i], got[i])
		if s == outDiffer {
			return s, d
		}
		if s == outValues {
			status = outValues
		}
	}
	return status, ""
}

func compareItems(want, got []item) (string, string) {
	if len(want) != len(got) {
		return outDiffer, fmt.Sprintf("got %s, want %s", showItems(got), showItems(want))
	}
	status := outAgree
	for i := range want {
		w, g := want[i], got[i]
		if w.Kind != g.Kind || w.Value != g.Value && !sameInstant(w, g) {
			return outDiffer, fmt.Sprintf("item %d: got %s, want %s", i, showItem(g), showItem(w))
		}
		if w.Type != g.Type {
			status = outValues
		}
	}
	return status, ""
}

func showItems(items []item) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = showItem(it)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func showItem(it item) string {
	v := it.Value
	if len(v) > 80 {
		v = v[:77] + "..."
	}
	return it.Type + "(" + it.Kind + ") " + v
}

// sameInstant reports whether two DateTime items denote the same instant at the same precision: fhirpath.js
// writes computed date-times in UTC (2025-03-28T09:20:00-00:00) where Accord keeps the input's offset.
func sameInstant(a, b item) bool {
	if a.Kind != "DateTime" || b.Kind != "DateTime" {
		return false
	}
	ta, err1 := parseTemporal(KindDateTime, a.Value)
	tb, err2 := parseTemporal(KindDateTime, b.Value)
	if err1 != nil || err2 != nil || ta.Precision != tb.Precision {
		return false
	}
	n, ok := compareTemporal(ta, tb)
	return ok && n == 0
}
