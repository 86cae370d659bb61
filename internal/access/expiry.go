package access

import (
	"time"

	"entgo.io/ent/dialect/sql"

	"staffroom/ent/grouplink"
	"staffroom/ent/membership"
	"staffroom/ent/predicate"
)

// Time-boxed access: a group link, a grant or a disabled period may end at a
// time (its until). Every read compares with the clock, so that what has ended
// stops counting at that second; the expiry job (internal/expiry) then ends it
// in the data too, and audits it. The helpers below are the one definition of
// "ended" that both use.

// Ended reports whether an until has passed at now: an until of nil never does.
func Ended(until *time.Time, now time.Time) bool {
	return until != nil && !until.After(now)
}

// StatusAt returns a membership's status at now: DISABLED for a period that
// has ended reads ACTIVE.
func StatusAt(status membership.Status, disabledUntil *time.Time, now time.Time) membership.Status {
	if status == membership.StatusDISABLED && Ended(disabledUntil, now) {
		return membership.StatusACTIVE
	}
	return status
}

// DisabledUntil returns when a membership's disabled period ends, or nil when
// it is not disabled at now or is disabled until enabled.
func DisabledUntil(status membership.Status, disabledUntil *time.Time, now time.Time) *time.Time {
	if StatusAt(status, disabledUntil, now) != membership.StatusDISABLED {
		return nil
	}
	return disabledUntil
}

// LiveGrants returns the grants that have not ended at now, in their order.
func LiveGrants(grants []string, expiries map[string]time.Time, now time.Time) []string {
	if len(expiries) == 0 {
		return grants
	}
	out := make([]string, 0, len(grants))
	for _, g := range grants {
		if until, ok := expiries[g]; !ok || until.After(now) {
			out = append(out, g)
		}
	}
	return out
}

// ActiveAt matches the memberships whose status is ACTIVE at now (removal and
// review are the caller's to check).
func ActiveAt(now time.Time) predicate.Membership {
	return func(s *sql.Selector) { s.Where(activeAt(s.C, now)) }
}

// activeAt is ActiveAt on the membership columns that c qualifies.
func activeAt(c func(string) string, now time.Time) *sql.Predicate {
	return sql.Or(
		sql.EQ(c(membership.FieldStatus), string(membership.StatusACTIVE)),
		sql.And(
			sql.EQ(c(membership.FieldStatus), string(membership.StatusDISABLED)),
			sql.NotNull(c(membership.FieldDisabledUntil)),
			sql.LTE(c(membership.FieldDisabledUntil), now.UTC()),
		),
	)
}

// LiveLink matches the group links that have not ended at now.
func LiveLink(now time.Time) predicate.GroupLink {
	return func(s *sql.Selector) { s.Where(liveLink(s.C, now)) }
}

// liveLink is LiveLink on the link columns that c qualifies.
func liveLink(c func(string) string, now time.Time) *sql.Predicate {
	return sql.Or(sql.IsNull(c(grouplink.FieldUntil)), sql.GT(c(grouplink.FieldUntil), now.UTC()))
}
