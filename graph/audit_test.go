package graph_test

import (
	"testing"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// Creating the organization and every change to a group are in the audit log,
// attributed to who did them, and the log reads newest first.
func TestOrganizationAndGroupChangesAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Audit Club", "ACTIVITY")
		owner := org.Owner.Token
		var created struct{ CreateGroup struct{ ID string } }
		s.MustDo(t, owner, `mutation { createGroup(input: {name: "Swimmers", kind: CLASS}) { id } }`, nil).Decode(t, &created)
		vars := map[string]any{"id": created.CreateGroup.ID}
		s.MustDo(t, owner, `mutation($id: ID!) { updateGroup(id: $id, input: {name: "Swimmers A"}) { id } }`, vars)
		s.MustDo(t, owner, `mutation($id: ID!) { deleteGroup(id: $id) }`, vars)

		var out struct {
			Viewer struct {
				Organization struct {
					AuditEvents struct {
						Edges []struct {
							Node struct {
								Action   string
								TargetID string
								Data     map[string]any
								Actor    *struct{ Username string }
							}
						}
					}
				}
			}
		}
		s.MustDo(t, owner, `{ viewer { organization { auditEvents(first: 10) { edges { node { action targetId data actor { username } } } } } } }`, nil).Decode(t, &out)
		var actions []string
		for _, e := range out.Viewer.Organization.AuditEvents.Edges {
			actions = append(actions, e.Node.Action)
			if e.Node.Actor == nil || e.Node.Actor.Username == "" {
				t.Errorf("%s has no actor", e.Node.Action)
			}
		}
		want := []string{"group.deleted", "group.updated", "group.created", "organization.created"}
		if len(actions) != len(want) {
			t.Fatalf("audit log %v, want %v", actions, want)
		}
		for i := range want {
			if actions[i] != want[i] {
				t.Fatalf("audit log %v, want newest first %v", actions, want)
			}
		}
		edges := out.Viewer.Organization.AuditEvents.Edges
		if name, _ := edges[1].Node.Data["name"].(map[string]any); name["before"] != "Swimmers" || name["after"] != "Swimmers A" {
			t.Errorf("group.updated data %v", edges[1].Node.Data)
		}
		if edges[3].Node.TargetID != string(org.ID) || edges[3].Node.Data["preset"] != "ACTIVITY" {
			t.Errorf("organization.created: target %s, data %v", edges[3].Node.TargetID, edges[3].Node.Data)
		}
	})
}
