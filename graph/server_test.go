package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"staffroom/ent"
	"staffroom/ent/group"
	"staffroom/ent/role"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

func TestTypename(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		r := s.MustDo(t, "", `{ __typename }`, nil)
		if string(r.Data) != `{"__typename":"Query"}` {
			t.Errorf("data = %s", r.Data)
		}
	})
}

func post(t *testing.T, s *apptest.Server, contentType, accept string, body []byte) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}

// The HTTP layer refuses what it must before GraphQL runs, and never echoes the
// request body back.
func TestHTTPLimits(t *testing.T) {
	s := apptest.New(t, storetest.Dialects()[0])

	t.Run("body over 1 MiB is 413", func(t *testing.T) {
		big := `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", 1<<20) + `"}}`
		res, _ := post(t, s, "application/json", "", []byte(big))
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d", res.StatusCode)
		}
	})
	t.Run("malformed JSON is 400 without the body", func(t *testing.T) {
		res, body := post(t, s, "application/json", "", []byte(`{"query": "secret-value`))
		if res.StatusCode != http.StatusBadRequest || strings.Contains(body, "secret-value") {
			t.Errorf("status = %d, body = %s", res.StatusCode, body)
		}
	})
	t.Run("graphql-response+json when accepted", func(t *testing.T) {
		res, _ := post(t, s, "application/json", "application/graphql-response+json", []byte(`{"query":"{ __typename }"}`))
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/graphql-response+json") {
			t.Errorf("content type = %q", ct)
		}
	})
	t.Run("GET runs queries", func(t *testing.T) {
		res, err := http.Get(s.URL + "/graphql?query=%7B__typename%7D")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), `"__typename":"Query"`) {
			t.Errorf("body = %s", body)
		}
	})
	t.Run("GET refuses mutations", func(t *testing.T) {
		res, err := http.Get(s.URL + "/graphql?query=mutation%7BlogOut%7D")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode < 400 {
			t.Errorf("status = %d", res.StatusCode)
		}
	})
	t.Run("600 aliases exceed the token limit", func(t *testing.T) {
		var q strings.Builder
		q.WriteString("{")
		for i := range 600 {
			fmt.Fprintf(&q, " a%d: __typename", i)
		}
		q.WriteString(" }")
		r := s.Do(t, "", q.String(), nil)
		if len(r.Errors) == 0 || r.Data != nil && string(r.Data) != "null" {
			t.Errorf("600 aliases were served: %s", r.Data)
		}
	})
	t.Run("deep nesting exceeds the depth limit", func(t *testing.T) {
		deep := "{ __schema { types { fields { type " + strings.Repeat("{ ofType ", 12) + "{ name }" + strings.Repeat(" }", 12) + " } } } }"
		r := s.Do(t, "", deep, nil)
		if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "nested") {
			t.Errorf("errors = %+v", r.Errors)
		}
	})
	t.Run("health and readiness", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz", "/.well-known/jwks.json"} {
			res, err := http.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s: status = %d", path, res.StatusCode)
			}
		}
	})
}

const membersQuery = `query($org: ID!) { node(id: $org) { ... on Organization {
	members(first: 100) { totalCount edges { node { id username user { name } role { key } groups { name } } } }
} } }`

// The statement count of a nested list does not grow with its length: eager
// loading fetches each edge (user, role, groups) for the whole page at once.
func TestNestedQueryStatementsDoNotGrow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		counts := map[int]int64{}
		for _, n := range []int{10, 1000} {
			s := apptest.New(t, d)
			org := s.CreateOrg(t, fmt.Sprintf("Club %d", n), "ACTIVITY")
			seedMembers(t, s, org, n)
			before := s.DB.Stats.Statements()
			r := s.MustDo(t, org.Owner.Token, membersQuery, map[string]any{"org": org.ID})
			counts[n] = s.DB.Stats.Statements() - before
			var out struct {
				Node struct {
					Members struct {
						TotalCount int
						Edges      []struct {
							Node struct {
								User   struct{ Name string }
								Groups []struct{ Name string }
							}
						}
					}
				}
			}
			r.Decode(t, &out)
			if got := out.Node.Members.TotalCount; got != n+1 {
				t.Errorf("%d members: totalCount = %d", n, got)
			}
			if got := len(out.Node.Members.Edges); got != min(n+1, 100) {
				t.Errorf("%d members: page has %d", n, got)
			}
		}
		t.Logf("%s: statements for 10 members: %d, for 1,000: %d", d.Name, counts[10], counts[1000])
		if counts[10] != counts[1000] {
			t.Errorf("statements grow with the list: %d for 10, %d for 1000", counts[10], counts[1000])
		}
	})
}

// seedMembers inserts n instructors in bulk, each linked to two of five classes.
func seedMembers(t testing.TB, s *apptest.Server, org *apptest.Org, n int) {
	t.Helper()
	ctx := access.SystemContext(context.Background(), "test fixture")
	c := s.DB.Client
	var groups []*ent.Group
	for i := range 5 {
		g, err := c.Group.Create().SetOrganizationID(org.ID).
			SetName(fmt.Sprintf("Class %d", i)).SetKind(group.KindCLASS).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g)
	}
	instructor := c.Role.Query().Where(role.OrganizationID(org.ID), role.Key("instructor")).OnlyX(ctx)
	for start := 0; start < n; start += 200 {
		end := min(start+200, n)
		users := make([]*ent.UserCreate, 0, end-start)
		for i := start; i < end; i++ {
			users = append(users, c.User.Create().SetEmail(fmt.Sprintf("i%d.%s@example.com", i, org.ID)).
				SetFirstName("Inst").SetLastName(fmt.Sprintf("Ructor%d", i)))
		}
		created := c.User.CreateBulk(users...).SaveX(ctx)
		members := make([]*ent.MembershipCreate, 0, len(created))
		for j, u := range created {
			i := start + j
			name := fmt.Sprintf("Inst.Ructor%d", i)
			members = append(members, c.Membership.Create().SetOrganizationID(org.ID).SetUserID(u.ID).
				SetRoleID(instructor.ID).SetUsername(name).SetUsernameKey(strings.ToLower(name)).
				AddGroups(groups[i%5], groups[(i+1)%5]))
		}
		c.Membership.CreateBulk(members...).ExecX(ctx)
	}
}
