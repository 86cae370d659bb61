package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/organization"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
)

// The GraphQL operations of the scenarios.
const (
	viewerQuery     = `{ viewer { user { id name } organization { id name } permissions memberships { organization { name } role { key } } } }`
	membersQuery    = `{ viewer { organization { members(first: 50) { edges { node { id username user { name } role { key } groups { name } } } } } } }`
	instructorQuery = `{ viewer { organization { groups(first: 50) { edges { node { id name } } } messages(first: 50) { edges { node { id subject groups { name } } } } } } }`
	nodeQuery       = `query($id: ID!) { node(id: $id) { ... on Membership { id username role { key } } } }`
	inviteMutation  = `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { inviteLink } }`
	logInMutation   = `mutation($in: LogInInput!) { logIn(input: $in) { accessToken } }`
)

// scenario is one kind of request. Reads have a floor; writes do not.
type scenario struct {
	name    string
	title   string
	graphql side
	floor   *side
}

func (s scenario) read() bool { return s.floor != nil }

func scenarioNames() []string {
	return []string{"viewer", "members", "instructor", "node", "inviteMember", "logIn"}
}

func pickScenarios(list string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(scenarioNames(), name) {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(scenarioNames(), ", "))
		}
		out = append(out, name)
	}
	return out, nil
}

// fixture is what the scenarios need from the seeded database.
type fixture struct {
	org             pulid.ID
	ownerToken      string
	adminToken      string
	instructorToken string
	adminUser       pulid.ID
	admin           pulid.ID // the administrator's membership
	// The kinds of group of which the administrator sees none, and those of
	// which they see only the groups they are linked to: the floor's filter.
	adminHiddenKinds, adminLinkedKinds []string
	instructor                         pulid.ID // the instructor's membership
	guestRole                          pulid.ID
	memberIDs                          []pulid.ID // every membership of the large organization, for node(id:)
	logins                             []string   // emails of members who can log in to it
}

// loadFixture finds the seeded organization and logs its people in over HTTP.
func loadFixture(ctx context.Context, a *assembly, base string) (*fixture, error) {
	sys := access.SystemContext(ctx, "benchmark fixture")
	c := a.db.Client
	org, err := c.Organization.Query().Where(organization.Slug(largeOrgSlug)).Only(sys)
	if err != nil {
		return nil, fmt.Errorf("bench: the benchmark organization is missing (%w): run seed -bench -reset first", err)
	}
	f := &fixture{org: org.ID}
	if f.guestRole, err = c.Role.Query().Where(role.OrganizationID(org.ID), role.Key("guest")).OnlyID(sys); err != nil {
		return nil, err
	}
	members, err := c.Membership.Query().Where(membership.OrganizationID(org.ID)).
		Order(membership.ByID()).WithUser().WithRole().All(sys)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		f.memberIDs = append(f.memberIDs, m.ID)
		switch m.Edges.User.Email {
		case adminEmail:
			f.adminUser, f.admin = m.UserID, m.ID
			f.adminHiddenKinds, f.adminLinkedKinds = groupKindScopes(org.ID, m)
		case instructorEmail:
			f.instructor = m.ID
		}
		active := m.Status == membership.StatusACTIVE && m.RemovedAt == nil
		if active && m.Edges.Role.Key == "instructor" && strings.HasPrefix(m.Edges.User.Email, "member") && len(f.logins) < 256 {
			f.logins = append(f.logins, m.Edges.User.Email)
		}
	}
	if f.adminUser == "" || f.instructor == "" || len(f.logins) == 0 {
		return nil, fmt.Errorf("bench: the benchmark organization lacks its administrator, instructor or members: seed again")
	}
	for _, p := range []struct {
		email string
		token *string
	}{{ownerEmail, &f.ownerToken}, {adminEmail, &f.adminToken}, {instructorEmail, &f.instructorToken}} {
		if *p.token, err = logIn(base, p.email, org.ID); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// groupKindScopes returns the kinds of group of which a member sees none and
// those of which they see only the groups linked to them, as their viewer
// would decide.
func groupKindScopes(org pulid.ID, m *ent.Membership) (hidden, linked []string) {
	r := m.Edges.Role
	v := access.NewViewer(m.UserID, "", &access.Membership{
		OrgID: org, MembershipID: m.ID, RoleID: r.ID, RoleKey: r.Key, GroupScope: string(m.GroupScope),
		RolePermissions: r.Permissions, Grants: m.Grants, Revokes: m.Revokes, GroupScopes: r.GroupScopes,
	})
	for _, kind := range access.GroupKinds {
		switch v.GroupScopeOf(kind) {
		case string(membership.GroupScopeALL):
		case string(membership.GroupScopeLINKED):
			linked = append(linked, kind)
		default: // NONE
			hidden = append(hidden, kind)
		}
	}
	return hidden, linked
}

// logIn logs a user in over HTTP and returns the access token.
func logIn(base, email string, org pulid.ID) (string, error) {
	body := graphqlBody(logInMutation, map[string]any{"in": map[string]any{"email": email, "password": password, "organizationId": org}})
	res, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			LogIn struct{ AccessToken string }
		}
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Errors) > 0 || out.Data.LogIn.AccessToken == "" {
		return "", fmt.Errorf("bench: log in %s: %v %s", email, err, out.Errors)
	}
	return out.Data.LogIn.AccessToken, nil
}

func graphqlBody(query string, vars map[string]any) []byte {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err)
	}
	return body
}

// graphqlTarget posts the body the counter's value gives, with a bearer token.
// The counter belongs to the scenario, so that the bodies stay unique however
// many targeters are made.
func graphqlTarget(token string, counter *atomic.Uint64, body func(i uint64) []byte) func(string) vegeta.Targeter {
	header := http.Header{"Content-Type": {"application/json"}}
	if token != "" {
		header.Set("Authorization", "Bearer "+token)
	}
	return func(base string) vegeta.Targeter {
		u := base + "/graphql"
		return func(t *vegeta.Target) error {
			t.Method, t.URL, t.Header = http.MethodPost, u, header
			t.Body = body(counter.Add(1) - 1)
			return nil
		}
	}
}

// floorTarget gets the floor path with the query parameters the counter's value gives.
func floorTarget(path string, counter *atomic.Uint64, params func(i uint64) url.Values) func(string) vegeta.Targeter {
	return func(base string) vegeta.Targeter {
		return func(t *vegeta.Target) error {
			t.Method, t.URL = http.MethodGet, base+path+"?"+params(counter.Add(1)-1).Encode()
			return nil
		}
	}
}

func fixed(body []byte) func(uint64) []byte { return func(uint64) []byte { return body } }

// graphqlOK accepts an answer with data and without errors.
func graphqlOK(body []byte) bool {
	return bytes.HasPrefix(body, []byte(`{"data":`)) && !bytes.Contains(body, []byte(`"errors":`))
}

func floorOK(body []byte) bool { return bytes.HasPrefix(body, []byte(`{"data":`)) }

// scenarios builds the scenarios against the GraphQL server and the floor.
func scenarios(f *fixture, a *assembly, fl *floor, gqlBase, floorBase string, names []string) []scenario {
	gqlSide := func(token string, body func(uint64) []byte) side {
		return side{target: graphqlTarget(token, new(atomic.Uint64), body), base: gqlBase, ok: graphqlOK, statements: a.db.Stats.Statements}
	}
	floorSide := func(path string, params func(uint64) url.Values) *side {
		return &side{target: floorTarget(path, new(atomic.Uint64), params), base: floorBase, ok: floorOK, statements: fl.statements.Load}
	}
	nodeBodies := make([][]byte, len(f.memberIDs))
	for i, id := range f.memberIDs {
		nodeBodies[i] = graphqlBody(nodeQuery, map[string]any{"id": id})
	}
	run := time.Now().UnixNano() // invitations of an earlier run stay pending: new addresses each run
	all := map[string]scenario{
		"viewer": {title: "viewer (with the switcher's memberships), administrator",
			graphql: gqlSide(f.adminToken, fixed(graphqlBody(viewerQuery, nil))),
			floor: floorSide("/floor/viewer", func(uint64) url.Values {
				return url.Values{"user": {string(f.adminUser)}, "org": {string(f.org)}}
			})},
		"members": {title: "members(first: 50) with user, role, groups, administrator",
			graphql: gqlSide(f.adminToken, fixed(graphqlBody(membersQuery, nil))),
			floor: floorSide("/floor/members", func(uint64) url.Values {
				return url.Values{"org": {string(f.org)}, "member": {string(f.admin)},
					"hidden": {strings.Join(f.adminHiddenKinds, ",")}, "linked": {strings.Join(f.adminLinkedKinds, ",")}}
			})},
		"instructor": {title: "instructor's groups and messages (row scopes)",
			graphql: gqlSide(f.instructorToken, fixed(graphqlBody(instructorQuery, nil))),
			floor: floorSide("/floor/instructor", func(uint64) url.Values {
				return url.Values{"org": {string(f.org)}, "member": {string(f.instructor)}}
			})},
		"node": {title: "node(id:) on a member, administrator",
			graphql: gqlSide(f.adminToken, func(i uint64) []byte { return nodeBodies[i%uint64(len(nodeBodies))] }),
			floor: floorSide("/floor/node", func(i uint64) url.Values {
				return url.Values{"id": {string(f.memberIDs[i%uint64(len(f.memberIDs))])}}
			})},
		"inviteMember": {title: "inviteMember (a guest), administrator",
			graphql: gqlSide(f.adminToken, func(i uint64) []byte {
				return graphqlBody(inviteMutation, map[string]any{"in": map[string]any{
					"email":     fmt.Sprintf("invitee.%d.%d%s", run, i, emailDomain),
					"firstName": "Ina", "lastName": "Invitee", "roleId": f.guestRole,
				}})
			})},
		"logIn": {title: "logIn (argon2id)",
			graphql: gqlSide("", func(i uint64) []byte {
				return graphqlBody(logInMutation, map[string]any{"in": map[string]any{
					"email": f.logins[i%uint64(len(f.logins))], "password": password, "organizationId": f.org,
				}})
			})},
	}
	var out []scenario
	for _, name := range names {
		s := all[name]
		s.name = name
		out = append(out, s)
	}
	return out
}
