package graph_test

import (
	"context"
	"testing"

	"staffroom/ent/group"
	"staffroom/ent/message"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// The reported attack: a member with groups.manage and group scope LINKED
// could not see an unlinked group, yet updated and deleted it. Writes reach
// only rows the viewer could read: NOT_FOUND, and nothing changes.
func TestWritesStayInsideTheReadScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Scope Club", "ACTIVITY")
		ctx := access.SystemContext(context.Background(), "test")
		c := s.DB.Client
		c.Role.Create().SetOrganizationID(org.ID).SetKey("coordinator").SetName("Coordinator").
			SetPermissions([]string{access.GroupsManage, access.MembersView, access.MessagesApprove, access.MessagesCompose}).
			SetManages([]string{"instructor"}).ExecX(ctx)
		coordinator := org.AddMember(t, "coordinator", "Cody", "Coordinator")
		instructor := org.AddMember(t, "instructor", "Ivy", "Instructor")
		mine := c.Group.Create().SetOrganizationID(org.ID).SetName("Mine").SaveX(ctx)
		hidden := c.Group.Create().SetOrganizationID(org.ID).SetName("Hidden").SaveX(ctx)
		c.Membership.UpdateOneID(coordinator.MembershipID).AddGroups(mine).ExecX(ctx)
		pending := c.Message.Create().SetOrganizationID(org.ID).SetAuthorID(instructor.MembershipID).SetBody("Trip").
			SetStatus(message.StatusPENDING_APPROVAL).AddGroups(hidden).SaveX(ctx)

		writes := []struct{ name, query string }{
			{"updateGroup", `mutation($g: ID!) { updateGroup(id: $g, input: {name: "Taken"}) { name } }`},
			{"deleteGroup", `mutation($g: ID!) { deleteGroup(id: $g) }`},
			{"linkMemberGroups", `mutation($g: ID!, $m: ID!) { linkMemberGroups(id: $m, groupIds: [$g]) { id } }`},
			{"approveMessage", `mutation($msg: ID!) { approveMessage(id: $msg) { status } }`},
		}
		vars := map[string]any{"g": hidden.ID, "m": instructor.MembershipID, "msg": pending.ID}
		for _, w := range writes {
			r := s.Do(t, coordinator.Token, w.query, used(w.query, vars))
			if len(r.Errors) == 0 || r.Errors[0].Code() != "NOT_FOUND" {
				t.Errorf("%s on a row outside the scope: want NOT_FOUND, got %v %s", w.name, r.Codes(), r.Data)
			}
		}
		if g := c.Group.Query().Where(group.ID(hidden.ID)).OnlyX(ctx); g.Name != "Hidden" {
			t.Errorf("the hidden group was renamed to %q", g.Name)
		}
		if n := c.Membership.QueryGroups(c.Membership.GetX(ctx, instructor.MembershipID)).CountX(ctx); n != 0 {
			t.Errorf("the instructor was linked to %d groups", n)
		}
		if m := c.Message.GetX(ctx, pending.ID); m.Status != message.StatusPENDING_APPROVAL {
			t.Errorf("the hidden message was approved: %s", m.Status)
		}
		// The same writes inside the scope work.
		s.MustDo(t, coordinator.Token, `mutation($g: ID!) { updateGroup(id: $g, input: {name: "Mine, renamed"}) { name } }`, map[string]any{"g": mine.ID})
		s.MustDo(t, coordinator.Token, `mutation($g: ID!, $m: ID!) { linkMemberGroups(id: $m, groupIds: [$g]) { id } }`, map[string]any{"g": mine.ID, "m": instructor.MembershipID})
	})
}
