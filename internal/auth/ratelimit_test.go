package auth_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"staffroom/internal/auth"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
	"staffroom/internal/store/storetest"
)

// postgres returns a fresh PostgreSQL database, or skips: the shared limiter
// is PostgreSQL's.
func postgres(t *testing.T) *store.DB {
	t.Helper()
	for _, d := range storetest.Dialects() {
		if d.Name == "postgres" {
			return storetest.Open(t, d)
		}
	}
	t.Skip("TEST_DATABASE_URL is not set")
	return nil
}

// Two limiters on one database stand for two replicas: parallel events on
// both are counted together, so exactly the limit passes.
func TestSharedRateLimiterHoldsAcrossReplicas(t *testing.T) {
	db := postgres(t)
	replicas := []auth.RateLimiter{
		auth.NewSharedRateLimiter(db.Apart, "session", 10),
		auth.NewSharedRateLimiter(db.Apart, "session", 10),
	}
	var allowed, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			err := replicas[i%2].Allow(context.Background(), "203.0.113.7")
			switch {
			case err == nil:
				allowed.Add(1)
			case errcode.Is(err, errcode.RateLimited):
				limited.Add(1)
			default:
				t.Errorf("allow: %v", err)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 10 || limited.Load() != 20 {
		t.Errorf("30 parallel events with a limit of 10: %d allowed, %d limited", allowed.Load(), limited.Load())
	}
	// Another address and another limit count apart.
	if err := replicas[0].Allow(context.Background(), "198.51.100.1"); err != nil {
		t.Errorf("another address: %v", err)
	}
	if err := auth.NewSharedRateLimiter(db.Apart, "password_check", 10).Allow(context.Background(), "203.0.113.7"); err != nil {
		t.Errorf("another limit: %v", err)
	}
}

// A minute after a window started, the address may start again; a window that
// ended is swept away.
func TestSharedRateLimiterWindowEndsAfterAMinute(t *testing.T) {
	db := postgres(t)
	ctx := context.Background()
	l := auth.NewSharedRateLimiter(db.Apart, "session", 1)
	for _, ip := range []string{"203.0.113.7", "198.51.100.1"} {
		if err := l.Allow(ctx, ip); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Allow(ctx, "203.0.113.7"); !errcode.Is(err, errcode.RateLimited) {
		t.Fatalf("second event within the minute: %v, want RATE_LIMITED", err)
	}
	// The windows started a minute ago, as far as the database can tell.
	if _, err := db.SQL.Exec(`UPDATE rate_limit_windows SET window_start = window_start - interval '61 seconds'`); err != nil {
		t.Fatal(err)
	}
	if err := l.Allow(ctx, "203.0.113.7"); err != nil {
		t.Fatalf("an event a minute later: %v", err)
	}
	// A new process sweeps before its first count.
	if err := auth.NewSharedRateLimiter(db.Apart, "session", 1).Allow(ctx, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM rate_limit_windows WHERE key = '198.51.100.1'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("an ended window was not swept")
	}
}

// BenchmarkSharedRateLimiter measures what counting an event in PostgreSQL
// costs a throttled request: one upsert on the pool apart.
func BenchmarkSharedRateLimiter(b *testing.B) {
	var db *store.DB
	for _, d := range storetest.Dialects() {
		if d.Name == "postgres" {
			db = storetest.Open(b, d)
		}
	}
	if db == nil {
		b.Skip("TEST_DATABASE_URL is not set")
	}
	l := auth.NewSharedRateLimiter(db.Apart, "session", 1<<30)
	ctx := context.Background()
	for b.Loop() {
		if err := l.Allow(ctx, "203.0.113.7"); err != nil {
			b.Fatal(err)
		}
	}
}
