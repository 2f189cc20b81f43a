package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// KeyFetcher gets the key set a client publishes at its registered jwks_uri. Fetch returns an error when the set
// cannot be obtained or is not a JSON key set; it is only ever called with a registered client's jwks_uri.
type KeyFetcher interface {
	Fetch(ctx context.Context, uri string) (JWKS, error)
}

// HTTPFetcherOptions configure an HTTPFetcher.
type HTTPFetcherOptions struct {
	Timeout   time.Duration     // whole request, default 5 s
	MaxBytes  int64             // largest key set read, default 64 KiB
	Transport http.RoundTripper // nil: http.DefaultTransport
}

// HTTPFetcher fetches key sets over https, with a timeout and a size limit, and follows no redirects (a redirect
// would lead to a URI that nobody registered).
type HTTPFetcher struct {
	client   *http.Client
	maxBytes int64
}

var _ KeyFetcher = (*HTTPFetcher)(nil)

// NewHTTPFetcher returns an HTTPFetcher; zero options take their defaults.
func NewHTTPFetcher(o HTTPFetcherOptions) *HTTPFetcher {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 10
	}
	return &HTTPFetcher{
		client: &http.Client{
			Timeout:       o.Timeout,
			Transport:     o.Transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		maxBytes: o.MaxBytes,
	}
}

// Fetch GETs the key set at uri, which must be an https URL. It returns an error for any other scheme, a status
// other than 200, a body over the size limit, or JSON that is not a key set.
func (f *HTTPFetcher) Fetch(ctx context.Context, uri string) (JWKS, error) {
	if u, err := url.Parse(uri); err != nil || u.Scheme != "https" {
		return JWKS{}, fmt.Errorf("fetch jwks %s: not an https URL", uri)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return JWKS{}, fmt.Errorf("fetch jwks %s: %w", uri, err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := f.client.Do(req)
	if err != nil {
		return JWKS{}, fmt.Errorf("fetch jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return JWKS{}, fmt.Errorf("fetch jwks %s: status %d", uri, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return JWKS{}, fmt.Errorf("fetch jwks %s: %w", uri, err)
	}
	if int64(len(body)) > f.maxBytes {
		return JWKS{}, fmt.Errorf("fetch jwks %s: larger than %d bytes", uri, f.maxBytes)
	}
	var set JWKS
	if err := json.Unmarshal(body, &set); err != nil {
		return JWKS{}, fmt.Errorf("fetch jwks %s: %s", uri, jsonProblem(err))
	}
	if set.Keys == nil {
		return JWKS{}, errors.New("fetch jwks " + uri + ": no keys member")
	}
	return set, nil
}

// CachingFetcher remembers the key sets another fetcher got, for TTL, so that token requests (which anyone can
// send) cannot make Accord fetch a client's keys more than once per TTL. Failures are not cached.
type CachingFetcher struct {
	next KeyFetcher
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]cachedSet
}

// cachedSet is one remembered key set.
type cachedSet struct {
	set     JWKS
	fetched time.Time
}

var _ KeyFetcher = (*CachingFetcher)(nil)

// NewCachingFetcher returns a CachingFetcher in front of next; now is the clock (nil: time.Now).
func NewCachingFetcher(next KeyFetcher, ttl time.Duration, now func() time.Time) *CachingFetcher {
	if now == nil {
		now = time.Now
	}
	return &CachingFetcher{next: next, ttl: ttl, now: now, entries: map[string]cachedSet{}}
}

// Fetch returns the remembered set for uri when it is younger than the TTL, and otherwise fetches it.
func (c *CachingFetcher) Fetch(ctx context.Context, uri string) (JWKS, error) {
	c.mu.Lock()
	e, ok := c.entries[uri]
	c.mu.Unlock()
	if ok && c.now().Sub(e.fetched) < c.ttl {
		return e.set, nil
	}
	set, err := c.next.Fetch(ctx, uri)
	if err != nil {
		return JWKS{}, err
	}
	c.mu.Lock()
	c.entries[uri] = cachedSet{set: set, fetched: c.now()}
	c.mu.Unlock()
	return set, nil
}
