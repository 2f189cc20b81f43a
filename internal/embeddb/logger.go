package embeddb

import (
	"context"
	"log/slog"
	"slices"
)

// lazyHandler is the slog.Handler FerretDB logs through. FerretDB logs every SQL statement at debug level as
// logger.With(args…).Debug(…), where args hold the whole document written; slog's own handlers format such
// attributes when With is called, whatever the level, which made that formatting (quoting each document) the
// largest single cost of a write. lazyHandler keeps With's attributes unformatted and hands them to the inner
// handler only for a record that is logged.
type lazyHandler struct {
	inner slog.Handler
	// steps are the WithAttrs and WithGroup calls made so far, in order, to replay on inner for a logged record.
	steps []lazyStep
}

// lazyStep is one WithAttrs (attrs) or WithGroup (group) call.
type lazyStep struct {
	attrs []slog.Attr
	group string
}

// Enabled reports whether the inner handler logs records of level.
func (h *lazyHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle applies the attributes and groups gathered so far to the inner handler and logs r through it.
func (h *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	inner := h.inner
	for _, s := range h.steps {
		if s.group != "" {
			inner = inner.WithGroup(s.group)
		} else {
			inner = inner.WithAttrs(s.attrs)
		}
	}
	return inner.Handle(ctx, r)
}

// WithAttrs returns a handler that adds attrs to the records it logs, without formatting them now.
func (h *lazyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &lazyHandler{inner: h.inner, steps: append(slices.Clip(h.steps), lazyStep{attrs: attrs})}
}

// WithGroup returns a handler that puts the attributes that follow in group name.
func (h *lazyHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &lazyHandler{inner: h.inner, steps: append(slices.Clip(h.steps), lazyStep{group: name})}
}
