package graph_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"staffroom/ent"
	"staffroom/ent/apikey"
	"staffroom/ent/group"
	"staffroom/ent/membership"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

const createKeyMutation = `mutation($in: CreateAPIKeyInput!) { createAPIKey(input: $in) { key apiKey { id prefix permissions expiresAt } } }`

// createKey makes an API key as the token's holder and returns the key and its id.
func createKey(t *testing.T, s *apptest.Server, token string, in map[string]any) (string, pulid.ID) {
	t.Helper()
	r := s.MustDo(t, token, createKeyMutation, map[string]any{"in": in})
	var out struct {
		CreateAPIKey struct {
			Key    string
			APIKey struct{ ID pulid.ID }
		}
	}
	r.Decode(t, &out)
	return out.CreateAPIKey.Key, out.CreateAPIKey.APIKey.ID
}

// bookingsKey is the permission set of a typical integration: a bookings app
// that lists staff and groups and asks about its module's permission.
var bookingsKey = []any{access.MembersView, access.GroupsView, access.BookingsManage, access.AttendanceTrack}

func TestAPIKeyActsWithExactlyItsPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Keyed Club", "ACTIVITY")
		other := s.CreateOrg(t, "Other Club", "ACTIVITY")
		instructor := org.AddMember(t, "instructor", "Ina", "Structor")
		foreign := other.AddMember(t, "instructor", "Fo", "Reign")
		ctx := access.SystemContext(context.Background(), "test fixture")
		s.DB.Client.Group.Create().SetOrganizationID(org.ID).SetName("Kayak").SetKind(group.KindCLASS).ExecX(ctx)
		s.DB.Client.Group.Create().SetOrganizationID(other.ID).SetName("Foreign class").SetKind(group.KindCLASS).ExecX(ctx)

		key, _ := createKey(t, s, org.Owner.Token, map[string]any{"name": "Bookings", "permissions": bookingsKey})
		if !strings.HasPrefix(key, "sr_live_") || len(key) < 40 {
			t.Fatalf("key %q: want sr_live_ and a long secret", key)
		}

		r := s.MustDo(t, key, `{ viewer { permissions organization { name members { totalCount } groups { totalCount } } } }`, nil)
		var seen struct {
			Viewer struct {
				Permissions  []string
				Organization struct {
					Name    string
					Members struct{ TotalCount int }
					Groups  struct{ TotalCount int }
				}
			}
		}
		r.Decode(t, &seen)
		want := []string{access.MembersView, access.GroupsView, access.AttendanceTrack, access.BookingsManage}
		if !sameSet(seen.Viewer.Permissions, want) {
			t.Errorf("key permissions %v, want %v", seen.Viewer.Permissions, want)
		}
		if o := seen.Viewer.Organization; o.Name != "Keyed Club" || o.Members.TotalCount != 2 || o.Groups.TotalCount != 1 {
			t.Errorf("the key sees %+v; want its organization, 2 members, 1 group", o)
		}

		// What the key does not hold stays closed, as for a role without it.
		if r := s.Do(t, key, `{ viewer { organization { invoices { totalCount } auditEvents { totalCount } } } }`, nil); !slices.Contains(r.Codes(), "FORBIDDEN") {
			t.Errorf("invoices and audit without the permissions: got %v", r.Codes())
		}
		// Contact details need members.contact.
		r = s.Do(t, key, `query($id: ID!) { node(id: $id) { ... on Membership { user { email } } } }`, map[string]any{"id": instructor.MembershipID})
		if strings.Contains(string(r.Data), "@example.com") {
			t.Errorf("the key read an email without members.contact: %s", r.Data)
		}
		// Another organization's rows do not exist for the key.
		r = s.MustDo(t, key, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": foreign.MembershipID})
		if string(r.Data) != `{"node":null}` {
			t.Errorf("another organization's member through the key: %s", r.Data)
		}
	})
}

func TestAPIKeyWithoutGroupsViewSeesNoGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Linked Club", "ACTIVITY")
		ctx := access.SystemContext(context.Background(), "test fixture")
		s.DB.Client.Group.Create().SetOrganizationID(org.ID).SetName("Kayak").SetKind(group.KindCLASS).ExecX(ctx)
		key, _ := createKey(t, s, org.Owner.Token, map[string]any{"name": "Attendance", "permissions": []any{access.AttendanceTrack}})
		r := s.MustDo(t, key, `{ viewer { organization { groups { totalCount } } } }`, nil)
		if !strings.Contains(string(r.Data), `"totalCount":0`) {
			t.Errorf("a key without groups.view links no group and sees none: %s", r.Data)
		}
	})
}

func TestAPIKeyUseIsCountedAndRevocationEndsIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Counted Club", "ACTIVITY")
		key, id := createKey(t, s, org.Owner.Token, map[string]any{"name": "Reports", "permissions": []any{access.ReportsFinancial}})
		for range 3 {
			s.MustDo(t, key, `{ viewer { permissions } }`, nil)
		}
		list := `{ viewer { organization { apiKeys { id name prefix useCount lastUsedAt revokedAt createdBy { id } } } } }`
		r := s.MustDo(t, org.Owner.Token, list, nil)
		var out struct {
			Viewer struct {
				Organization struct {
					APIKeys []struct {
						ID         pulid.ID
						Prefix     string
						UseCount   int
						LastUsedAt *time.Time
						RevokedAt  *time.Time
						CreatedBy  *struct{ ID pulid.ID }
					}
				}
			}
		}
		r.Decode(t, &out)
		keys := out.Viewer.Organization.APIKeys
		if len(keys) != 1 || keys[0].ID != id || keys[0].UseCount != 3 || keys[0].LastUsedAt == nil || keys[0].CreatedBy == nil {
			t.Fatalf("the list: %+v; want one key used 3 times, with its creator", keys)
		}
		if !strings.HasPrefix(key, keys[0].Prefix) || len(keys[0].Prefix) != len("sr_live_")+8 || strings.Contains(string(r.Data), key) {
			t.Errorf("the list shows %q of %q: want the first 8 characters after sr_live_ and never the key", keys[0].Prefix, key)
		}

		s.MustDo(t, org.Owner.Token, `mutation($id: ID!) { revokeAPIKey(id: $id) { revokedAt } }`, map[string]any{"id": id})
		r = s.Do(t, key, `{ viewer { permissions } }`, nil)
		if r.Status != 401 || !slices.Contains(r.Codes(), "UNAUTHENTICATED") {
			t.Errorf("a revoked key: status %d, codes %v; want 401 UNAUTHENTICATED", r.Status, r.Codes())
		}
		r = s.MustDo(t, org.Owner.Token, `{ viewer { organization { auditEvents(first: 5) { edges { node { action targetId } } } } } }`, nil)
		for _, action := range []string{"apikey.created", "apikey.revoked"} {
			if !strings.Contains(string(r.Data), action) {
				t.Errorf("no %s in the audit log: %s", action, r.Data)
			}
		}
	})
}

func TestAPIKeyExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Expiring Club", "ACTIVITY")
		key, id := createKey(t, s, org.Owner.Token, map[string]any{"name": "Trial", "permissions": []any{access.MembersView}, "expiresInDays": 1})
		s.MustDo(t, key, `{ viewer { permissions } }`, nil)
		ctx := access.SystemContext(context.Background(), "test fixture")
		// A day later, as far as the key can tell.
		_, err := s.DB.SQL.ExecContext(ctx, rebind(d, `UPDATE api_keys SET expires_at = ? WHERE id = ?`), time.Now().Add(-time.Minute), string(id))
		if err != nil {
			t.Fatal(err)
		}
		if r := s.Do(t, key, `{ viewer { permissions } }`, nil); r.Status != 401 {
			t.Errorf("an expired key: status %d, codes %v; want 401", r.Status, r.Codes())
		}
		if r := s.Do(t, org.Owner.Token, createKeyMutation, map[string]any{"in": map[string]any{"name": "Forever", "permissions": []any{access.MembersView}, "expiresInDays": 0}}); !slices.Contains(r.Codes(), "BAD_USER_INPUT") {
			t.Errorf("expiresInDays 0: got %v, want BAD_USER_INPUT", r.Codes())
		}
	})
}

func TestAPIKeyPermissionsAreTheCreatorsAndNoPersons(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Careful Club", "ACTIVITY")
		ctx := access.SystemContext(context.Background(), "test fixture")
		s.DB.Client.Role.Create().SetOrganizationID(org.ID).SetKey("integrator").SetName("Integrator").
			SetPermissions([]string{access.IntegrationsManage, access.MembersView}).ExecX(ctx)
		integrator := org.AddMember(t, "integrator", "Ian", "Tegrator")
		admin := org.AddMember(t, "administrator", "Ad", "Min")
		cases := []struct {
			name, token string
			perms       []any
			want        string
		}{
			{"a permission the creator lacks", integrator.Token, []any{access.MembersView, access.GroupsView}, "FORBIDDEN"},
			{"without integrations.manage", admin.Token, []any{access.MembersView}, "FORBIDDEN"},
			{"a permission that acts as a person", org.Owner.Token, []any{access.MembersManage}, "BAD_USER_INPUT"},
			{"an unknown permission", org.Owner.Token, []any{"bookings.everything"}, "BAD_USER_INPUT"},
			{"an undefined module permission", org.Owner.Token, []any{"app.bookings.manage"}, "BAD_USER_INPUT"},
			{"no permission", org.Owner.Token, []any{}, "BAD_USER_INPUT"},
		}
		for _, c := range cases {
			r := s.Do(t, c.token, createKeyMutation, map[string]any{"in": map[string]any{"name": "Key", "permissions": c.perms}})
			if len(r.Errors) == 0 || r.Errors[0].Code() != c.want {
				t.Errorf("%s: got %v, want %s", c.name, r.Codes(), c.want)
			}
		}
		if n := s.DB.Client.APIKey.Query().Where(apikey.OrganizationID(org.ID)).CountX(ctx); n != 0 {
			t.Errorf("%d keys made by refused requests", n)
		}
		// What the creator holds is fine.
		createKey(t, s, integrator.Token, map[string]any{"name": "Directory", "permissions": []any{access.MembersView}})
	})
}

func TestAPIKeyIsRefusedWhatOnlyAPersonDoes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Person Club", "ACTIVITY")
		key, _ := createKey(t, s, org.Owner.Token, map[string]any{"name": "Sync", "permissions": []any{access.MembersView}})
		for _, q := range []string{
			`mutation { logOut }`,
			`mutation { leaveOrganization }`,
			`mutation { changePassword(currentPassword: "x", newPassword: "a long enough password") }`,
			`mutation($org: ID!) { switchOrganization(organizationId: $org) { accessToken } }`,
			`mutation { createOrganization(input: {name: "Keyed"}) { id } }`,
			`mutation { updateProfile(input: {firstName: "Key"}) { id } }`,
			`{ viewer { user { id } } }`,
		} {
			r := s.Do(t, key, q, map[string]any{"org": org.ID})
			if len(r.Errors) == 0 || r.Errors[0].Code() != "PERSON_ONLY" {
				t.Errorf("%s with a key: got %v, want PERSON_ONLY", q, r.Codes())
			}
		}
		// The organization is untouched: its owner is still its only member.
		ctx := access.SystemContext(context.Background(), "test fixture")
		if n := s.DB.Client.Membership.Query().Where(membership.OrganizationID(org.ID), membership.StatusEQ(membership.StatusACTIVE)).CountX(ctx); n != 1 {
			t.Errorf("%d active members after the key's attempts, want 1", n)
		}
	})
}

func TestCheckAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Asking Club", "ACTIVITY")
		ctx := access.SystemContext(context.Background(), "test fixture")
		c := s.DB.Client
		attendant := org.Insert(t, "attendant", "At", "Tendant", "attendant@example.com", false)
		instructor := org.Insert(t, "instructor", "In", "Structor", "instructor@example.com", false)
		disabled := org.Insert(t, "attendant", "Dis", "Abled", "disabled@example.com", false)
		c.Membership.UpdateOne(disabled).SetStatus(membership.StatusDISABLED).ExecX(ctx)
		linked := c.Group.Create().SetOrganizationID(org.ID).SetName("Linked").SetKind(group.KindCLASS).SaveX(ctx)
		unlinked := c.Group.Create().SetOrganizationID(org.ID).SetName("Unlinked").SetKind(group.KindCLASS).SaveX(ctx)
		c.Membership.UpdateOne(instructor).AddGroups(linked).ExecX(ctx)
		key, _ := createKey(t, s, org.Owner.Token, map[string]any{"name": "Bookings", "permissions": bookingsKey})

		q := `query($m: ID!, $p: String!, $g: ID) { checkAccess(memberId: $m, permission: $p, groupId: $g) { granted source explanation member { id } group { name } } }`
		cases := []struct {
			name    string
			member  *ent.Membership
			perm    string
			group   *ent.Group
			granted bool
			source  string
		}{
			{"the attendant's role gives bookings", attendant, access.BookingsManage, nil, true, "ROLE"},
			{"the instructor's role does not", instructor, access.BookingsManage, nil, false, "NONE"},
			{"a linked class", instructor, access.AttendanceTrack, linked, true, "ROLE"},
			{"a class the instructor is not linked to", instructor, access.AttendanceTrack, unlinked, false, "OUTSIDE_GROUP_SCOPE"},
			{"the attendant sees every class", attendant, access.AttendanceTrack, unlinked, true, "ROLE"},
			{"a disabled member holds nothing", disabled, access.BookingsManage, nil, false, "INACTIVE"},
		}
		for _, tc := range cases {
			vars := map[string]any{"m": tc.member.ID, "p": tc.perm}
			if tc.group != nil {
				vars["g"] = tc.group.ID
			}
			// A key and an owner get the same answer.
			for who, token := range map[string]string{"key": key, "owner": org.Owner.Token} {
				var out struct {
					CheckAccess struct {
						Granted     bool
						Source      string
						Explanation string
					}
				}
				s.MustDo(t, token, q, vars).Decode(t, &out)
				if a := out.CheckAccess; a.Granted != tc.granted || a.Source != tc.source || a.Explanation == "" {
					t.Errorf("%s, asked by the %s: got %+v, want granted %v from %s", tc.name, who, a, tc.granted, tc.source)
				}
			}
		}
		if r := s.Do(t, key, q, map[string]any{"m": attendant.ID, "p": "bookings.everything"}); !slices.Contains(r.Codes(), "BAD_USER_INPUT") {
			t.Errorf("an unknown permission: got %v", r.Codes())
		}
		// A member who may not list members may not ask.
		guest := org.AddMember(t, "guest", "Gu", "Est")
		if r := s.Do(t, guest.Token, q, map[string]any{"m": attendant.ID, "p": access.BookingsManage}); !slices.Contains(r.Codes(), "FORBIDDEN") {
			t.Errorf("a guest asking: got %v, want FORBIDDEN", r.Codes())
		}
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// rebind turns ? placeholders into PostgreSQL's $n.
func rebind(d storetest.Dialect, query string) string {
	if d.Name != "postgres" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$")
			b.WriteString(string(rune('0' + n)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

const createModuleMutation = `mutation($in: CreateModulePermissionInput!) { createModulePermission(input: $in) { id key } }`

func TestModulePermissionsWorkLikeBuiltInOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Module Club", "ACTIVITY")
		other := s.CreateOrg(t, "Other Module Club", "ACTIVITY")
		owner := org.Owner.Token
		module := map[string]any{"key": "app.bookings.refund", "name": "Refund bookings", "app": "Bookings", "description": "Give money back"}
		s.MustDo(t, owner, createModuleMutation, map[string]any{"in": module})
		for _, bad := range []map[string]any{
			{"key": "bookings.refund", "name": "No namespace", "app": "Bookings"},
			{"key": "app.Bookings.refund", "name": "Upper case", "app": "Bookings"},
			{"key": "app.bookings.refund", "name": "Taken", "app": "Bookings"},
		} {
			if r := s.Do(t, owner, createModuleMutation, map[string]any{"in": bad}); !slices.Contains(r.Codes(), "BAD_USER_INPUT") {
				t.Errorf("module permission %v: got %v, want BAD_USER_INPUT", bad["key"], r.Codes())
			}
		}
		admin := org.AddMember(t, "administrator", "Ad", "Min")
		if r := s.Do(t, admin.Token, createModuleMutation, map[string]any{"in": map[string]any{"key": "app.pos.sell", "name": "Sell", "app": "POS"}}); !slices.Contains(r.Codes(), "FORBIDDEN") {
			t.Errorf("an administrator without integrations.manage defines a module permission: %v", r.Codes())
		}

		// Every member reads the organization's module permissions.
		guest := org.AddMember(t, "guest", "Gu", "Est")
		r := s.MustDo(t, guest.Token, `{ viewer { organization { modulePermissions { key name app description } } } }`, nil)
		if !strings.Contains(string(r.Data), `"key":"app.bookings.refund","name":"Refund bookings","app":"Bookings","description":"Give money back"`) {
			t.Errorf("the guest reads %s", r.Data)
		}

		// A role holds it; the owner holds it as every permission.
		createRole := `mutation($in: CreateRoleInput!) { createRole(input: $in) { id key permissions } }`
		s.MustDo(t, owner, createRole, map[string]any{"in": map[string]any{"key": "cashier", "name": "Cashier",
			"permissions": []any{"app.bookings.refund", access.MembersView}}})
		cashier := org.AddMember(t, "cashier", "Cash", "Ier")
		var perms struct {
			Viewer struct{ Permissions []string }
		}
		s.MustDo(t, cashier.Token, `{ viewer { permissions } }`, nil).Decode(t, &perms)
		if !sameSet(perms.Viewer.Permissions, []string{access.MembersView, "app.bookings.refund"}) {
			t.Errorf("the cashier holds %v", perms.Viewer.Permissions)
		}
		s.MustDo(t, owner, `{ viewer { permissions } }`, nil).Decode(t, &perms)
		if !slices.Contains(perms.Viewer.Permissions, "app.bookings.refund") {
			t.Errorf("the owner's permissions lack the module permission: %v", perms.Viewer.Permissions)
		}

		// Granted like a built-in permission, and only by someone who holds it.
		instructor := org.Insert(t, "instructor", "In", "Structor", "instructor.module@example.com", false)
		update := `mutation($id: ID!, $in: UpdateMemberInput!) { updateMember(id: $id, input: $in) { permissions } }`
		grant := map[string]any{"id": instructor.ID, "in": map[string]any{"grants": []any{"app.bookings.refund"}}}
		if r := s.Do(t, admin.Token, update, grant); !slices.Contains(r.Codes(), "FORBIDDEN") {
			t.Errorf("an administrator who lacks it grants a module permission: %v", r.Codes())
		}
		s.MustDo(t, owner, update, grant)
		if r := s.Do(t, owner, update, map[string]any{"id": instructor.ID, "in": map[string]any{"grants": []any{"app.bookings.undefined"}}}); !slices.Contains(r.Codes(), "BAD_USER_INPUT") {
			t.Errorf("granting an undefined module permission: %v", r.Codes())
		}

		// The access review lists the grant beyond the role.
		r = s.MustDo(t, owner, `{ viewer { organization { accessReview { extraGrants { id } } } } }`, nil)
		if !strings.Contains(string(r.Data), string(instructor.ID)) {
			t.Errorf("the access review misses the module permission granted to the instructor: %s", r.Data)
		}

		// Apps ask about it: checkAccess, explainPermission, a key holding it.
		key, _ := createKey(t, s, owner, map[string]any{"name": "Bookings", "permissions": []any{access.MembersView, "app.bookings.refund"}})
		q := `query($m: ID!) { checkAccess(memberId: $m, permission: "app.bookings.refund") { granted source } explainPermission(memberId: $m, permission: "app.bookings.refund") { granted source } }`
		for id, want := range map[pulid.ID]string{instructor.ID: "GRANT", cashier.MembershipID: "ROLE", admin.MembershipID: "NONE"} {
			r := s.MustDo(t, key, q, map[string]any{"m": id})
			granted := want != "NONE"
			exp := fmt.Sprintf(`{"checkAccess":{"granted":%v,"source":"%s"},"explainPermission":{"granted":%v,"source":"%s"}}`, granted, want, granted, want)
			if string(r.Data) != exp {
				t.Errorf("asking about %s: %s, want %s", id, r.Data, exp)
			}
		}
		s.MustDo(t, key, `{ viewer { permissions } }`, nil).Decode(t, &perms)
		if !slices.Contains(perms.Viewer.Permissions, "app.bookings.refund") {
			t.Errorf("the key's permissions: %v", perms.Viewer.Permissions)
		}

		// Another organization does not know it.
		r = s.Do(t, other.Owner.Token, createRole, map[string]any{"in": map[string]any{"key": "thief", "name": "Thief", "permissions": []any{"app.bookings.refund"}}})
		if !slices.Contains(r.Codes(), "BAD_USER_INPUT") {
			t.Errorf("another organization uses this one's module permission: %v", r.Codes())
		}
	})
}

func TestChangesMadeWithAKeyNameTheKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Audited Club", "ACTIVITY")
		key, id := createKey(t, s, org.Owner.Token, map[string]any{"name": "Timetable sync", "permissions": []any{access.GroupsView, access.GroupsManage}})
		s.MustDo(t, key, `mutation { createGroup(input: {name: "Synced class", kind: CLASS}) { id } }`, nil)
		r := s.MustDo(t, org.Owner.Token, `{ viewer { organization { auditEvents(first: 1) { edges { node { action actor { id } data } } } } } }`, nil)
		var out struct {
			Viewer struct {
				Organization struct {
					AuditEvents struct {
						Edges []struct {
							Node struct {
								Action string
								Actor  *struct{ ID string }
								Data   map[string]any
							}
						}
					}
				}
			}
		}
		r.Decode(t, &out)
		edges := out.Viewer.Organization.AuditEvents.Edges
		if len(edges) != 1 || edges[0].Node.Action != "group.created" || edges[0].Node.Actor != nil || edges[0].Node.Data["apiKey"] != string(id) {
			t.Errorf("the event of a key's change: %s; want group.created naming key %s and no member", r.Data, id)
		}
	})
}
