package fhirpath

import (
	"os"
	"testing"

	gofhir "github.com/gofhir/fhirpath"
	"github.com/gofhir/fhirpath/eval"
	"github.com/gofhir/fhirpath/types"
)

type fakeModel struct{}

func (fakeModel) ChoiceTypes(path string) []string      { return []string{"-"} }
func (fakeModel) TypeOf(path string) string             { return "" }
func (fakeModel) ReferenceTargets(path string) []string { return nil }
func (fakeModel) ParentType(typeName string) string     { return "" }
func (fakeModel) IsSubtype(child, parent string) bool   { return false }
func (fakeModel) ResolvePath(path string) string        { return path }
func (fakeModel) IsResource(typeName string) bool       { return typeName == "Task" }

func BenchmarkScratchGofhir(b *testing.B) {
	data, _ := os.ReadFile("testdata/examples/Task-example5.json")
	for _, src := range []string{"Task.owner", "Task.restriction.period", "lastModified.exists().not() or authoredOn.exists().not() or lastModified >= authoredOn", "text.`div`.exists()", "contained.contained.empty()", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"} {
		x := gofhir.MustCompile(src)
		b.Run(src[:8]+"-direct-model", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ctx := eval.NewContext(empty).WithThis(types.Collection{types.NewObjectValue(data)})
				ctx.SetModel(fakeModel{})
				if _, err := x.EvaluateWithContext(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var empty = []byte("{}")
