package graph_test

import (
	"fmt"
	"testing"

	"staffroom/ent/schema/pulid"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// The benchmark's read scenarios (internal/bench/scenarios.go) each cost a fixed
// number of SQL statements, however long the lists they return: every list is
// loaded for the whole page at once, never row by row.

// request is one GraphQL request and what its response must hold for a data set
// of size n, so that a flat count cannot come from an empty list.
type request struct {
	token, query string
	vars         map[string]any
	check        func(t *testing.T, r *apptest.Response)
}

// statementsDoNotGrow seeds a fresh server for each size, counts the statements
// of the one request seed returns, and fails unless every size costs the same.
func statementsDoNotGrow(t *testing.T, what string, seed func(t *testing.T, s *apptest.Server, n int) request) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		sizes := []int{2, 30}
		counts := make([]int64, len(sizes))
		for i, n := range sizes {
			s := apptest.New(t, d)
			req := seed(t, s, n)
			before := s.DB.Stats.Statements()
			r := s.MustDo(t, req.token, req.query, req.vars)
			counts[i] = s.DB.Stats.Statements() - before
			req.check(t, r)
		}
		t.Logf("%s: statements for %d %s: %d, for %d: %d", d.Name, sizes[0], what, counts[0], sizes[1], counts[1])
		if counts[0] != counts[1] {
			t.Errorf("statements grow with %s: %d for %d, %d for %d", what, counts[0], sizes[0], counts[1], sizes[1])
		}
	})
}

// createGroups makes n classes through the API, as an owner would.
func createGroups(t *testing.T, s *apptest.Server, token, prefix string, n int) []pulid.ID {
	t.Helper()
	ids := make([]pulid.ID, n)
	for i := range ids {
		r := s.MustDo(t, token, `mutation($in: CreateGroupInput!) { createGroup(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"name": fmt.Sprintf("%s %d", prefix, i), "kind": "CLASS"}})
		var out struct{ CreateGroup struct{ ID pulid.ID } }
		r.Decode(t, &out)
		ids[i] = out.CreateGroup.ID
	}
	return ids
}

func linkGroups(t *testing.T, s *apptest.Server, token string, member pulid.ID, groups []pulid.ID) {
	t.Helper()
	s.MustDo(t, token, `mutation($id: ID!, $g: [ID!]!) { linkMemberGroups(id: $id, groupIds: $g) { id } }`,
		map[string]any{"id": member, "g": groups})
}

func send(t *testing.T, s *apptest.Server, token, subject string, group pulid.ID) {
	t.Helper()
	s.MustDo(t, token, `mutation($s: String!, $g: ID!) { sendMessage(input: {subject: $s, body: "Hello", groupIds: [$g]}) { id } }`,
		map[string]any{"s": subject, "g": group})
}

// The organization switcher: one membership per organization the viewer is in.
func TestViewerStatementsDoNotGrow(t *testing.T) {
	statementsDoNotGrow(t, "organizations", func(t *testing.T, s *apptest.Server, n int) request {
		email := "switcher@example.com"
		u := s.SignUp(t, email, "Sam", "Switcher")
		var first pulid.ID
		for i := range n {
			r := s.MustDo(t, u.Token, `mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"name": fmt.Sprintf("Club %d", i), "preset": "ACTIVITY"}})
			var out struct{ CreateOrganization struct{ ID pulid.ID } }
			r.Decode(t, &out)
			if i == 0 {
				first = out.CreateOrganization.ID
			}
		}
		return request{
			token: s.LogIn(t, email, first).Token,
			query: `{ viewer { user { id name } organization { id name } permissions memberships { organization { name } role { key } } } }`,
			check: func(t *testing.T, r *apptest.Response) {
				var out struct {
					Viewer struct {
						Organization struct{ ID pulid.ID }
						Permissions  []string
						Memberships  []struct {
							Organization struct{ Name string }
							Role         struct{ Key string }
						}
					}
				}
				r.Decode(t, &out)
				v := out.Viewer
				if v.Organization.ID != first || len(v.Permissions) == 0 {
					t.Errorf("%d organizations: viewer = %+v", n, v)
				}
				if len(v.Memberships) != n {
					t.Errorf("%d organizations: %d memberships", n, len(v.Memberships))
				}
				for _, m := range v.Memberships {
					if m.Organization.Name == "" || m.Role.Key != "owner" {
						t.Errorf("%d organizations: membership %+v", n, m)
					}
				}
			},
		}
	})
}

// An instructor's groups and messages go through row scopes; the scope must not
// turn into a query per group or per message.
func TestInstructorStatementsDoNotGrow(t *testing.T) {
	statementsDoNotGrow(t, "linked groups and messages", func(t *testing.T, s *apptest.Server, n int) request {
		org := s.CreateOrg(t, fmt.Sprintf("School %d", n), "ACTIVITY")
		inst := org.AddMember(t, "instructor", "Ina", "Structor")
		owner := org.Owner.Token
		linked := createGroups(t, s, owner, "Class", n)
		unlinked := createGroups(t, s, owner, "Other", 1)[0]
		linkGroups(t, s, owner, inst.MembershipID, linked)
		for i, g := range linked {
			send(t, s, owner, fmt.Sprintf("Note %d", i), g)
		}
		// Out of the instructor's scope: must not be seen.
		send(t, s, owner, "Elsewhere", unlinked)
		return request{
			token: inst.Token,
			query: `{ viewer { organization { groups(first: 50) { edges { node { id name } } } messages(first: 50) { edges { node { id subject groups { name } } } } } } }`,
			check: func(t *testing.T, r *apptest.Response) {
				var out struct {
					Viewer struct {
						Organization struct {
							Groups struct {
								Edges []struct{ Node struct{ ID pulid.ID } }
							}
							Messages struct {
								Edges []struct {
									Node struct {
										Subject string
										Groups  []struct{ Name string }
									}
								}
							}
						}
					}
				}
				r.Decode(t, &out)
				o := out.Viewer.Organization
				if len(o.Groups.Edges) != n {
					t.Errorf("%d linked groups: instructor sees %d groups", n, len(o.Groups.Edges))
				}
				for _, e := range o.Groups.Edges {
					if e.Node.ID == unlinked {
						t.Errorf("%d linked groups: instructor sees an unlinked group", n)
					}
				}
				if len(o.Messages.Edges) != n {
					t.Errorf("%d linked groups: instructor sees %d messages", n, len(o.Messages.Edges))
				}
				for _, e := range o.Messages.Edges {
					if e.Node.Subject == "Elsewhere" || len(e.Node.Groups) != 1 {
						t.Errorf("%d linked groups: message %+v", n, e.Node)
					}
				}
			},
		}
	})
}

// node(id:) on a member loads their groups in one statement, however many.
func TestMemberNodeStatementsDoNotGrow(t *testing.T) {
	statementsDoNotGrow(t, "linked groups", func(t *testing.T, s *apptest.Server, n int) request {
		org := s.CreateOrg(t, fmt.Sprintf("Gym %d", n), "ACTIVITY")
		m := org.Insert(t, "instructor", "Nod", "Member", fmt.Sprintf("node.%s@example.com", org.ID), false)
		linkGroups(t, s, org.Owner.Token, m.ID, createGroups(t, s, org.Owner.Token, "Class", n))
		return request{
			token: org.Owner.Token,
			query: `query($id: ID!) { node(id: $id) { ... on Membership { id username role { key } groups { name } } } }`,
			vars:  map[string]any{"id": m.ID},
			check: func(t *testing.T, r *apptest.Response) {
				var out struct {
					Node struct {
						ID       pulid.ID
						Username string
						Role     struct{ Key string }
						Groups   []struct{ Name string }
					}
				}
				r.Decode(t, &out)
				if out.Node.ID != m.ID || out.Node.Username == "" || out.Node.Role.Key != "instructor" {
					t.Errorf("%d groups: node = %+v", n, out.Node)
				}
				if len(out.Node.Groups) != n {
					t.Errorf("%d groups: member has %d groups", n, len(out.Node.Groups))
				}
			},
		}
	})
}
