package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestRateLimiter_TokenBucket(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(2, 3, clock.Now) // 2 per second, bursts of 3
	for i, tc := range []struct {
		advance   time.Duration
		client    string
		wantOK    bool
		wantRetry time.Duration
	}{
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", false, 500 * time.Millisecond},
		{0, "b", true, 0}, // each client has its own bucket
		{200 * time.Millisecond, "a", false, 300 * time.Millisecond},
		{300 * time.Millisecond, "a", true, 0},
		{0, "a", false, 500 * time.Millisecond},
		{time.Hour, "a", true, 0}, // refilled, but never above the burst
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", false, 500 * time.Millisecond},
	} {
		clock.Advance(tc.advance)
		ok, retry := l.Allow(tc.client)
		if ok != tc.wantOK || retry != tc.wantRetry {
			t.Errorf("step %d: Allow(%s) = %v, %s; want %v, %s", i, tc.client, ok, retry, tc.wantOK, tc.wantRetry)
		}
	}
}

func TestRateLimiter_ForgetsIdleClients(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(1, 1, clock.Now)
	for i := range maxBuckets {
		l.Allow(fmt.Sprint(i))
	}
	l.Allow("0") // client 0 is now empty and stays tracked
	clock.Advance(500 * time.Millisecond)
	l.Allow("new")
	if n := len(l.buckets); n != maxBuckets+1 {
		t.Fatalf("%d buckets, want %d (none idle yet)", n, maxBuckets+1)
	}
	clock.Advance(time.Hour)
	l.Allow("newer")
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets after an idle hour, want 1", n)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "1"}, {300 * time.Millisecond, "1"}, {time.Second, "1"}, {1001 * time.Millisecond, "2"}, {90 * time.Second, "90"},
	} {
		if got := RetryAfter(tc.d); got != tc.want {
			t.Errorf("RetryAfter(%s) = %s, want %s", tc.d, got, tc.want)
		}
	}
}
