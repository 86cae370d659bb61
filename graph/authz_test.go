package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"staffroom/ent"
	"staffroom/ent/group"
	"staffroom/ent/message"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/graph"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/auth"
	"staffroom/internal/store/storetest"
)

// The authorization matrix: testdata/authorization.json has a row for every root
// field and every guarded field, with what each viewer gets — anonymous, a member
// of another organization, and each role of the ACTIVITY preset.
//
// Expectations: "ok" (no error), "=V" (no error and the value at the row's path
// is V, as JSON), "null" (no error and null at the path), or an error code that
// the first error must carry (with null at the path).
type matrixRow struct {
	Field  string            `json:"field"`
	Query  string            `json:"query"`
	Path   string            `json:"path"`
	Setup  string            `json:"setup,omitempty"`
	Expect map[string]string `json:"expect"`
}

var viewers = []string{"anonymous", "other", "owner", "administrator", "attendant",
	"communication_agent", "instructor", "instructor_no_messaging", "guest"}

func loadMatrix(t *testing.T) []matrixRow {
	t.Helper()
	raw, err := os.ReadFile("testdata/authorization.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []matrixRow
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatalf("testdata/authorization.json: %v", err)
	}
	return rows
}

// TestMatrixCoversSchema fails when a root field or a guarded field has no row.
func TestMatrixCoversSchema(t *testing.T) {
	covered := map[string]bool{}
	for _, r := range loadMatrix(t) {
		covered[r.Field] = true
		for _, v := range viewers {
			if _, ok := r.Expect[v]; !ok {
				t.Errorf("%s: no expectation for %s", r.Field, v)
			}
		}
	}
	schema := graph.NewSchema(graph.Deps{}).Schema()
	var missing []string
	for _, def := range schema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		root := def.Name == "Query" || def.Name == "Mutation"
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			guarded := f.Directives.ForName("hasPermission") != nil
			name := def.Name + "." + f.Name
			if (root || guarded) && !covered[name] {
				missing = append(missing, name)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no row in testdata/authorization.json for %s", m)
	}
}

// matrixFixture is one organization with a member of each ACTIVITY role, five
// classes (the instructor linked to two), messages, an invoice, and a member of
// another organization.
type matrixFixture struct {
	s       *apptest.Server
	org     *apptest.Org
	tokens  map[string]string
	vars    map[string]any
	members map[string]pulid.ID
	n       int
}

func newMatrixFixture(t *testing.T, d storetest.Dialect) *matrixFixture {
	s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
	org := s.CreateOrg(t, "Acme Activities", "ACTIVITY")
	other := s.CreateOrg(t, "Other Org", "ACTIVITY")
	f := &matrixFixture{s: s, org: org, tokens: map[string]string{"anonymous": "", "other": other.Owner.Token, "owner": org.Owner.Token}, vars: map[string]any{}}
	members := map[string]pulid.ID{}
	for _, r := range viewers[3:] {
		m := org.AddMember(t, r, "Test", strings.ReplaceAll(r, "_", ""))
		f.tokens[r] = m.Token
		members[r] = m.MembershipID
	}
	f.members = members
	ctx := access.SystemContext(context.Background(), "test fixture")
	c := s.DB.Client
	var classes []*ent.Group
	for i := range 5 {
		classes = append(classes, c.Group.Create().SetOrganizationID(org.ID).SetName(fmt.Sprintf("Class %d", i)).
			SetKind(group.KindCLASS).SaveX(ctx))
	}
	c.Membership.UpdateOneID(members["instructor"]).AddGroups(classes[0], classes[1]).ExecX(ctx)
	c.Membership.UpdateOneID(members["instructor_no_messaging"]).AddGroups(classes[2]).ExecX(ctx)
	msg := func(author pulid.ID, g *ent.Group, cc ...pulid.ID) *ent.Message {
		return c.Message.Create().SetOrganizationID(org.ID).SetAuthorID(author).SetBody("Hello").
			SetStatus(message.StatusSENT).AddGroups(g).AddCcIDs(cc...).SaveX(ctx)
	}
	toClass0 := msg(members["administrator"], classes[0])
	msg(members["administrator"], classes[3])
	msg(members["communication_agent"], classes[4], members["guest"])
	pending := c.Message.Create().SetOrganizationID(org.ID).SetAuthorID(members["instructor"]).SetBody("Please approve").
		SetStatus(message.StatusPENDING_APPROVAL).AddGroups(classes[0]).SaveX(ctx)
	inv := c.Invoice.Create().SetOrganizationID(org.ID).SetNumber("A-1").SetCustomerName("Jo").SetAmountCents(1000).SetCurrency("EUR").SaveX(ctx)
	roleID := func(key string) pulid.ID {
		return c.Role.Query().Where(role.OrganizationID(org.ID), role.Key(key)).OnlyIDX(ctx)
	}
	f.vars = map[string]any{
		"org": org.ID, "guest": members["guest"], "instructor": members["instructor"],
		"class0": classes[0].ID, "class3": classes[3].ID, "message": toClass0.ID, "pending": pending.ID,
		"invoice": inv.ID, "instructorRole": roleID("instructor"), "guestRole": roleID("guest"),
		"administratorRole": roleID("administrator"),
		"ownerEmail":        org.Owner.Email, "password": apptest.Password,
	}
	return f
}

// setup makes a fresh target for a mutation cell, so that every cell acts on
// rows of its own.
func (f *matrixFixture) setup(t *testing.T, kind string) map[string]any {
	f.n++
	vars := map[string]any{
		"email": fmt.Sprintf("new%d@example.com", f.n), "name": fmt.Sprintf("Made %d", f.n),
		"key": fmt.Sprintf("custom_%d", f.n), "num": fmt.Sprintf("N-%d", f.n),
		"csv": fmt.Sprintf("first_name,last_name,email,phone,role\nNew,Person,imported%d@example.com,,guest\n", f.n),
	}
	for k, v := range f.vars {
		vars[k] = v
	}
	ctx := access.SystemContext(context.Background(), "test fixture")
	c := f.s.DB.Client
	switch kind {
	case "":
	case "instructor", "guest":
		m := f.org.Insert(t, kind, "Target", fmt.Sprintf("Member%d", f.n), fmt.Sprintf("target%d.%s@example.com", f.n, f.org.ID), false)
		vars["target"] = m.ID
	case "group":
		vars["target"] = c.Group.Create().SetOrganizationID(f.org.ID).SetName(fmt.Sprintf("Spare %d", f.n)).SaveX(ctx).ID
	case "role":
		vars["target"] = c.Role.Create().SetOrganizationID(f.org.ID).SetKey(fmt.Sprintf("spare_%d", f.n)).SetName("Spare").SaveX(ctx).ID
	case "invoice":
		vars["target"] = c.Invoice.Create().SetOrganizationID(f.org.ID).SetNumber(fmt.Sprintf("S-%d", f.n)).
			SetCustomerName("Sam").SetAmountCents(500).SetCurrency("EUR").SaveX(ctx).ID
	case "invitation":
		_, hash := auth.NewOpaqueToken()
		vars["target"] = c.Invitation.Create().SetOrganizationID(f.org.ID).SetEmail(fmt.Sprintf("invited%d@example.com", f.n)).
			SetRoleID(f.vars["guestRole"].(pulid.ID)).SetInvitedByID(f.members["administrator"]).SetTokenHash(hash).
			SetExpiresAt(time.Now().Add(time.Hour)).SaveX(ctx).ID
	case "pending":
		author := f.vars["instructor"].(pulid.ID)
		vars["target"] = c.Message.Create().SetOrganizationID(f.org.ID).SetAuthorID(author).SetBody("Hi").
			SetStatus(message.StatusPENDING_APPROVAL).SaveX(ctx).ID
	default:
		t.Fatalf("unknown setup %q", kind)
	}
	return vars
}

func TestAuthorizationMatrix(t *testing.T) {
	rows := loadMatrix(t)
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		for _, row := range rows {
			for _, v := range viewers {
				want := row.Expect[v]
				vars := f.setup(t, row.Setup)
				r := f.s.Do(t, f.tokens[v], row.Query, used(row.Query, vars))
				if msg := check(r, row.Path, want); msg != "" {
					t.Errorf("%s as %s: want %s, %s", row.Field, v, want, msg)
				}
			}
		}
	})
}

// used keeps the variables the query declares.
func used(query string, vars map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range vars {
		if strings.Contains(query, "$"+k+":") {
			out[k] = v
		}
	}
	return out
}

func check(r *apptest.Response, path, want string) string {
	val, found := at(r.Data, path)
	switch {
	case want == "ok":
		if len(r.Errors) > 0 {
			return fmt.Sprintf("got errors %v", r.Codes())
		}
	case want == "null":
		if len(r.Errors) > 0 || (found && string(val) != "null") {
			return fmt.Sprintf("got %s, errors %v", val, r.Codes())
		}
	case strings.HasPrefix(want, "="):
		if len(r.Errors) > 0 || string(val) != want[1:] {
			return fmt.Sprintf("got %s, errors %v", val, r.Codes())
		}
	default:
		if len(r.Errors) == 0 || r.Errors[0].Code() != want {
			return fmt.Sprintf("got codes %v, data %s", r.Codes(), r.Data)
		}
		if found && string(val) != "null" {
			return fmt.Sprintf("the error came with data %s", val)
		}
	}
	return ""
}

// at returns the JSON value at a dotted path; list values are counted ("#").
func at(data json.RawMessage, path string) (json.RawMessage, bool) {
	cur := data
	for _, key := range strings.Split(path, ".") {
		if key == "#" {
			var list []json.RawMessage
			if json.Unmarshal(cur, &list) != nil {
				return cur, true
			}
			return json.RawMessage(fmt.Sprint(len(list))), true
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(cur, &obj) != nil || obj == nil {
			return cur, true
		}
		next, ok := obj[key]
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}
