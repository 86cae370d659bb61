package auth

import (
	"sync"
	"time"

	"staffroom/internal/errcode"
)

// RateLimiter allows a number of events per key (a client address) per minute.
// Each aliased field of one request counts as its own event. The count is kept
// in this process: with several replicas each one enforces the limit.
type RateLimiter struct {
	limit int
	now   func() time.Time

	mu      sync.Mutex
	windows map[string]*window
	swept   time.Time
}

type window struct {
	start time.Time
	count int
}

// NewRateLimiter allows limit events a minute per key; 0 turns limiting off.
func NewRateLimiter(limit int) *RateLimiter {
	return &RateLimiter{limit: limit, now: time.Now, windows: map[string]*window{}}
}

// Allow counts an event for key and returns RATE_LIMITED when the key is over its limit.
func (l *RateLimiter) Allow(key string) error {
	if l == nil || l.limit <= 0 {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= time.Minute {
		w = &window{start: now}
		l.windows[key] = w
	}
	w.count++
	if w.count > l.limit {
		return errcode.New(errcode.RateLimited, "too many attempts from this address; wait a minute and try again")
	}
	return nil
}

// sweep drops finished windows once a minute so that the map stays small.
func (l *RateLimiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	for k, w := range l.windows {
		if now.Sub(w.start) >= time.Minute {
			delete(l.windows, k)
		}
	}
	l.swept = now
}
