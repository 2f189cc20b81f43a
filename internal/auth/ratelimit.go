package auth

import (
	"math"
	"strconv"
	"sync"
	"time"
)

// maxBuckets is how many clients a RateLimiter tracks before it forgets the idle ones.
const maxBuckets = 10000

// RateLimiter is a token bucket per client: each client may make Burst requests at once, refilled at Rate per
// second. It is safe for concurrent use.
type RateLimiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is one client's tokens at a time.
type bucket struct {
	tokens float64
	at     time.Time
}

// NewRateLimiter returns a limiter of rate requests per second with bursts of burst; now is the clock (nil:
// time.Now). A rate that is not positive becomes 1 per second; a burst below 1 becomes 1.
func NewRateLimiter(rate float64, burst int, now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	if !(rate > 0) {
		rate = 1
	}
	return &RateLimiter{rate: rate, burst: float64(max(burst, 1)), now: now, buckets: map[string]*bucket{}}
}

// Allow takes one token from clientID's bucket. When the bucket is empty it returns false and how long until a
// token is available (for a 429 with Retry-After).
func (l *RateLimiter) Allow(clientID string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[clientID]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.forgetIdle(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[clientID] = b
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := (1 - b.tokens) / l.rate
	return false, time.Duration(math.Ceil(wait * float64(time.Second)))
}

// forgetIdle drops the buckets that have refilled completely: forgetting them changes nothing.
func (l *RateLimiter) forgetIdle(now time.Time) {
	for id, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, id)
		}
	}
}

// RetryAfter renders a wait as the value of a Retry-After header: whole seconds, rounded up, at least 1.
func RetryAfter(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}
