package schema

import (
	"path/filepath"
	"testing"
)

// BenchmarkValidateTask measures the schema step on a realistic 3 KB Task (testdata/task.json): the definition
// is compiled before the timer starts, as it is in a running server.
func BenchmarkValidateTask(b *testing.B) {
	v := newValidator(b)
	task := readObject(b, filepath.Join("testdata", "task.json"))
	if issues := v.Validate(task); len(issues) != 0 {
		b.Fatalf("testdata/task.json has issues: %+v", issues)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		v.Validate(task)
	}
}
