package graph_test

import (
	"fmt"
	"slices"
	"testing"

	"staffroom/ent/schema/pulid"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// An operation runs in one goroutine, lists element after element, and each
// object is written by objectWriter (graph/execution.go); what the client reads
// must be what gqlgen's own execution gave.

// A denied field inside a list is an error that names its element.
func TestListErrorsNameTheirElement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Index Club", "ACTIVITY")
		for i := range 3 {
			org.Insert(t, "guest", "Guest", fmt.Sprintf("Number%d", i), fmt.Sprintf("guest%d.%s@example.com", i, org.ID), false)
		}
		agent := org.AddMember(t, "communication_agent", "Cora", "Agent") // members.view, not members.manage
		r := s.Do(t, agent.Token, `{ viewer { organization { members(first: 10) { edges { node { id locked } } } } } }`, nil)
		var out struct {
			Viewer struct {
				Organization struct {
					Members struct {
						Edges []struct {
							Node struct {
								ID     pulid.ID
								Locked *bool
							}
						}
					}
				}
			}
		}
		r.Decode(t, &out)
		edges := out.Viewer.Organization.Members.Edges
		if len(edges) != 5 || len(r.Errors) != len(edges) {
			t.Fatalf("%d members, errors %+v", len(edges), r.Errors)
		}
		var indexes []int
		for _, e := range r.Errors {
			want := []any{"viewer", "organization", "members", "edges", nil, "node", "locked"}
			if len(e.Path) != len(want) || e.Code() != "FORBIDDEN" {
				t.Fatalf("error %+v", e)
			}
			for i, p := range want {
				if p != nil && e.Path[i] != p {
					t.Fatalf("error path %v", e.Path)
				}
			}
			indexes = append(indexes, int(e.Path[4].(float64)))
		}
		slices.Sort(indexes)
		if !slices.Equal(indexes, []int{0, 1, 2, 3, 4}) {
			t.Errorf("errors name elements %v", indexes)
		}
		for _, e := range edges {
			if e.Node.ID == "" || e.Node.Locked != nil {
				t.Errorf("node %+v", e.Node)
			}
		}
	})
}

// The organization switcher loads only the columns its selection reads: every
// field it shows is the one the organization and the membership have.
func TestSwitcherShowsWhatTheOrganizationHas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		first := s.CreateOrg(t, "Switch One", "ACTIVITY")
		r := s.MustDo(t, first.Owner.Token, `mutation { createOrganization(input: {name: "Switch Two", preset: SCHOOL}) { id } }`, nil)
		var created struct{ CreateOrganization struct{ ID pulid.ID } }
		r.Decode(t, &created)
		type org struct {
			ID       pulid.ID
			Name     string
			Slug     string
			Timezone string
		}
		type role struct {
			ID          pulid.ID
			Key         string
			Name        string
			Permissions []string
		}
		var out struct {
			Viewer struct {
				Organization org
				Membership   struct {
					ID     pulid.ID
					Status string
					Role   role
				}
				Memberships []struct {
					ID           pulid.ID
					Status       string
					Organization org
					Role         role
				}
			}
		}
		s.MustDo(t, first.Owner.Token, `{ viewer {
			organization { id name slug timezone }
			membership { id status role { id key name permissions } }
			memberships { id status organization { id name slug timezone } role { id key name permissions } }
		} }`, nil).Decode(t, &out)
		v := out.Viewer
		if len(v.Memberships) != 2 {
			t.Fatalf("memberships %+v", v.Memberships)
		}
		found := false
		for _, m := range v.Memberships {
			if m.Organization.Name == "" || m.Organization.Slug == "" || m.Organization.Timezone == "" || m.Role.Key != "owner" || len(m.Role.Permissions) == 0 {
				t.Errorf("switcher entry %+v", m)
			}
			if m.Organization.ID == v.Organization.ID {
				found = true
				if m.Organization != v.Organization || m.ID != v.Membership.ID || m.Status != v.Membership.Status ||
					m.Role.ID != v.Membership.Role.ID || m.Role.Name != v.Membership.Role.Name || !slices.Equal(m.Role.Permissions, v.Membership.Role.Permissions) {
					t.Errorf("switcher %+v, viewer %+v %+v", m, v.Organization, v.Membership)
				}
			}
		}
		if !found {
			t.Errorf("the active organization is not in the switcher: %+v", v.Memberships)
		}

		// What a switcher usually shows is read with one statement: the same
		// entries, in the same order.
		var joined struct {
			Viewer struct {
				Memberships []struct {
					Organization struct {
						ID         pulid.ID
						Name, Slug string
					}
					Role struct {
						ID        pulid.ID
						Key, Name string
					}
				}
			}
		}
		s.MustDo(t, first.Owner.Token, `{ viewer { memberships { organization { id name slug } role { id key name } } } }`, nil).Decode(t, &joined)
		if len(joined.Viewer.Memberships) != len(v.Memberships) {
			t.Fatalf("joined %+v, loaded %+v", joined.Viewer.Memberships, v.Memberships)
		}
		for i, j := range joined.Viewer.Memberships {
			m := v.Memberships[i]
			if j.Organization.ID != m.Organization.ID || j.Organization.Name != m.Organization.Name || j.Organization.Slug != m.Organization.Slug ||
				j.Role.ID != m.Role.ID || j.Role.Key != m.Role.Key || j.Role.Name != m.Role.Name {
				t.Errorf("entry %d: joined %+v, loaded %+v", i, j, m)
			}
		}

		// Fields read by resolvers, and one edge under two aliases, load
		// everything. Roles of other organizations are not the viewer's to list:
		// manages is empty there.
		var again struct {
			Viewer struct {
				Memberships []struct {
					A struct {
						ID   pulid.ID
						Name string
					}
					B    struct{ Slug string }
					Role struct {
						Key     string
						Manages []struct{ Key string }
					}
				}
			}
		}
		s.MustDo(t, first.Owner.Token, `{ viewer { memberships {
			a: organization { id name } b: organization { slug } role { key manages { key } }
		} } }`, nil).Decode(t, &again)
		for _, m := range again.Viewer.Memberships {
			if m.A.Name == "" || m.B.Slug == "" || m.Role.Key != "owner" || (m.A.ID == first.ID) != (len(m.Role.Manages) > 0) {
				t.Errorf("switcher entry %+v", m)
			}
		}
	})
}

// A user's name reads two columns that entgql loads when it is asked for
// through fragments, inline fragments and aliases, on every path that loads
// users; an organization's lists read its id only, and its other fields are
// loaded beside them.
func TestNamesOnEveryPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Name Club", "ACTIVITY")
		m := org.Insert(t, "instructor", "Ada", "Lovelace", fmt.Sprintf("ada.%s@example.com", org.ID), false)
		type user struct {
			N         string
			Name      string
			FirstName string
			LastName  string
		}
		var out struct {
			Viewer struct {
				User         user
				Organization struct {
					Name, Slug string
					Members    struct {
						Edges []struct {
							Node struct {
								ID   pulid.ID
								User user
							}
						}
					}
				}
			}
			Node struct{ User user }
		}
		s.MustDo(t, org.Owner.Token, `query($id: ID!) {
			viewer {
				user { ...U }
				organization { members(first: 10) { edges { node { id user { n: name ... on User { firstName } ...U } } } } name slug }
			}
			node(id: $id) { ... on Membership { user { n: name ...U } } }
		}
		fragment U on User { name lastName }`, map[string]any{"id": m.ID}).Decode(t, &out)
		if u := out.Viewer.User; u.Name != "Olivia Owner" || u.LastName != "Owner" {
			t.Errorf("viewer.user %+v", u)
		}
		if o := out.Viewer.Organization; o.Name != "Name Club" || o.Slug != "name-club" {
			t.Errorf("organization %s %s", o.Name, o.Slug)
		}
		if u := out.Node.User; u.N != "Ada Lovelace" || u.Name != "Ada Lovelace" || u.LastName != "Lovelace" {
			t.Errorf("node user %+v", u)
		}
		edges := out.Viewer.Organization.Members.Edges
		if len(edges) != 2 {
			t.Fatalf("members %+v", edges)
		}
		for _, e := range edges {
			u := e.Node.User
			if u.N == "" || u.N != u.Name || u.N != u.FirstName+" "+u.LastName {
				t.Errorf("member %s: user %+v", e.Node.ID, u)
			}
		}
	})
}

// Memberships that reach GraphQL without field collection — the viewer's own,
// a mutation's payload, explainPermission's, the access review's lists — answer
// their edges as well as the members page does.
func TestEdgesOfMembershipsLoadedWithoutCollection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Edge Club", "ACTIVITY")
		owner := org.Owner.Token
		m := org.AddMember(t, "instructor", "Ivy", "Instructor")
		g := createGroups(t, s, owner, "Edge class", 1)
		linkGroups(t, s, owner, m.MembershipID, g)
		type member struct {
			Username string
			User     struct{ Name string }
			Role     struct{ Key string }
			Groups   []struct{ Name string }
		}
		check := func(where string, got member, name, key string, groups int) {
			t.Helper()
			if got.Username == "" || got.User.Name != name || got.Role.Key != key || len(got.Groups) != groups {
				t.Errorf("%s: %+v", where, got)
			}
		}
		const fields = `username user { name } role { key } groups { name }`

		var viewer struct{ Viewer struct{ Membership member } }
		s.MustDo(t, m.Token, `{ viewer { membership { `+fields+` } } }`, nil).Decode(t, &viewer)
		check("viewer.membership", viewer.Viewer.Membership, "Ivy Instructor", "instructor", 1)

		var payload struct{ UpdateMember member }
		s.MustDo(t, owner, `mutation($id: ID!) { updateMember(id: $id, input: {title: "Coach"}) { `+fields+` } }`,
			map[string]any{"id": m.MembershipID}).Decode(t, &payload)
		check("updateMember", payload.UpdateMember, "Ivy Instructor", "instructor", 1)

		var explained struct{ ExplainPermission struct{ Member member } }
		s.MustDo(t, owner, `query($id: ID!) { explainPermission(memberId: $id, permission: "members.view") { member { `+fields+` } } }`,
			map[string]any{"id": m.MembershipID}).Decode(t, &explained)
		check("explainPermission.member", explained.ExplainPermission.Member, "Ivy Instructor", "instructor", 1)

		var review struct {
			Viewer struct {
				Organization struct{ AccessReview struct{ Elevated []member } }
			}
		}
		s.MustDo(t, owner, `{ viewer { organization { accessReview { elevated { `+fields+` } } } } }`, nil).Decode(t, &review)
		elevated := review.Viewer.Organization.AccessReview.Elevated
		if len(elevated) != 1 {
			t.Fatalf("elevated %+v", elevated)
		}
		check("accessReview.elevated", elevated[0], "Olivia Owner", "owner", 0)
	})
}
