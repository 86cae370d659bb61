package graph_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"staffroom/ent/auditevent"
	"staffroom/ent/group"
	"staffroom/ent/membership"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

func seatsUsed(t testing.TB, s *apptest.Server, token string, org pulid.ID) string {
	t.Helper()
	r := s.MustDo(t, token, `query($org: ID!) { node(id: $org) { ... on Organization { billing { seats seatsUsed } } } }`, map[string]any{"org": org})
	return string(r.Data)
}

func inviteAs(t testing.TB, s *apptest.Server, token, email string, roleID pulid.ID) *apptest.Response {
	t.Helper()
	return s.Do(t, token, `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { inviteLink invitation { id } } }`,
		map[string]any{"in": map[string]any{"email": email, "firstName": "New", "lastName": "Person", "roleId": roleID}})
}

func roleOf(t testing.TB, s *apptest.Server, org pulid.ID, key string) pulid.ID {
	t.Helper()
	ctx := access.SystemContext(context.Background(), "test")
	return s.DB.Client.Role.Query().Where(role.OrganizationID(org), role.Key(key)).OnlyIDX(ctx)
}

// Active members and pending invitations never exceed the plan's seats, on
// every way in: invitations one by one, in bulk and by import, acceptances,
// re-enabling and restoring a removed member.
func TestSeatsBoundMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Seats Club", "ACTIVITY")
		owner := org.Owner.Token
		guest := roleOf(t, s, org.ID, "guest")
		if got := seatsUsed(t, s, owner, org.ID); got != `{"node":{"billing":{"seats":0,"seatsUsed":1}}}` {
			t.Fatalf("a new organization: %s; want no seat limit and the owner's seat used", got)
		}
		member := org.AddMember(t, "instructor", "Ida", "Instructor")
		s.MustDo(t, owner, `mutation { updateBilling(input: {seats: 3}) { seats } }`, nil)

		first := inviteAs(t, s, owner, "first@example.com", guest)
		if len(first.Errors) > 0 {
			t.Fatalf("the third seat: %v", first.Codes())
		}
		if got := seatsUsed(t, s, owner, org.ID); got != `{"node":{"billing":{"seats":3,"seatsUsed":3}}}` {
			t.Errorf("usage with a pending invitation: %s", got)
		}
		if r := inviteAs(t, s, owner, "fourth@example.com", guest); !slices.Equal(r.Codes(), []string{"SEATS_EXHAUSTED"}) {
			t.Errorf("a fourth seat by inviteMember: %v", r.Codes())
		}
		r := s.MustDo(t, owner, `mutation { inviteMembers(input: [{email: "bulk@example.com", firstName: "B", lastName: "Ulk", roleId: "`+string(guest)+`"}]) { error { code } } }`, nil)
		if !strings.Contains(string(r.Data), `"SEATS_EXHAUSTED"`) {
			t.Errorf("a fourth seat by inviteMembers: %s", r.Data)
		}
		r = s.MustDo(t, owner, `mutation($csv: String!) { importMembers(csv: $csv) { invited rows { error { code } } } }`,
			map[string]any{"csv": "first_name,last_name,email,phone,role\nIm,Port,import@example.com,,guest\n"})
		if !strings.Contains(string(r.Data), `"invited":0`) || !strings.Contains(string(r.Data), `"SEATS_EXHAUSTED"`) {
			t.Errorf("a fourth seat by importMembers: %s", r.Data)
		}

		// A disabled member frees a seat, and takes one again when enabled.
		s.MustDo(t, owner, `mutation($id: ID!) { disableMember(id: $id) { status } }`, map[string]any{"id": member.MembershipID})
		if r := inviteAs(t, s, owner, "second@example.com", guest); len(r.Errors) > 0 {
			t.Fatalf("the seat a disabled member freed: %v", r.Codes())
		}
		r = s.Do(t, owner, `mutation($id: ID!) { enableMember(id: $id) { status } }`, map[string]any{"id": member.MembershipID})
		if !slices.Equal(r.Codes(), []string{"SEATS_EXHAUSTED"}) {
			t.Errorf("enableMember beyond the seats: %v", r.Codes())
		}

		// Lowering the seats below use is allowed; accepting then waits for a seat.
		s.MustDo(t, owner, `mutation { updateBilling(input: {seats: 2}) { seats } }`, nil)
		s.Deliver(t)
		token := s.LinkToken(t, "first@example.com", "/invitation")
		accept := func() *apptest.Response {
			return s.Do(t, "", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { accessToken } }`,
				map[string]any{"in": map[string]any{"token": token, "password": "a long enough passphrase", "firstName": "First"}})
		}
		if r := accept(); !slices.Equal(r.Codes(), []string{"SEATS_EXHAUSTED"}) {
			t.Errorf("accepting beyond lowered seats: %v", r.Codes())
		}
		s.MustDo(t, owner, `mutation { updateBilling(input: {seats: 3}) { seats } }`, nil)
		if r := accept(); len(r.Errors) > 0 {
			t.Fatalf("accepting into its own seat: %v", r.Codes())
		}
		if got := seatsUsed(t, s, owner, org.ID); got != `{"node":{"billing":{"seats":3,"seatsUsed":3}}}` {
			t.Errorf("usage after the acceptance: %s", got)
		}

		// Restoring a removed member goes through an invitation, which needs a seat.
		s.MustDo(t, owner, `mutation($id: ID!) { removeMember(id: $id) { removedAt } }`, map[string]any{"id": member.MembershipID})
		s.MustDo(t, owner, `mutation { updateBilling(input: {seats: 2}) { seats } }`, nil)
		if r := inviteAs(t, s, owner, member.Email, guest); !slices.Equal(r.Codes(), []string{"SEATS_EXHAUSTED"}) {
			t.Errorf("re-inviting a removed member beyond the seats: %v", r.Codes())
		}
	})
}

// Parallel invitations count each other under the organization's lock: the
// seats are never overshot.
func TestParallelInvitationsNeverExceedSeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Busy Club", "ACTIVITY")
		guest := roleOf(t, s, org.ID, "guest")
		s.MustDo(t, org.Owner.Token, `mutation { updateBilling(input: {seats: 6}) { seats } }`, nil)
		var wg sync.WaitGroup
		codes := make([][]string, 16)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = inviteAs(t, s, org.Owner.Token, fmt.Sprintf("p%d@example.com", i), guest).Codes()
			}()
		}
		wg.Wait()
		invited := 0
		for _, c := range codes {
			switch {
			case len(c) == 0:
				invited++
			case !slices.Equal(c, []string{"SEATS_EXHAUSTED"}):
				t.Errorf("parallel invitation: %v", c)
			}
		}
		if got := seatsUsed(t, s, org.Owner.Token, org.ID); invited != 5 || got != `{"node":{"billing":{"seats":6,"seatsUsed":6}}}` {
			t.Errorf("%d invited, usage %s; want 5 and every seat used, none beyond", invited, got)
		}
	})
}

// SMALL_BUSINESS admins keep the billing email up to date; the plan, seats
// and payment method stay with owners.
func TestBillingEmailByAdminPaymentByOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Text Shop", "SMALL_BUSINESS")
		admin := org.AddMember(t, "admin", "Ada", "Admin")
		r := s.MustDo(t, admin.Token, `mutation { updateBilling(input: {billingEmail: "Accounts@Shop.example"}) { billingEmail } }`, nil)
		if string(r.Data) != `{"updateBilling":{"billingEmail":"accounts@shop.example"}}` {
			t.Errorf("admin's billing email: %s", r.Data)
		}
		for _, in := range []string{`{paymentMethodSummary: "Visa 4242"}`, `{seats: 50}`, `{plan: "pro"}`, `{billingEmail: "x@shop.example", plan: "pro"}`} {
			if r := s.Do(t, admin.Token, `mutation { updateBilling(input: `+in+`) { plan } }`, nil); !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) {
				t.Errorf("admin's updateBilling(%s): %v", in, r.Codes())
			}
		}
		r = s.MustDo(t, org.Owner.Token, `mutation { updateBilling(input: {paymentMethodSummary: "Visa 4242"}) { billingEmail paymentMethodSummary } }`, nil)
		if string(r.Data) != `{"updateBilling":{"billingEmail":"accounts@shop.example","paymentMethodSummary":"Visa 4242"}}` {
			t.Errorf("owner's payment method: %s", r.Data)
		}
	})
}

// ACTIVITY administrators see every class, attendance list and team but only
// the forms linked to them, attendants no form; an organization made before
// keeps its roles until an owner re-applies the preset.
func TestActivityPresetScopesFormsAndReapplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Forms Club", "ACTIVITY")
		admin := org.AddMember(t, "administrator", "Ada", "Admin")
		attendant := org.AddMember(t, "attendant", "Ali", "Attendant")
		agent := org.AddMember(t, "communication_agent", "Cam", "Agent")
		ctx := access.SystemContext(context.Background(), "test fixture")
		c := s.DB.Client
		mk := func(name string, kind group.Kind) pulid.ID {
			return c.Group.Create().SetOrganizationID(org.ID).SetName(name).SetKind(kind).SaveX(ctx).ID
		}
		mk("Juniors", group.KindCLASS)
		mk("Monday list", group.KindATTENDANCE_LIST)
		mk("Staff team", group.KindTEAM)
		assigned := mk("Assigned form", group.KindFORM)
		mk("Other form", group.KindFORM)
		c.Membership.Update().Where(membership.IDIn(admin.MembershipID, attendant.MembershipID)).AddGroupIDs(assigned).ExecX(ctx)

		names := func(token string) string {
			r := s.MustDo(t, token, `query($org: ID!) { node(id: $org) { ... on Organization { groups(orderBy: {field: NAME}) { totalCount edges { node { name } } } } } }`,
				map[string]any{"org": org.ID})
			return string(r.Data)
		}
		want := map[string]string{
			"administrator":       `{"node":{"groups":{"totalCount":4,"edges":[{"node":{"name":"Assigned form"}},{"node":{"name":"Juniors"}},{"node":{"name":"Monday list"}},{"node":{"name":"Staff team"}}]}}}`,
			"attendant":           `{"node":{"groups":{"totalCount":3,"edges":[{"node":{"name":"Juniors"}},{"node":{"name":"Monday list"}},{"node":{"name":"Staff team"}}]}}}`,
			"communication_agent": `{"node":{"groups":{"totalCount":5,"edges":[{"node":{"name":"Assigned form"}},{"node":{"name":"Juniors"}},{"node":{"name":"Monday list"}},{"node":{"name":"Other form"}},{"node":{"name":"Staff team"}}]}}}`,
		}
		tokens := map[string]string{"administrator": admin.Token, "attendant": attendant.Token, "communication_agent": agent.Token}
		for who, w := range want {
			if got := names(tokens[who]); got != w {
				t.Errorf("%s sees %s\nwant %s", who, got, w)
			}
		}

		// An organization made before the presets changed: its roles have no
		// group scopes, and it keeps them until an owner re-applies the preset.
		c.Role.Update().Where(role.OrganizationID(org.ID)).ClearGroupScopes().ExecX(ctx)
		if got := names(admin.Token); !strings.Contains(got, `"totalCount":5`) {
			t.Fatalf("an older organization's administrator: %s; want every group, as before", got)
		}
		if r := s.Do(t, admin.Token, `mutation { reapplyRolePreset { id } }`, nil); !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) {
			t.Errorf("an administrator re-applies the preset: %v", r.Codes())
		}
		s.MustDo(t, org.Owner.Token, `mutation { reapplyRolePreset { id } }`, nil)
		for who, w := range want {
			if got := names(tokens[who]); got != w {
				t.Errorf("after re-applying, %s sees %s\nwant %s", who, got, w)
			}
		}
		r := s.MustDo(t, org.Owner.Token, `query($org: ID!) { node(id: $org) { ... on Organization { roles { key groupScopes { kind scope } } } } }`, map[string]any{"org": org.ID})
		for _, w := range []string{`{"key":"administrator","groupScopes":[{"kind":"FORM","scope":"LINKED"}]}`, `{"key":"attendant","groupScopes":[{"kind":"FORM","scope":"NONE"}]}`} {
			if !strings.Contains(string(r.Data), w) {
				t.Errorf("roles %s lack %s", r.Data, w)
			}
		}
		n := c.AuditEvent.Query().Where(auditevent.Action("organization.preset_reapplied"), auditevent.OrganizationID(org.ID)).CountX(ctx)
		if n != 1 {
			t.Errorf("%d audit events for re-applying the preset, want 1", n)
		}
	})
}

// BenchmarkSetMembersRoleWithSeats measures setMembersRole over 500 members of
// an organization whose plan has seats: a role change adds nobody, so it never
// counts seats.
func BenchmarkSetMembersRoleWithSeats(b *testing.B) {
	d := benchDialect()
	s := apptest.New(b, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
	org := s.CreateOrg(b, "Seated Club", "ACTIVITY")
	seedMembers(b, s, org, 500)
	s.MustDo(b, org.Owner.Token, `mutation { updateBilling(input: {seats: 600}) { seats } }`, nil)
	ctx := access.SystemContext(context.Background(), "test")
	ids := s.DB.Client.Membership.Query().Where(membership.OrganizationID(org.ID), membership.UserIDNEQ(org.Owner.ID)).IDsX(ctx)
	if len(ids) != 500 {
		b.Fatalf("%d members", len(ids))
	}
	roles := []pulid.ID{roleOf(b, s, org.ID, "instructor_no_messaging"), roleOf(b, s, org.ID, "instructor")}
	i := 0
	for b.Loop() {
		r := s.MustDo(b, org.Owner.Token, `mutation($ids: [ID!]!, $role: ID!) { setMembersRole(ids: $ids, roleId: $role) { id } }`,
			map[string]any{"ids": ids, "role": roles[i%2]})
		if len(r.Errors) > 0 {
			b.Fatal(r.Codes())
		}
		i++
	}
}
