package expiry_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"staffroom/ent"
	"staffroom/ent/auditevent"
	"staffroom/ent/grouplink"
	"staffroom/ent/membership"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/expiry"
	"staffroom/internal/store"
	"staffroom/internal/store/storetest"
)

// fixture is organizations with members and groups, written straight to the
// database: the job reads nothing else.
type fixture struct {
	db      *store.DB
	members []*ent.Membership
	groups  map[pulid.ID][]pulid.ID // by organization
}

func sys() context.Context { return access.SystemContext(context.Background(), "test fixture") }

func newFixture(t testing.TB, d storetest.Dialect, orgs, membersPerOrg, groupsPerOrg int) *fixture {
	t.Helper()
	db := storetest.Open(t, d)
	c, ctx := db.Client, sys()
	f := &fixture{db: db, groups: map[pulid.ID][]pulid.ID{}}
	for o := range orgs {
		org := c.Organization.Create().SetName(fmt.Sprintf("Org %d", o)).SetSlug(fmt.Sprintf("org-%d", o)).SaveX(ctx)
		r := c.Role.Create().SetOrganizationID(org.ID).SetKey("instructor").SetName("Instructor").SaveX(ctx)
		users := make([]*ent.UserCreate, membersPerOrg)
		for i := range users {
			users[i] = c.User.Create().SetEmail(fmt.Sprintf("m%d.%d@example.com", o, i)).SetFirstName("M").SetLastName(fmt.Sprint(i))
		}
		us := bulk(t, users, func(b []*ent.UserCreate) []*ent.User { return c.User.CreateBulk(b...).SaveX(ctx) })
		ms := make([]*ent.MembershipCreate, len(us))
		for i, u := range us {
			name := fmt.Sprintf("m.%d", i)
			ms[i] = c.Membership.Create().SetOrganizationID(org.ID).SetUserID(u.ID).SetRoleID(r.ID).SetUsername(name).SetUsernameKey(name)
		}
		f.members = append(f.members, bulk(t, ms, func(b []*ent.MembershipCreate) []*ent.Membership { return c.Membership.CreateBulk(b...).SaveX(ctx) })...)
		for g := range groupsPerOrg {
			f.groups[org.ID] = append(f.groups[org.ID], c.Group.Create().SetOrganizationID(org.ID).SetName(fmt.Sprintf("Group %d", g)).SaveX(ctx).ID)
		}
	}
	return f
}

// bulk saves creates in chunks that keep under both databases' limits of bind
// parameters.
func bulk[C, E any](t testing.TB, creates []C, save func([]C) []E) []E {
	t.Helper()
	var out []E
	for start := 0; start < len(creates); start += 500 {
		out = append(out, save(creates[start:min(start+500, len(creates))])...)
	}
	return out
}

// link links every member to every group of their organization until until.
func (f *fixture) link(t testing.TB, until time.Time) int {
	t.Helper()
	c := f.db.Client
	var links []*ent.GroupLinkCreate
	for _, m := range f.members {
		for _, g := range f.groups[m.OrganizationID] {
			links = append(links, c.GroupLink.Create().SetMembershipID(m.ID).SetGroupID(g).SetUntil(until))
		}
	}
	bulk(t, links, func(b []*ent.GroupLinkCreate) []*ent.GroupLink { return c.GroupLink.CreateBulk(b...).SaveX(sys()) })
	return len(links)
}

// Two workers running at once, as on two replicas, end every expiry exactly
// once: a disabled period, a grant and group links of each member, each with
// one audit event as the system.
func TestWorkersEndEachExpiryOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newFixture(t, d, 6, 20, 3)
		c, ctx := f.db.Client, sys()
		now := time.Now().UTC().Truncate(time.Microsecond)
		due, later := now.Add(time.Minute), now.Add(2*time.Hour)
		want := f.link(t, due)
		for i, m := range f.members {
			upd := c.Membership.UpdateOne(m).SetGrants([]string{access.MembersView, access.GroupsView}).
				SetGrantExpiries(map[string]time.Time{access.MembersView: due, access.GroupsView: later}).SetNextGrantExpiry(due)
			want++
			if i%2 == 0 {
				upd.SetStatus(membership.StatusDISABLED).SetDisabledUntil(due)
				want++
			}
			upd.ExecX(ctx)
		}
		clock := func() time.Time { return now.Add(time.Hour) }
		var wg sync.WaitGroup
		ended := make([]int, 2)
		errs := make([]error, 2)
		for i := range ended {
			w := &expiry.Worker{Client: c, Dialect: f.db.Dialect, BatchSize: 7, Now: clock}
			wg.Go(func() { ended[i], errs[i] = w.RunOnce(context.Background()) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		t.Logf("the workers ended %d and %d", ended[0], ended[1])
		if ended[0]+ended[1] != want {
			t.Errorf("the workers ended %d and %d, want %d in all", ended[0], ended[1], want)
		}
		events := c.AuditEvent.Query().Where(auditevent.ActionHasSuffix("_ended")).AllX(ctx)
		seen := map[string]bool{}
		for _, e := range events {
			key := fmt.Sprint(e.Action, e.TargetID, e.Data["group"], e.Data["permission"])
			if seen[key] {
				t.Errorf("ended twice: %s", key)
			}
			seen[key] = true
			if e.ActorID != "" || e.Data["actor"] != "system" {
				t.Errorf("%s is not the system's: actor %q, data %v", key, e.ActorID, e.Data)
			}
		}
		if len(events) != want {
			t.Errorf("%d audit events, want %d", len(events), want)
		}
		if n := c.GroupLink.Query().CountX(ctx); n != 0 {
			t.Errorf("%d links left", n)
		}
		left := c.Membership.Query().Where(membership.Or(membership.StatusEQ(membership.StatusDISABLED), membership.NextGrantExpiryNEQ(later))).CountX(ctx)
		if left != 0 {
			t.Errorf("%d members kept a disabled period or the wrong next grant expiry", left)
		}
		for _, m := range c.Membership.Query().AllX(ctx) {
			if len(m.Grants) != 1 || m.Grants[0] != access.GroupsView {
				t.Errorf("%s kept grants %v, want the one that ends later", m.ID, m.Grants)
				break
			}
		}
		w := &expiry.Worker{Client: c, Dialect: f.db.Dialect, Now: clock}
		if n, err := w.RunOnce(context.Background()); n != 0 || err != nil {
			t.Errorf("a third run ended %d (%v), want nothing", n, err)
		}
	})
}

// BenchmarkEndLinks measures the job ending 10,000 group links: 1,000 members
// of one organization, each linked to 10 groups until a time that has passed.
//
//	TEST_DATABASE_URL=postgres://… go test ./internal/expiry -run '^$' -bench EndLinks -benchtime 3x
func BenchmarkEndLinks(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(d.Name, func(b *testing.B) {
			f := newFixture(b, d, 1, 1000, 10)
			now := time.Now().UTC()
			w := &expiry.Worker{Client: f.db.Client, Dialect: f.db.Dialect, Now: func() time.Time { return now.Add(time.Hour) }}
			for b.Loop() {
				b.StopTimer()
				n := f.link(b, now.Add(time.Minute))
				b.StartTimer()
				ended, err := w.RunOnce(context.Background())
				if err != nil || ended != n {
					b.Fatalf("ended %d of %d: %v", ended, n, err)
				}
			}
			b.StopTimer()
			if n := f.db.Client.GroupLink.Query().Where(grouplink.UntilNotNil()).CountX(sys()); n != 0 {
				b.Fatalf("%d links left", n)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/10k-links")
		})
	}
}
