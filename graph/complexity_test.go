package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"staffroom/ent"
	"staffroom/ent/group"
	"staffroom/ent/schema/pulid"
	"staffroom/graph"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// Every list of objects in the schema has a cost that multiplies its selection:
// a connection by its page size, a list without paging by its cap, nodes and
// bulk mutations by their argument. A new list field without a rule fails here.
func TestEveryListHasACost(t *testing.T) {
	es := graph.NewSchema(graph.Deps{})
	s := es.Schema()
	const child = 7
	for _, typ := range s.Types {
		if typ.Kind != ast.Object || strings.HasPrefix(typ.Name, "__") {
			continue
		}
		for _, f := range typ.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			elem := s.Types[f.Type.Name()]
			isList := f.Type.Elem != nil && elem.Kind != ast.Scalar && elem.Kind != ast.Enum
			isConnection := f.Type.Elem == nil && elem.Kind == ast.Object && strings.HasSuffix(elem.Name, "Connection")
			// A connection's edges are weighed by the field that returns the connection.
			if strings.HasSuffix(typ.Name, "Connection") && f.Name == "edges" || !isList && !isConnection {
				continue
			}
			args := map[string]any{}
			for _, a := range f.Arguments {
				if a.Type.Elem != nil {
					args[a.Name] = []any{"a", "b", "c"}
				}
			}
			cost, ok := es.Complexity(context.Background(), typ.Name, f.Name, child, args)
			if !ok || cost < 2*child {
				t.Errorf("%s.%s: %s has no cost rule (complexity %d, %v): make it a connection, or give it a cap in graph/complexity.go",
					typ.Name, f.Name, f.Type, cost, ok)
			}
		}
	}
}

// costFixture is an organization of 15 members, each in 3 of 5 groups, seen by
// its communication agent.
type costFixture struct {
	s       *apptest.Server
	org     *apptest.Org
	agent   *apptest.Member
	members []*ent.Membership
	groups  []*ent.Group
}

func newCostFixture(t *testing.T, d storetest.Dialect, env ...string) *costFixture {
	s := apptest.New(t, d, env...)
	org := s.CreateOrg(t, "Fan Out", "ACTIVITY")
	f := &costFixture{s: s, org: org, agent: org.AddMember(t, "communication_agent", "Cora", "Agent")}
	ctx := access.SystemContext(context.Background(), "test fixture")
	c := s.DB.Client
	for i := range 5 {
		f.groups = append(f.groups, c.Group.Create().SetOrganizationID(org.ID).SetName(fmt.Sprintf("Class %d", i)).
			SetKind(group.KindCLASS).SaveX(ctx))
	}
	for i := range 15 {
		m := org.Insert(t, "instructor", "Staff", fmt.Sprintf("Member%d", i), fmt.Sprintf("staff%d@example.com", i), false)
		c.Membership.UpdateOne(m).AddGroups(f.groups[i%5], f.groups[(i+1)%5], f.groups[(i+2)%5]).ExecX(ctx)
		f.members = append(f.members, m)
	}
	return f
}

func wantRefused(t *testing.T, what string, r *apptest.Response, code string) {
	t.Helper()
	if !slices.Equal(r.Codes(), []string{code}) {
		t.Errorf("%s: codes %v, want [%s]", what, r.Codes(), code)
	}
	if len(r.Data) != 0 && string(r.Data) != "null" {
		t.Errorf("%s: data %s, want none", what, r.Data)
	}
}

// membersPage is the members screen's selection.
const membersPage = `members(first: 100) { edges { node { id username user { name } role { key } groups { name } } } }`

func aliases(n int, field string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field)
	}
	return b.String()
}

// Queries whose work multiplies through nested or aliased lists are refused
// before they run; each of their parts alone is answered.
func TestComplexityRefusesFanOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newCostFixture(t, d)
		s, token := f.s, f.agent.Token

		fanOut := `{viewer{organization{members(first:100){edges{node{groups{members{groups{members{groups{members{id}}}}}}}}}}}}`
		wantRefused(t, "fan-out", s.Do(t, token, fanOut, nil), "COMPLEXITY_LIMIT")

		one := s.MustDo(t, token, `{ viewer { organization { `+membersPage+` } } }`, nil)
		if n := strings.Count(string(one.Data), `"username"`); n != 17 {
			t.Errorf("one members page lists %d members, want 17", n)
		}
		twelve := `{ viewer { organization { ` + aliases(12, membersPage) + ` } } }`
		wantRefused(t, "12 aliased members pages", s.Do(t, token, twelve, nil), "COMPLEXITY_LIMIT")

		ids := make([]pulid.ID, 100)
		for i := range ids {
			ids[i] = f.members[i%len(f.members)].ID
		}
		vars := map[string]any{"ids": ids}
		r := s.MustDo(t, token, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, vars)
		if n := strings.Count(string(r.Data), `"id"`); n != 100 {
			t.Errorf("nodes of 100 ids returned %d", n)
		}
		many := `query($ids: [ID!]!) { ` + aliases(75, `nodes(ids: $ids) { id }`) + ` }`
		wantRefused(t, "75 aliased nodes of 100 ids", s.Do(t, token, many, vars), "COMPLEXITY_LIMIT")

		r = s.Do(t, token, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": append(ids, ids[0])})
		if !slices.Equal(r.Codes(), []string{"BAD_USER_INPUT"}) || r.Errors[0].Extensions["field"] != "ids" {
			t.Errorf("nodes of 101 ids: %+v", r.Errors)
		}
	})
}

// A list without paging never returns more than its cap, the weight it was
// priced at.
func TestCappedListsAreCut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newCostFixture(t, d)
		ctx := access.SystemContext(context.Background(), "test fixture")
		big := f.groups[0]
		for i := range 100 {
			m := f.org.Insert(t, "guest", "Guest", fmt.Sprintf("Number%d", i), fmt.Sprintf("guest%d@example.com", i), false)
			f.s.DB.Client.Group.UpdateOne(big).AddMembers(m).ExecX(ctx)
		}
		if n := f.s.DB.Client.Group.QueryMembers(big).CountX(ctx); n <= 100 {
			t.Fatalf("the group has %d members; the test needs more than 100", n)
		}
		r := f.s.MustDo(t, f.org.Owner.Token, `query($id: ID!) { node(id: $id) { ... on Group { members { id } } } }`,
			map[string]any{"id": big.ID})
		var out struct {
			Node struct{ Members []struct{ ID string } }
		}
		r.Decode(t, &out)
		if len(out.Node.Members) != 100 {
			t.Errorf("group.members returned %d members, want the cap of 100", len(out.Node.Members))
		}
	})
}

// A response larger than the cap is replaced by a COMPLEXITY_LIMIT error, and a
// mutation whose answer is too large is undone with it.
func TestResponseSizeCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newCostFixture(t, d, "STAFFROOM_MAX_RESPONSE_BYTES=1024")
		s, token := f.s, f.org.Owner.Token

		r := s.Do(t, token, `{ viewer { organization { `+membersPage+` } } }`, nil)
		wantRefused(t, "a members page of 17", r, "COMPLEXITY_LIMIT")
		if len(r.Errors) == 1 && !strings.Contains(r.Errors[0].Message, "1024 bytes") {
			t.Errorf("the error does not say what the cap is: %q", r.Errors[0].Message)
		}
		s.MustDo(t, token, `{ viewer { organization { members(first: 3) { edges { node { id } } } } } }`, nil)

		create := `mutation($in: CreateGroupInput!) { createGroup(input: $in) { id description } }`
		in := map[string]any{"name": "Verbose", "kind": "TEAM", "description": strings.Repeat("long ", 198)}
		wantRefused(t, "createGroup answering 1,000 bytes", s.Do(t, token, create, map[string]any{"in": in}), "COMPLEXITY_LIMIT")
		ctx := access.SystemContext(context.Background(), "test")
		if n := s.DB.Client.Group.Query().Where(group.Name("Verbose")).CountX(ctx); n != 0 {
			t.Errorf("the refused mutation left %d groups", n)
		}
	})
}

// Every query of the screens fits the default limits: the benchmark scenarios,
// the README's examples, the widest query of the isolation test and the
// standard introspection query.
func TestLegitimateQueriesFitTheLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newCostFixture(t, d)
		queries := []string{
			// internal/bench/scenarios.go
			`{ viewer { user { id name } organization { id name } permissions memberships { organization { name } role { key } } } }`,
			`{ viewer { organization { members(first: 50) { edges { node { id username user { name } role { key } groups { name } } } } } } }`,
			`{ viewer { organization { groups(first: 50) { edges { node { id name } } } messages(first: 50) { edges { node { id subject groups { name } } } } } } }`,
			`query($id: ID!) { node(id: $id) { ... on Membership { id username role { key } } } }`,
			// README
			`{ viewer { user { name } organization { name members { totalCount } } permissions memberships { organization { name } role { key } } } }`,
			`{ viewer { organization { auditEvents(first: 10) { edges { node { action actor { username } createdAt } } } } } }`,
			// TestCrossTenantIsolation
			`{ viewer { organization { groups { edges { node { id members { id } } } } messages { edges { node { id recipients { id } groups { id } } } } roles { id manages { id } } auditEvents { edges { node { id targetId } } } } } }`,
			// The members screen at the largest page.
			`{ viewer { organization { ` + membersPage + ` } } }`,
			introspectionQuery(t),
		}
		vars := map[string]any{"id": f.members[0].ID}
		for _, q := range queries {
			r := f.s.Do(t, f.org.Owner.Token, q, vars)
			if len(r.Errors) != 0 || len(r.Data) == 0 || string(r.Data) == "null" {
				t.Errorf("%.80s…: %+v", strings.Join(strings.Fields(q), " "), r.Errors)
			}
		}
		var schema struct {
			Schema struct{ Types []json.RawMessage } `json:"__schema"`
		}
		f.s.MustDo(t, "", introspectionQuery(t), nil).Decode(t, &schema)
		if len(schema.Schema.Types) < 50 {
			t.Errorf("introspection listed %d types", len(schema.Schema.Types))
		}
	})
}
