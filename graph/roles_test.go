package graph_test

import (
	"context"
	"slices"
	"testing"

	"staffroom/ent/role"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// The reported attack: a custom role with roles.manage that manages only
// instructors rewrote the built-in administrator role. roles.manage edits only
// custom roles within the editor's manages set, never adds a permission the
// editor lacks, and built-in roles change only by an owner.
func TestRolesManageStaysWithinItsReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Role Club", "ACTIVITY")
		ctx := access.SystemContext(context.Background(), "test")
		c := s.DB.Client
		c.Role.Create().SetOrganizationID(org.ID).SetKey("helper").SetName("Helper").
			SetPermissions([]string{access.AttendanceTrack}).ExecX(ctx)
		c.Role.Create().SetOrganizationID(org.ID).SetKey("keeper").SetName("Role keeper").
			SetPermissions([]string{access.RolesManage, access.AttendanceTrack, access.MessagesCompose}).
			SetManages([]string{"instructor", "helper"}).ExecX(ctx)
		c.Role.Create().SetOrganizationID(org.ID).SetKey("outsider").SetName("Outsider").ExecX(ctx)
		keeper := org.AddMember(t, "keeper", "Kim", "Keeper")
		id := func(key string) string {
			return string(c.Role.Query().Where(role.OrganizationID(org.ID), role.Key(key)).OnlyIDX(ctx))
		}
		update := `mutation($id: ID!, $p: [String!]) { updateRole(id: $id, input: {permissions: $p}) { permissions } }`
		cases := []struct {
			name  string
			query string
			vars  map[string]any
			want  string // "" for success
		}{
			{"rewrite the built-in administrator", update, map[string]any{"id": id("administrator"), "p": []string{"attendance.track"}}, "FORBIDDEN"},
			{"rewrite a built-in role it manages", update, map[string]any{"id": id("instructor"), "p": []string{"attendance.track"}}, "FORBIDDEN"},
			{"edit a custom role it does not manage", update, map[string]any{"id": id("outsider"), "p": []string{"attendance.track"}}, "FORBIDDEN"},
			{"add a permission it lacks", update, map[string]any{"id": id("helper"), "p": []string{"attendance.track", "billing.view"}}, "FORBIDDEN"},
			{"delete a built-in role", `mutation($id: ID!) { deleteRole(id: $id) }`, map[string]any{"id": id("instructor")}, "FORBIDDEN"},
			{"create a role that manages administrators", `mutation($id: ID!) { createRole(input: {key: "climber", name: "Climber", permissions: [], manageRoleIds: [$id]}) { id } }`,
				map[string]any{"id": id("administrator")}, "FORBIDDEN"},
			{"create a role with a permission it lacks", `mutation { createRole(input: {key: "greedy", name: "Greedy", permissions: ["members.manage"]}) { id } }`, nil, "FORBIDDEN"},
			{"edit a managed custom role within its own permissions", update, map[string]any{"id": id("helper"), "p": []string{"attendance.track", "messages.compose"}}, ""},
		}
		for _, tc := range cases {
			r := s.Do(t, keeper.Token, tc.query, tc.vars)
			switch {
			case tc.want == "" && len(r.Errors) > 0:
				t.Errorf("%s: %v", tc.name, r.Errors)
			case tc.want != "" && (len(r.Errors) == 0 || r.Errors[0].Code() != tc.want):
				t.Errorf("%s: want %s, got %v %s", tc.name, tc.want, r.Codes(), r.Data)
			}
		}
		admin := c.Role.Query().Where(role.OrganizationID(org.ID), role.Key("administrator")).OnlyX(ctx)
		if len(admin.Permissions) < 10 || !slices.Contains(admin.Permissions, access.MembersManage) {
			t.Errorf("the administrator role changed: %v", admin.Permissions)
		}
		// The owner may change a built-in role.
		s.MustDo(t, org.Owner.Token, `mutation($id: ID!) { updateRole(id: $id, input: {description: "Edited by the owner"}) { id } }`,
			map[string]any{"id": id("instructor")})
	})
}
