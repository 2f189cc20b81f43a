package embeddb

import (
	"bytes"
	"log/slog"
	"testing"
)

// countingValue counts how often it is formatted.
type countingValue struct{ n *int }

func (c countingValue) LogValue() slog.Value { *c.n++; return slog.StringValue("document") }

func TestLazyHandler_SameOutputAsInner(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(*slog.Logger) *slog.Logger
	}{
		{"no attributes", func(l *slog.Logger) *slog.Logger { return l }},
		{"attributes", func(l *slog.Logger) *slog.Logger { return l.With("name", "sqlite", "args", []any{1, "x"}) }},
		{"groups", func(l *slog.Logger) *slog.Logger {
			return l.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h")
		}},
		{"empty group and no attributes", func(l *slog.Logger) *slog.Logger { return l.WithGroup("").With() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want, got bytes.Buffer
			opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}
			tc.build(slog.New(slog.NewTextHandler(&want, opts))).Error("failed", "c", 3)
			tc.build(slog.New(&lazyHandler{inner: slog.NewTextHandler(&got, opts)})).Error("failed", "c", 3)
			if got.String() != want.String() {
				t.Errorf("lazy handler wrote %q, the inner handler alone %q", got.String(), want.String())
			}
		})
	}
}

func TestLazyHandler_FormatsOnlyLoggedRecords(t *testing.T) {
	var out bytes.Buffer
	n := 0
	l := slog.New(&lazyHandler{inner: slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelError})})
	l.With("args", countingValue{&n}).Debug(">>> INSERT")
	if n != 0 || out.Len() != 0 {
		t.Fatalf("a debug record below the level formatted its attributes %d times and wrote %q", n, out.String())
	}
	l.With("args", countingValue{&n}).Error("<<< INSERT")
	if n != 1 || !bytes.Contains(out.Bytes(), []byte("args=document")) {
		t.Fatalf("an error record formatted its attributes %d times and wrote %q", n, out.String())
	}
}
