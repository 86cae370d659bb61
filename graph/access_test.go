package graph_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"staffroom/ent/group"
	"staffroom/ent/membership"
	"staffroom/ent/message"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// Ids of another organization behave exactly like ids that do not exist, and
// nothing of it appears in any response.
func TestCrossTenantIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		intruder := s.CreateOrg(t, "Intruders", "ACTIVITY")
		ctx := access.SystemContext(context.Background(), "test")
		theirs := map[string]pulid.ID{
			"organization": f.org.ID,
			"membership":   f.vars["guest"].(pulid.ID),
			"group":        f.vars["class0"].(pulid.ID),
			"message":      f.vars["message"].(pulid.ID),
			"invoice":      f.vars["invoice"].(pulid.ID),
			"role":         f.vars["instructorRole"].(pulid.ID),
			"user":         f.org.Owner.ID,
		}
		for kind, id := range theirs {
			r := s.Do(t, intruder.Owner.Token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
			if len(r.Errors) != 0 || string(r.Data) != `{"node":null}` {
				t.Errorf("node(%s of another organization) = %s %v", kind, r.Data, r.Codes())
			}
		}
		mutations := []string{
			`mutation($id: ID!) { updateMember(id: $id, input: {title: "x"}) { id } }`,
			`mutation($id: ID!) { linkMemberGroups(id: $id, groupIds: []) { id } }`,
			`mutation($id: ID!) { updateGroup(id: $id, input: {name: "Taken over"}) { id } }`,
			`mutation($id: ID!) { deleteGroup(id: $id) }`,
			`mutation($id: ID!) { updateRole(id: $id, input: {name: "Taken over"}) { id } }`,
			`mutation($id: ID!) { deleteRole(id: $id) }`,
			`mutation($id: ID!) { approveMessage(id: $id) { id } }`,
			`mutation($id: ID!) { cancelInvoice(id: $id) { id } }`,
			`mutation($id: ID!) { refundInvoice(id: $id) { id } }`,
			`mutation($id: ID!) { sendMessage(input: {body: "x", groupIds: [$id]}) { id } }`,
			`mutation($id: ID!) { sendMessage(input: {body: "x", memberIds: [$id]}) { id } }`,
			`mutation($id: ID!) { sendMessage(input: {body: "x", ccMemberIds: [$id]}) { id } }`,
		}
		targets := map[string]pulid.ID{
			"updateMember": theirs["membership"], "linkMemberGroups": theirs["membership"],
			"updateGroup": theirs["group"], "deleteGroup": theirs["group"],
			"updateRole": theirs["role"], "deleteRole": theirs["role"],
			"approveMessage": f.vars["pending"].(pulid.ID), "cancelInvoice": theirs["invoice"], "refundInvoice": theirs["invoice"],
			"groupIds": theirs["group"], "memberIds": theirs["membership"], "ccMemberIds": theirs["membership"],
		}
		for _, m := range mutations {
			var id pulid.ID
			for k, v := range targets {
				if strings.Contains(m, k+"(") || strings.Contains(m, k+": [") {
					id = v
				}
			}
			r := s.Do(t, intruder.Owner.Token, m, map[string]any{"id": id})
			if !slices.Equal(r.Codes(), []string{"NOT_FOUND"}) {
				t.Errorf("%s: %v %s", m, r.Codes(), r.Data)
			}
		}
		// Nothing changed.
		c := s.DB.Client
		if n := c.Group.Query().Where(group.ID(theirs["group"]), group.Name("Class 0")).CountX(ctx); n != 1 {
			t.Error("the group was changed")
		}
		if c.Message.GetX(ctx, f.vars["pending"].(pulid.ID)).Status != message.StatusPENDING_APPROVAL {
			t.Error("the message was approved")
		}
		if c.Role.GetX(ctx, theirs["role"]).Name != "Instructor" {
			t.Error("the role was renamed")
		}
		// No id of the victim organization appears anywhere in the intruder's view.
		for _, q := range []string{viewerQuery, membersQuery, `{ viewer { organization { groups { edges { node { id members { id } } } } messages { edges { node { id recipients { id } groups { id } } } } roles { id manages { id } } auditEvents { edges { node { id targetId } } } } } }`} {
			r := s.Do(t, intruder.Owner.Token, q, map[string]any{"org": f.org.ID})
			for kind, id := range theirs {
				if strings.Contains(string(r.Data), string(id)) {
					t.Errorf("%s id of the other organization appears in %s", kind, r.Data)
				}
			}
		}
	})
}

type groupNames struct {
	Viewer struct {
		Organization struct {
			Groups struct {
				Edges []struct{ Node struct{ Name string } }
			}
			Messages struct {
				Edges []struct {
					Node struct {
						Body   string
						Groups []struct{ Name string }
					}
				}
			}
			Members struct {
				Edges []struct {
					Node struct {
						Groups []struct{ Name string }
					}
				}
			}
		}
	}
}

// An instructor linked to two of five classes sees exactly those two, whichever
// way they look, and only the messages that concern them.
func TestInstructorSeesOnlyTheirClasses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		tok := f.tokens["instructor"]
		r := f.s.MustDo(t, tok, `{ viewer { organization {
			groups { edges { node { name } } }
			messages { edges { node { body groups { name } } } }
			members { edges { node { groups { name } } } }
		} } }`, nil)
		var out groupNames
		r.Decode(t, &out)
		var names []string
		for _, e := range out.Viewer.Organization.Groups.Edges {
			names = append(names, e.Node.Name)
		}
		want := []string{"Class 0", "Class 1"}
		if !slices.Equal(names, want) {
			t.Errorf("groups connection = %v, want %v", names, want)
		}
		for _, e := range out.Viewer.Organization.Messages.Edges {
			for _, g := range e.Node.Groups {
				if !slices.Contains(want, g.Name) {
					t.Errorf("message %q shows group %s", e.Node.Body, g.Name)
				}
			}
		}
		if n := len(out.Viewer.Organization.Messages.Edges); n != 2 {
			t.Errorf("instructor sees %d messages, want 2 (sent to Class 0 and their own)", n)
		}
		if len(out.Viewer.Organization.Members.Edges) != 1 || len(out.Viewer.Organization.Members.Edges[0].Node.Groups) != 2 {
			t.Errorf("members = %+v", out.Viewer.Organization.Members.Edges)
		}
		for i, class := range []string{"class0", "class3"} {
			r := f.s.MustDo(t, tok, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": f.vars[class]})
			if visible := string(r.Data) != `{"node":null}`; visible != (i == 0) {
				t.Errorf("node(%s) = %s", class, r.Data)
			}
		}
	})
}

func TestNoEscalation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		admin := f.tokens["administrator"]
		attendant := memberID(t, f, "attendant")
		cases := []struct {
			name, token, query string
			vars               map[string]any
			want               string
		}{
			{"admin promotes to administrator", admin, `mutation($id: ID!, $r: ID!) { updateMember(id: $id, input: {roleId: $r}) { id } }`,
				map[string]any{"id": f.vars["instructor"], "r": f.vars["administratorRole"]}, "FORBIDDEN"},
			{"admin promotes to owner", admin, `mutation($id: ID!, $r: ID!) { updateMember(id: $id, input: {roleId: $r}) { id } }`,
				map[string]any{"id": f.vars["instructor"], "r": ownerRole(t, f)}, "FORBIDDEN"},
			{"admin touches an attendant", admin, `mutation($id: ID!) { updateMember(id: $id, input: {title: "x"}) { id } }`,
				map[string]any{"id": attendant}, "FORBIDDEN"},
			{"admin grants billing.view", admin, `mutation($id: ID!) { updateMember(id: $id, input: {grants: ["billing.view"]}) { id } }`,
				map[string]any{"id": f.vars["instructor"]}, "FORBIDDEN"},
			{"admin grants an unknown permission", admin, `mutation($id: ID!) { updateMember(id: $id, input: {grants: ["everything"]}) { id } }`,
				map[string]any{"id": f.vars["instructor"]}, "BAD_USER_INPUT"},
			{"admin changes their own title", admin, `mutation($id: ID!) { updateMember(id: $id, input: {title: "Boss"}) { id } }`,
				map[string]any{"id": memberID(t, f, "administrator")}, "FORBIDDEN"},
			{"admin moves a guest within their roles", admin, `mutation($id: ID!, $r: ID!) { updateMember(id: $id, input: {roleId: $r}) { role { key } } }`,
				map[string]any{"id": f.vars["guest"], "r": f.vars["instructorRole"]}, ""},
			{"owner grants refunds to the attendant", f.tokens["owner"], `mutation($id: ID!) { updateMember(id: $id, input: {grants: ["invoices.refund"]}) { permissions } }`,
				map[string]any{"id": attendant}, ""},
		}
		for _, c := range cases {
			r := f.s.Do(t, c.token, c.query, c.vars)
			got := ""
			if len(r.Errors) > 0 {
				got = r.Errors[0].Code()
			}
			if got != c.want {
				t.Errorf("%s: got %q (%v), want %q", c.name, got, r.Errors, c.want)
			}
		}
		// Owners change their own role no more than anyone.
		r := f.s.Do(t, f.tokens["owner"], `{ viewer { membership { id } } }`, nil)
		var me struct {
			Viewer struct{ Membership struct{ ID pulid.ID } }
		}
		r.Decode(t, &me)
		r = f.s.Do(t, f.tokens["owner"], `mutation($id: ID!, $r: ID!) { updateMember(id: $id, input: {roleId: $r}) { id } }`,
			map[string]any{"id": me.Viewer.Membership.ID, "r": f.vars["guestRole"]})
		if c := r.Codes(); len(c) != 1 || (c[0] != "FORBIDDEN" && c[0] != "LAST_OWNER") {
			t.Errorf("owner changed their own role: %v", c)
		}

		// A custom role cannot exceed its creator: the administrator, granted
		// roles.manage, cannot create a role with billing.view.
		f.s.MustDo(t, f.tokens["owner"], `mutation($id: ID!) { updateMember(id: $id, input: {grants: ["roles.manage"]}) { id } }`,
			map[string]any{"id": memberID(t, f, "administrator")})
		r = f.s.Do(t, admin, `mutation { createRole(input: {key: "cashier", name: "Cashier", permissions: ["billing.view"]}) { id } }`, nil)
		if !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) {
			t.Errorf("custom role beyond its creator: %v", r.Codes())
		}
		r = f.s.Do(t, admin, `mutation($r: ID!) { createRole(input: {key: "lead", name: "Lead", permissions: ["groups.view"], manageRoleIds: [$r]}) { id } }`,
			map[string]any{"r": f.vars["administratorRole"]})
		if !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) {
			t.Errorf("custom role managing a role its creator does not: %v", r.Codes())
		}
		r = f.s.Do(t, admin, `mutation { createRole(input: {key: "helper", name: "Helper", permissions: ["groups.view", "messages.send"]}) { key manages { key } } }`, nil)
		if len(r.Errors) != 0 {
			t.Errorf("custom role within its creator: %v", r.Errors)
		}
	})
}

func memberID(t *testing.T, f *matrixFixture, roleKey string) pulid.ID {
	t.Helper()
	ctx := access.SystemContext(context.Background(), "test")
	return f.s.DB.Client.Membership.Query().
		Where(membership.OrganizationID(f.org.ID), membership.HasRoleWith(role.Key(roleKey))).
		FirstIDX(ctx)
}

func ownerRole(t *testing.T, f *matrixFixture) pulid.ID {
	t.Helper()
	ctx := access.SystemContext(context.Background(), "test")
	return f.s.DB.Client.Role.Query().Where(role.OrganizationID(f.org.ID), role.Key("owner")).OnlyIDX(ctx)
}

// Two owners demote each other at the same moment: exactly one succeeds, and an
// owner always remains. The other gets LAST_OWNER, or FORBIDDEN when its request
// began after its own demotion (an administrator may not manage an owner).
func TestLastOwnerRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Twin Owners", "ACTIVITY")
		second := org.AddMember(t, "owner", "Sam", "Second")
		ctx := access.SystemContext(context.Background(), "test")
		c := s.DB.Client
		first := c.Membership.Query().Where(membership.OrganizationID(org.ID), membership.UserID(org.Owner.ID)).OnlyIDX(ctx)
		ownerID := c.Role.Query().Where(role.OrganizationID(org.ID), role.Key("owner")).OnlyIDX(ctx)
		adminID := c.Role.Query().Where(role.OrganizationID(org.ID), role.Key("administrator")).OnlyIDX(ctx)
		demote := `mutation($id: ID!, $r: ID!) { updateMember(id: $id, input: {roleId: $r}) { id } }`
		for i := range 100 {
			c.Membership.Update().Where(membership.IDIn(first, second.MembershipID)).SetRoleID(ownerID).ExecX(ctx)
			var wg sync.WaitGroup
			codes := make([][]string, 2)
			for j, pair := range [][2]any{{org.Owner.Token, second.MembershipID}, {second.Token, first}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[j] = s.Do(t, pair[0].(string), demote, map[string]any{"id": pair[1], "r": adminID}).Codes()
				}()
			}
			wg.Wait()
			outcome := fmt.Sprint(codes)
			if !slices.Contains([]string{"[[] [LAST_OWNER]]", "[[LAST_OWNER] []]", "[[] [FORBIDDEN]]", "[[FORBIDDEN] []]"}, outcome) {
				t.Fatalf("round %d: outcomes %s", i, outcome)
			}
			owners := c.Membership.Query().Where(membership.OrganizationID(org.ID), membership.RoleID(ownerID)).CountX(ctx)
			if owners != 1 {
				t.Fatalf("round %d: %d owners remain", i, owners)
			}
		}
	})
}
