package auth

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"staffroom/ent/ratelimitwindow"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/errcode"
)

// RateLimiter allows a number of events per key (a client address) per minute:
// the minute starts at the key's first event, and events beyond the limit
// within it are refused with RATE_LIMITED. Each aliased field of one request
// counts as its own event, and a refused event counts too.
type RateLimiter interface {
	Allow(ctx context.Context, key string) error
}

// errRateLimited is every limiter's refusal.
var errRateLimited = errcode.New(errcode.RateLimited, "too many attempts from this address; wait a minute and try again")

// LocalRateLimiter counts in this process: the form for SQLite, whose database
// one process serves. With several processes each would allow the whole rate.
type LocalRateLimiter struct {
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

// NewRateLimiter returns an in-process limiter of limit events a minute per
// key; 0 turns limiting off.
func NewRateLimiter(limit int) *LocalRateLimiter {
	return &LocalRateLimiter{limit: limit, now: time.Now, windows: map[string]*window{}}
}

// Allow counts an event for key and returns RATE_LIMITED when the key is over its limit.
func (l *LocalRateLimiter) Allow(_ context.Context, key string) error {
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
		return errRateLimited
	}
	return nil
}

// sweep drops finished windows once a minute so that the map stays small.
func (l *LocalRateLimiter) sweep(now time.Time) {
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

// SharedRateLimiter counts in PostgreSQL, one row per key and scope, so that
// every replica on the database enforces one limit together. The window is the
// same as LocalRateLimiter's: it starts at the key's first event, by the
// database's clock, which all replicas share.
type SharedRateLimiter struct {
	db    *sql.DB
	scope string
	limit int

	mu    sync.Mutex
	swept time.Time
}

// NewSharedRateLimiter returns a limiter of limit events a minute per key,
// counted under scope (each limit has its own) in db; 0 turns limiting off.
// db should be a pool apart from the one that requests' transactions use
// (store.DB.Apart): a count commits at once, so that a request whose
// transaction rolls back still counted, and it must never wait for a
// connection that the waiting request itself holds.
func NewSharedRateLimiter(db *sql.DB, scope string, limit int) *SharedRateLimiter {
	return &SharedRateLimiter{db: db, scope: scope, limit: limit}
}

// countEvent adds an event to the key's window, or starts a new window when a
// minute has passed since the current one started, in one statement: parallel
// events on any replica queue on the row, and each sees its own count. Its
// commit does not wait for the log to reach the disk (synchronous_commit off,
// for this statement only): a crash of the database could forget the last
// moment's counts, which gives an address a few more tries, and in exchange a
// count costs a tenth of a millisecond instead of a millisecond.
var countEvent = fmt.Sprintf(`INSERT INTO %[1]s AS w (%[2]s, %[3]s, %[4]s, %[5]s, %[6]s)
SELECT $1, $2, $3, now(), 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS nosync
ON CONFLICT (%[3]s, %[4]s) DO UPDATE SET
	%[5]s = CASE WHEN w.%[5]s <= now() - interval '1 minute' THEN now() ELSE w.%[5]s END,
	%[6]s = CASE WHEN w.%[5]s <= now() - interval '1 minute' THEN 1 ELSE w.%[6]s + 1 END
RETURNING %[6]s`,
	ratelimitwindow.Table, ratelimitwindow.FieldID, ratelimitwindow.FieldScope, ratelimitwindow.FieldKey,
	ratelimitwindow.FieldWindowStart, ratelimitwindow.FieldEvents)

// countTimeout bounds a count, which no longer follows its request's context.
const countTimeout = 5 * time.Second

// sweepWindows deletes the windows that ended: a key seen again starts anew.
var sweepWindows = fmt.Sprintf(`DELETE FROM %s WHERE %s <= now() - interval '1 minute'`,
	ratelimitwindow.Table, ratelimitwindow.FieldWindowStart)

// Allow counts an event for key and returns RATE_LIMITED when the key is over its limit.
func (l *SharedRateLimiter) Allow(ctx context.Context, key string) error {
	if l == nil || l.limit <= 0 {
		return nil
	}
	// Counted even when the client goes away meanwhile: a guess whose answer
	// was not awaited is a guess all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), countTimeout)
	defer cancel()
	l.sweep(ctx)
	var n int
	err := l.db.QueryRowContext(ctx, countEvent, pulid.New(pulid.RateLimitWindowPrefix), l.scope, key).Scan(&n)
	if err != nil {
		return fmt.Errorf("auth: count %s event: %w", l.scope, err)
	}
	if n > l.limit {
		return errRateLimited
	}
	return nil
}

// sweep deletes ended windows at most once a minute per process; several
// replicas sweeping the same rows is harmless. A failed sweep is tried again
// a minute later: the rows only take room meanwhile.
func (l *SharedRateLimiter) sweep(ctx context.Context) {
	l.mu.Lock()
	due := time.Since(l.swept) >= time.Minute
	if due {
		l.swept = time.Now()
	}
	l.mu.Unlock()
	if due {
		_, _ = l.db.ExecContext(ctx, sweepWindows)
	}
}
