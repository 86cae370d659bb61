// Package expiry provides the job that ends time-boxed access on time: group
// links, grants and disabled periods whose until has passed. Reads stop
// counting them at that second already (see docs/authorization.md); the job
// ends them in the data and audits each ending as the system.
package expiry

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/organization"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/outbox"
	"staffroom/internal/staff"
	"staffroom/internal/store"
)

// Worker ends what has expired. Any number of workers, in one process or in
// many replicas, may run against one database: each round holds the
// organizations it works on, as every member change does, skipping those that
// another worker or a change holds, so that each ending happens once.
type Worker struct {
	Client *ent.Client
	// Dialect is the database's, as in store.DB: on PostgreSQL rounds claim
	// with FOR UPDATE SKIP LOCKED, which SQLite does not know.
	Dialect string
	Log     *slog.Logger
	// Interval is how long Run waits when nothing is due; default 5s.
	Interval time.Duration
	// BatchSize is how many memberships one round ends things of; default 100.
	BatchSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// organizationsPerRound is how many organizations one round holds: a round
// holds them until it commits, so it keeps to a few.
const organizationsPerRound = 4

func (w *Worker) withDefaults() *Worker {
	c := *w
	if c.Interval <= 0 {
		c.Interval = 5 * time.Second
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return &c
}

// Run ends expired access until ctx is done, waiting Interval whenever nothing
// is due (outbox.Poll).
func (w *Worker) Run(ctx context.Context) {
	c := w.withDefaults()
	outbox.Poll(ctx, c.Log, "expiry: ending expired access", c.Interval, func(ctx context.Context) (bool, error) {
		ended, more, err := c.round(ctx)
		if ended > 0 {
			c.Log.InfoContext(ctx, "expiry: ended expired access", "endings", ended)
		}
		return more, err
	})
}

// RunOnce ends everything that is due and not held by another worker, and
// returns how many endings it recorded.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	c := w.withDefaults()
	total := 0
	for {
		ended, more, err := c.round(ctx)
		total += ended
		if err != nil || !more {
			return total, err
		}
	}
}

// round ends, in one transaction, what is due of up to BatchSize memberships
// of up to organizationsPerRound organizations. more reports whether more may
// be due.
func (w *Worker) round(ctx context.Context) (ended int, more bool, err error) {
	if w.Dialect != dialect.Postgres && w.Dialect != dialect.SQLite {
		// Guessing wrong would drop the row locks that keep replicas apart.
		return 0, false, fmt.Errorf("expiry: unknown dialect %q", w.Dialect)
	}
	// Row locks on PostgreSQL; SQLite's transactions take the write lock at
	// BEGIN, which serializes rounds just as well.
	locks := w.Dialect == dialect.Postgres
	now := w.Now().UTC()
	sys := access.SystemContext(ctx, "expiry job")
	err = store.InTx(sys, w.Client, func(ctx context.Context, tx *ent.Client) error {
		orgs, err := claim(ctx, tx, now, locks)
		if err != nil || len(orgs) == 0 {
			return err
		}
		q := tx.Membership.Query().
			Where(membership.OrganizationIDIn(orgs...), staff.Due(now)).
			Order(membership.ByID()).Limit(w.BatchSize)
		if locks {
			q.ForUpdate()
		}
		due, err := q.All(ctx)
		if err != nil {
			return err
		}
		more = len(orgs) == organizationsPerRound || len(due) == w.BatchSize
		for _, m := range due {
			n, err := staff.EndExpired(ctx, tx, m, now, locks)
			ended += n
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("expiry: %w", err)
	}
	return ended, more, nil
}

// claim holds up to organizationsPerRound organizations with something due
// at now, skipping those that others hold: a member change holds its
// organization (staff.Lock), so a round and a change never interleave.
func claim(ctx context.Context, tx *ent.Client, now time.Time, locks bool) ([]pulid.ID, error) {
	q := tx.Organization.Query().Where(func(s *sql.Selector) {
		// One subquery per kind, each on its own index, rather than one
		// disjunction that would look at every membership.
		var due []*sql.Predicate
		for _, kind := range staff.DueKinds(now) {
			t := sql.Table(membership.Table)
			sub := sql.Select(t.C(membership.FieldOrganizationID)).From(t)
			kind(sub)
			due = append(due, sql.In(s.C(organization.FieldID), sub))
		}
		s.Where(sql.Or(due...))
	}).Limit(organizationsPerRound)
	if locks {
		q.ForUpdate(sql.WithLockAction(sql.SkipLocked))
	}
	return q.IDs(ctx)
}
