package auth

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func TestMemoryReplayCache(t *testing.T) {
	clock := newFakeClock()
	c := NewMemoryReplayCache(clock.Now)
	exp := clock.Now().Add(time.Minute)
	for _, tc := range []struct {
		name    string
		advance time.Duration
		jti     string
		want    bool
	}{
		{"first use", 0, "a", false},
		{"replay", 0, "a", true},
		{"other jti", 0, "b", false},
		{"replay before expiry", 59 * time.Second, "a", true},
		{"after expiry", time.Second, "a", false},
		{"recorded again", 0, "a", true},
	} {
		clock.Advance(tc.advance)
		e := exp
		if tc.name == "after expiry" {
			e = clock.Now().Add(time.Minute)
		}
		got, err := c.Seen(context.Background(), tc.jti, e)
		if err != nil || got != tc.want {
			t.Errorf("%s: Seen(%s) = %v, %v; want %v", tc.name, tc.jti, got, err, tc.want)
		}
	}
}

func TestMemoryReplayCache_ForgetsExpired(t *testing.T) {
	clock := newFakeClock()
	c := NewMemoryReplayCache(clock.Now)
	for i := range sweepEvery - 1 {
		if _, err := c.Seen(context.Background(), strconv.Itoa(i), clock.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Second)
	if _, err := c.Seen(context.Background(), "last", clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := c.Len(); n != 1 {
		t.Errorf("Len after a sweep = %d, want 1", n)
	}
}
