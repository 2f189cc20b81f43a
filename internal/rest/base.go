package rest

import (
	"context"
	"strings"
)

type baseKey struct{}

// WithBaseURL returns ctx carrying the service's base URL as the request was made to it (the configured public
// base, or the one derived from the request): a Bundle entry's absolute request.url must start with it, and
// searches treat absolute references under it as relative ones.
func WithBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseKey{}, strings.TrimSuffix(base, "/"))
}

// BaseURLFrom returns the base URL of ctx (see WithBaseURL), "" when it has none.
func BaseURLFrom(ctx context.Context) string {
	b, _ := ctx.Value(baseKey{}).(string)
	return b
}

// relativeToBase returns the part of an absolute URL after base and its "/" (a relative URL is returned as it
// is); ok is false for an absolute URL that is not under base, or for any absolute URL when base is "". The scheme
// and host are compared without regard to case, the path exactly.
func relativeToBase(raw, base string) (rel string, ok bool) {
	path, _, _ := strings.Cut(raw, "?")
	if !strings.Contains(path, "://") {
		return raw, true
	}
	if base == "" || len(raw) < len(base) {
		return "", false
	}
	origin, basePath := splitOrigin(base)
	if !strings.EqualFold(raw[:len(origin)], origin) || raw[len(origin):len(base)] != basePath {
		return "", false
	}
	rest := raw[len(base):]
	switch {
	case rest == "":
		return "", true
	case rest[0] == '/':
		return rest[1:], true
	case rest[0] == '?':
		return rest, true
	}
	return "", false // http://host/fhir2 is not under http://host/fhir
}

// splitOrigin splits an absolute URL into its scheme and host ("http://host:8080") and its path ("/fhir").
func splitOrigin(u string) (origin, path string) {
	scheme, rest, _ := strings.Cut(u, "://")
	host, p, found := strings.Cut(rest, "/")
	if !found {
		return u, ""
	}
	return scheme + "://" + host, "/" + p
}
