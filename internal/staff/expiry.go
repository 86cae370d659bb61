package staff

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"staffroom/ent"
	"staffroom/ent/grouplink"
	"staffroom/ent/membership"
	"staffroom/ent/predicate"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
)

// MaxUntil is how far ahead time-boxed access may end: it is for trips, leave
// and one-off tasks, and a mistyped year should not give access for decades.
const MaxUntil = 5 * 365 * 24 * time.Hour

// SystemActor is the actor that the audit events of endings name in their
// data ("actor"): nobody acted, the time came.
const SystemActor = "system"

// checkUntil refuses an until that has passed or lies more than MaxUntil ahead,
// naming field. It returns the time in UTC, to the microsecond that PostgreSQL
// keeps, so that both databases compare the same value.
func checkUntil(field string, until, now time.Time) (time.Time, error) {
	until = until.UTC().Truncate(time.Microsecond)
	switch {
	case !until.After(now):
		return time.Time{}, errcode.Input(field, "%s must be in the future", field)
	case until.After(now.Add(MaxUntil)):
		return time.Time{}, errcode.Input(field, "%s is at most 5 years ahead", field)
	}
	return until, nil
}

// GrantExpiry is when one grant ends.
type GrantExpiry struct {
	Permission string
	Until      time.Time
}

// GrantExpiries returns when a member's grants end, in permission order,
// leaving out the grants that have ended at now.
func GrantExpiries(m *ent.Membership, now time.Time) []*GrantExpiry {
	out := []*GrantExpiry{}
	for _, p := range slices.Sorted(maps.Keys(m.GrantExpiries)) {
		if until := m.GrantExpiries[p]; until.After(now) && slices.Contains(m.Grants, p) {
			out = append(out, &GrantExpiry{Permission: p, Until: until.UTC()})
		}
	}
	return out
}

// setGrants writes to upd a change of a member's grants or of when they end,
// and what changed to data. It starts from the grants that hold at now.
// Changing when a grant ends gives it for another time: the actor must hold it.
func setGrants(ctx context.Context, tx *ent.Client, v *access.Viewer, upd *ent.MembershipUpdateOne, m *ent.Membership, in UpdateInput, now time.Time, data map[string]any) error {
	grants := access.LiveGrants(m.Grants, m.GrantExpiries, now)
	before := liveExpiries(m.GrantExpiries, now)
	if in.Grants != nil {
		data["grants"] = audit.Change(grants, dedupe(in.Grants))
		grants = dedupe(in.Grants)
	}
	expiries := map[string]time.Time{}
	if in.GrantExpiries == nil {
		for p, t := range before {
			if slices.Contains(grants, p) {
				expiries[p] = t
			}
		}
	}
	for _, e := range in.GrantExpiries {
		if !slices.Contains(grants, e.Permission) {
			return errcode.Input("grantExpiries", "%s is not among the member's grants: list it in grants too", e.Permission)
		}
		if _, twice := expiries[e.Permission]; twice {
			return errcode.Input("grantExpiries", "%s is named twice", e.Permission)
		}
		t, err := checkUntil("grantExpiries", e.Until, now)
		if err != nil {
			return err
		}
		expiries[e.Permission] = t
	}
	if changed := changedExpiries(before, expiries, grants); len(changed) > 0 {
		if err := v.CheckGiveIn(ctx, tx, "grantExpiries", changed); err != nil {
			return err
		}
		data["grantExpiries"] = audit.Change(before, expiries)
	}
	// A grant that has ended waits in the data for the expiry job, which
	// records its end; it stays unless it is granted again.
	stored, storedExpiries := slices.Clone(grants), maps.Clone(expiries)
	for p, t := range m.GrantExpiries {
		if !t.After(now) && slices.Contains(m.Grants, p) && !slices.Contains(grants, p) {
			stored = append(stored, p)
			storedExpiries[p] = t
		}
	}
	upd.SetGrants(stored).SetGrantExpiries(storedExpiries)
	if next := earliest(storedExpiries); next != nil {
		upd.SetNextGrantExpiry(*next)
	} else {
		upd.ClearNextGrantExpiry()
	}
	return nil
}

// liveExpiries returns the end times that have not passed at now.
func liveExpiries(expiries map[string]time.Time, now time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	for p, t := range expiries {
		if t.After(now) {
			out[p] = t
		}
	}
	return out
}

// changedExpiries returns the grants, among those kept, whose end time a
// change sets, moves or removes, in order.
func changedExpiries(before, after map[string]time.Time, grants []string) []string {
	var out []string
	for _, p := range grants {
		b, hadEnd := before[p]
		a, hasEnd := after[p]
		if hadEnd != hasEnd || !b.Equal(a) {
			out = append(out, p)
		}
	}
	return out
}

func earliest(expiries map[string]time.Time) *time.Time {
	var first *time.Time
	for _, t := range expiries {
		if first == nil || t.Before(*first) {
			first = &t
		}
	}
	return first
}

// GroupLink is one of a member's links to a group, with when it ends.
type GroupLink struct {
	Group *ent.Group
	Until *time.Time
}

// GroupLinks returns a member's links that hold at now to the groups the
// viewer can see, in the order they were made.
func GroupLinks(ctx context.Context, client *ent.Client, m *ent.Membership, now time.Time) ([]*GroupLink, error) {
	links, err := client.GroupLink.Query().
		Where(grouplink.MembershipID(m.ID), access.LiveLink(now)).
		WithGroup().Order(grouplink.ByGroupID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("staff: group links: %w", err)
	}
	out := make([]*GroupLink, 0, len(links))
	for _, l := range links {
		if l.Edges.Group == nil {
			continue // hidden from the viewer
		}
		out = append(out, &GroupLink{Group: l.Edges.Group, Until: l.Until})
	}
	return out, nil
}

// StatusAt answers the filters of a members list on status as of now: a
// member whose disabled period has ended is ACTIVE, whether or not the expiry
// job has enabled them yet. It rewrites w and its nested filters in place.
func StatusAt(w *ent.MembershipWhereInput, now time.Time) {
	if w == nil {
		return
	}
	is := func(statuses ...membership.Status) predicate.Membership {
		active, disabled := slices.Contains(statuses, membership.StatusACTIVE), slices.Contains(statuses, membership.StatusDISABLED)
		switch {
		case active && disabled:
			return func(*sql.Selector) {}
		case active:
			return access.ActiveAt(now)
		case disabled:
			return membership.Not(access.ActiveAt(now))
		}
		return func(s *sql.Selector) { s.Where(sql.False()) }
	}
	other := func(s membership.Status) membership.Status {
		if s == membership.StatusACTIVE {
			return membership.StatusDISABLED
		}
		return membership.StatusACTIVE
	}
	if w.Status != nil {
		w.Predicates = append(w.Predicates, is(*w.Status))
	}
	if w.StatusNEQ != nil {
		w.Predicates = append(w.Predicates, is(other(*w.StatusNEQ)))
	}
	if w.StatusIn != nil {
		w.Predicates = append(w.Predicates, is(w.StatusIn...))
	}
	if w.StatusNotIn != nil {
		var in []membership.Status
		for _, s := range []membership.Status{membership.StatusACTIVE, membership.StatusDISABLED} {
			if !slices.Contains(w.StatusNotIn, s) {
				in = append(in, s)
			}
		}
		w.Predicates = append(w.Predicates, is(in...))
	}
	w.Status, w.StatusNEQ, w.StatusIn, w.StatusNotIn = nil, nil, nil, nil
	StatusAt(w.Not, now)
	for _, x := range w.Or {
		StatusAt(x, now)
	}
	for _, x := range w.And {
		StatusAt(x, now)
	}
}

// Due matches the memberships with something to end at now: a disabled
// period, a grant or a group link whose until has passed.
func Due(now time.Time) predicate.Membership { return membership.Or(DueKinds(now)...) }

// DueKinds are Due's parts, one per kind of ending, each answered by an index
// of its own (the links' as one uncorrelated subquery).
func DueKinds(now time.Time) []predicate.Membership {
	return []predicate.Membership{
		membership.And(membership.StatusEQ(membership.StatusDISABLED), membership.DisabledUntilLTE(now)),
		membership.NextGrantExpiryLTE(now),
		func(s *sql.Selector) {
			l := sql.Table(grouplink.Table)
			s.Where(sql.In(s.C(membership.FieldID),
				sql.Select(l.C(grouplink.FieldMembershipID)).From(l).Where(sql.LTE(l.C(grouplink.FieldUntil), now))))
		},
	}
}

// EndExpired ends what of a membership has reached its until at now — a
// disabled period, grants, group links — and records each ending in the
// membership's organization, as the system: no actor, and data.actor
// "system" with what ended. It runs in the expiry job's transaction, which
// holds the organization (as every member change does) and the rows it ends;
// what it ended is gone, so a second run ends nothing. With rowLocks (on
// PostgreSQL) it locks the links it ends, so that nobody unlinks them in
// between. It returns how many endings it recorded.
func EndExpired(ctx context.Context, tx *ent.Client, m *ent.Membership, now time.Time, rowLocks bool) (int, error) {
	sys := access.SystemContext(ctx, "end expired access")
	ended := 0
	record := func(action string, data map[string]any) error {
		data["actor"] = SystemActor
		ended++
		return audit.Record(access.NewContext(sys, nil), tx, m.OrganizationID, audit.Event{
			Action: action, TargetType: "Membership", TargetID: m.ID, Data: data,
		})
	}
	upd := tx.Membership.UpdateOne(m)
	changed := false
	if m.Status == membership.StatusDISABLED && access.Ended(m.DisabledUntil, now) {
		upd.SetStatus(membership.StatusACTIVE).ClearDisabledUntil()
		changed = true
		if err := record("member.disabled_period_ended", map[string]any{"until": m.DisabledUntil.UTC()}); err != nil {
			return ended, err
		}
	}
	var over []string
	for _, p := range slices.Sorted(maps.Keys(m.GrantExpiries)) {
		if !m.GrantExpiries[p].After(now) {
			over = append(over, p)
		}
	}
	if len(over) > 0 {
		grants := slices.DeleteFunc(slices.Clone(m.Grants), func(g string) bool { return slices.Contains(over, g) })
		expiries := maps.Clone(m.GrantExpiries)
		for _, p := range over {
			delete(expiries, p)
		}
		upd.SetGrants(grants).SetGrantExpiries(expiries)
		if next := earliest(expiries); next != nil {
			upd.SetNextGrantExpiry(*next)
		} else {
			upd.ClearNextGrantExpiry()
		}
		changed = true
		for _, p := range over {
			// A grant that was revoked from the list already ends quietly.
			if !slices.Contains(m.Grants, p) {
				continue
			}
			if err := record("member.grant_ended", map[string]any{"permission": p, "until": m.GrantExpiries[p].UTC()}); err != nil {
				return ended, err
			}
		}
	} else if m.NextGrantExpiry != nil && !m.NextGrantExpiry.After(now) {
		upd.ClearNextGrantExpiry()
		changed = true
	}
	if changed {
		if err := upd.Exec(sys); err != nil {
			return ended, fmt.Errorf("staff: end expired access of %s: %w", m.ID, err)
		}
	}
	q := tx.GroupLink.Query().Where(grouplink.MembershipID(m.ID), grouplink.UntilLTE(now)).Order(grouplink.ByGroupID())
	if rowLocks {
		q.ForUpdate()
	}
	links, err := q.All(sys)
	if err != nil || len(links) == 0 {
		return ended, err
	}
	if _, err := tx.GroupLink.Delete().Where(grouplink.MembershipID(m.ID), grouplink.UntilLTE(now)).Exec(sys); err != nil {
		return ended, fmt.Errorf("staff: end expired links of %s: %w", m.ID, err)
	}
	for _, l := range links {
		if err := record("member.group_link_ended", map[string]any{"group": l.GroupID, "until": l.Until.UTC()}); err != nil {
			return ended, err
		}
	}
	return ended, nil
}

// LinkedGroups returns the groups a member is linked to at now, as the viewer
// sees them. Field collection loads them with the membership and leaves ended
// links out in SQL; a membership read alone (a mutation's answer,
// viewer.membership) traverses through the links instead of ent's plain edge,
// whose join cannot be told about until, so that an ended link is gone at its
// second there too, before the expiry job deletes it.
func LinkedGroups(ctx context.Context, client *ent.Client, m *ent.Membership, now time.Time) ([]*ent.Group, error) {
	groups, err := client.GroupLink.Query().Where(grouplink.MembershipID(m.ID), access.LiveLink(now)).QueryGroup().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("staff: linked groups: %w", err)
	}
	return groups, nil
}

// LinkedMembers is LinkedGroups from the group's side.
func LinkedMembers(ctx context.Context, client *ent.Client, g *ent.Group, now time.Time) ([]*ent.Membership, error) {
	members, err := client.GroupLink.Query().Where(grouplink.GroupID(g.ID), access.LiveLink(now)).QueryMembership().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("staff: linked members: %w", err)
	}
	return members, nil
}
