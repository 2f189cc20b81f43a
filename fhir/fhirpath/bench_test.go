package fhirpath

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/accord-fhir/accord/fhir"
)

// benchSearch are typical search parameter expressions (R4 Task-owner, Task-status, Task-period's restriction,
// Task-patient, Task-code).
var benchSearch = []string{
	"Task.owner",
	"Task.status",
	"Task.restriction.period",
	"Task.for",
	"Task.code",
	"Task.for.where(resolve() is Patient)",
}

// benchInvariant is the Task invariant inv-1 of R4.
const benchInvariant = "lastModified.exists().not() or authoredOn.exists().not() or lastModified >= authoredOn"

// taskInvariants are the R4 invariants a validator evaluates on a Task, with the element path that selects their
// context nodes ("" for the resource); ele-1 is left to the structural checks.
var taskInvariants = []struct{ context, key, expr string }{
	{"", "dom-2", "contained.contained.empty()"},
	{"", "dom-3", "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()"},
	{"", "dom-4", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"},
	{"", "dom-5", "contained.meta.security.empty()"},
	{"", "dom-6", "text.`div`.exists()"},
	{"", "inv-1", benchInvariant},
	{"Task.text.`div`", "txt-1", "htmlChecks()"},
	{"Task.text.`div`", "txt-2", "htmlChecks()"},
	{"Task.extension", "ext-1", "extension.exists() != value.exists()"},
	{"Task.descendants().ofType(Reference)", "ref-1", "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))"},
	{"Task.descendants().ofType(Period)", "per-1", "start.hasValue().not() or end.hasValue().not() or (start <= end)"},
	{"Task.input.value.ofType(Duration)", "qty-3", "code.empty() or system.exists()"},
	{"Task.input.value.ofType(Duration)", "drt-1", "code.exists() implies ((system = %ucum) and value.exists())"},
}

func benchTask(tb testing.TB) fhir.Object {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "accord", "Task-accord-3k.json"))
	if err != nil {
		tb.Fatal(err)
	}
	obj, err := fhir.DecodeObject(data, fhir.MaxDepth)
	if err != nil {
		tb.Fatal(err)
	}
	return obj
}

func mustCompile(tb testing.TB, e *Engine, src string) *Expr {
	tb.Helper()
	x, err := e.Compile(src)
	if err != nil {
		tb.Fatalf("Compile(%q): %v", src, err)
	}
	return x
}

// BenchmarkSearchExpression evaluates typical search parameter expressions on a 3 KB Task: precompiled, and
// looked up in the Engine's cache on each evaluation.
func BenchmarkSearchExpression(b *testing.B) {
	e, task := NewEngine(), benchTask(b)
	for _, src := range append(benchSearch, benchInvariant) {
		x := mustCompile(b, e, src)
		name := src
		if src == benchInvariant {
			name = "inv-1"
		}
		b.Run(name+"/compiled", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.Evaluate(task); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/cache", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x, err := e.Compile(src)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := x.Evaluate(task); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTaskInvariants evaluates every R4 invariant of a 3 KB Task at each of its context nodes, as the
// validator does (the context nodes are found once, outside the timing).
func BenchmarkTaskInvariants(b *testing.B) {
	e, task := NewEngine(), benchTask(b)
	type job struct {
		x    *Expr
		node []Value
	}
	var jobs []job
	for _, inv := range taskInvariants {
		x := mustCompile(b, e, inv.expr)
		if inv.context == "" {
			jobs = append(jobs, job{x: x})
			continue
		}
		nodes, err := mustCompile(b, e, inv.context).Evaluate(task)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range nodes {
			jobs = append(jobs, job{x: x, node: []Value{n}})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, j := range jobs {
			var ok bool
			var err error
			if j.node == nil {
				ok, err = j.x.EvaluateBool(task)
			} else {
				ok, err = j.x.EvaluateBool(task, WithContext(j.node[0]))
			}
			if err != nil || !ok {
				b.Fatalf("%s: %v %v", j.x, ok, err)
			}
		}
	}
	b.ReportMetric(float64(len(jobs)), "evaluations/op")
}

// BenchmarkCompile parses an invariant without the cache.
func BenchmarkCompile(b *testing.B) {
	e := NewEngine()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(benchInvariant, e.funcs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode is the cost of decoding the Task, for comparison: the engine evaluates decoded resources.
func BenchmarkDecode(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "accord", "Task-accord-3k.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fhir.DecodeObject(data, fhir.MaxDepth); err != nil {
			b.Fatal(err)
		}
	}
}
