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
	"staffroom/ent/grouplink"
	"staffroom/ent/membership"
	"staffroom/ent/message"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/webhookdelivery"
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
//
// A row with writeScope set acts on a row outside some viewer's read scope —
// another organization's, or one a linked-scope viewer cannot see — and proves
// that the write answers NOT_FOUND (or FORBIDDEN, when the viewer may read the
// row but not manage it) and changes nothing.
type matrixRow struct {
	Field      string            `json:"field"`
	Query      string            `json:"query"`
	Path       string            `json:"path"`
	Setup      string            `json:"setup,omitempty"`
	WriteScope bool              `json:"writeScope,omitempty"`
	Expect     map[string]string `json:"expect"`
}

// viewers are anonymous, an owner of another organization, each role of the
// ACTIVITY preset, "linked": a custom role that manages instructors and
// guests, with groups.manage and messages.approve but group scope LINKED, so
// that it may write only the groups it is linked to, and "apikey": an API key
// of the organization with a bookings app's permissions (bookingsKey).
var viewers = []string{"anonymous", "other", "owner", "administrator", "attendant",
	"communication_agent", "instructor", "instructor_no_messaging", "guest", "linked", "apikey"}

// linkedRole is the custom role of the "linked" viewer.
var linkedRole = []string{access.MembersView, access.MembersManage, access.MembersInvite, access.GroupsManage,
	access.MessagesCompose, access.MessagesSend, access.MessagesApprove, access.InvoicesView,
	access.InvoicesRefund, access.RolesManage}

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
	covered, writeScoped = map[string]bool{}, map[string]bool{}
	for _, r := range loadMatrix(t) {
		covered[r.Field] = true
		writeScoped[r.Field] = writeScoped[r.Field] || r.WriteScope
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
	for _, m := range idMutations(schema) {
		if !writeScoped[m] {
			t.Errorf("no writeScope row in testdata/authorization.json for %s: act on a row outside the viewer's read scope", m)
		}
	}
}

// idMutations returns the mutations that take an id argument (an ID or a list
// of IDs, at any depth of their input): each needs a write-scope row.
func idMutations(schema *ast.Schema) []string {
	var out []string
	for _, f := range schema.Mutation.Fields {
		for _, a := range f.Arguments {
			if takesID(schema, a.Type, map[string]bool{}) {
				out = append(out, "Mutation."+f.Name)
				break
			}
		}
	}
	return out
}

func takesID(schema *ast.Schema, t *ast.Type, seen map[string]bool) bool {
	name := t.Name()
	if name == "ID" {
		return true
	}
	def := schema.Types[name]
	if def == nil || def.Kind != ast.InputObject || seen[name] {
		return false
	}
	seen[name] = true
	for _, f := range def.Fields {
		if takesID(schema, f.Type, seen) {
			return true
		}
	}
	return false
}

var covered, writeScoped map[string]bool

// matrixFixture is one organization with a member of each ACTIVITY role, five
// classes (the instructor linked to two), messages, an invoice, and a member of
// another organization.
type matrixFixture struct {
	s       *apptest.Server
	org     *apptest.Org
	other   *apptest.Org
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
	for _, r := range viewers[3:9] {
		m := org.AddMember(t, r, "Test", strings.ReplaceAll(r, "_", ""))
		f.tokens[r] = m.Token
		members[r] = m.MembershipID
	}
	ctx := access.SystemContext(context.Background(), "test fixture")
	c := s.DB.Client
	c.Role.Create().SetOrganizationID(org.ID).SetKey("linked_manager").SetName("Linked manager").
		SetPermissions(linkedRole).SetManages([]string{"instructor", "guest"}).ExecX(ctx)
	linked := org.AddMember(t, "linked_manager", "Test", "Linked")
	f.tokens["linked"] = linked.Token
	members["linked"] = linked.MembershipID
	f.members = members
	f.tokens["apikey"], _ = createKey(t, s, org.Owner.Token, map[string]any{"name": "Bookings app", "permissions": bookingsKey})
	var classes []*ent.Group
	for i := range 5 {
		classes = append(classes, c.Group.Create().SetOrganizationID(org.ID).SetName(fmt.Sprintf("Class %d", i)).
			SetKind(group.KindCLASS).SaveX(ctx))
	}
	c.Membership.UpdateOneID(members["instructor"]).AddGroups(classes[0], classes[1]).ExecX(ctx)
	c.Membership.UpdateOneID(members["instructor_no_messaging"]).AddGroups(classes[2]).ExecX(ctx)
	c.Membership.UpdateOneID(members["linked"]).AddGroups(classes[0]).ExecX(ctx)
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
	f.other = other
	roleID := func(key string) pulid.ID {
		return c.Role.Query().Where(role.OrganizationID(org.ID), role.Key(key)).OnlyIDX(ctx)
	}
	f.vars = map[string]any{
		"org": org.ID, "guest": members["guest"], "instructor": members["instructor"],
		"class0": classes[0].ID, "class3": classes[3].ID, "message": toClass0.ID, "pending": pending.ID,
		"invoice": inv.ID, "instructorRole": roleID("instructor"), "guestRole": roleID("guest"),
		"administratorRole": roleID("administrator"), "otherOrg": other.ID,
		"foreignRole": c.Role.Query().Where(role.OrganizationID(other.ID), role.Key("guest")).OnlyIDX(ctx),
		"ownerEmail":  org.Owner.Email, "password": apptest.Password,
		"until": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
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
	case "linked_group":
		// A group the linked viewer and the instructor are linked to.
		g := c.Group.Create().SetOrganizationID(f.org.ID).SetName(fmt.Sprintf("Linked %d", f.n)).SaveX(ctx)
		c.Membership.Update().Where(membership.IDIn(f.members["linked"], f.members["instructor"])).AddGroups(g).ExecX(ctx)
		vars["target"] = g.ID
	case "linked_form", "unlinked_form":
		// A FORM group, and a message sent to it; the linked form is linked to
		// every viewer but the owner and the communication agent. ACTIVITY
		// administrators see only the forms linked to them, attendants none.
		g := c.Group.Create().SetOrganizationID(f.org.ID).SetName(vars["name"].(string)).SetKind(group.KindFORM).SaveX(ctx)
		if kind == "linked_form" {
			c.Membership.Update().Where(membership.IDIn(f.members["administrator"], f.members["attendant"], f.members["instructor"],
				f.members["instructor_no_messaging"], f.members["guest"], f.members["linked"])).AddGroups(g).ExecX(ctx)
		}
		vars["target"] = g.ID
		vars["formMessage"] = c.Message.Create().SetOrganizationID(f.org.ID).SetAuthorID(f.members["communication_agent"]).SetBody("Fill in the form").
			SetStatus(message.StatusSENT).AddGroups(g).SaveX(ctx).ID
	case "instructor_unlinked_group":
		// An instructor to link, and a group nobody is linked to.
		m := f.org.Insert(t, "instructor", "Target", fmt.Sprintf("Member%d", f.n), fmt.Sprintf("target%d.%s@example.com", f.n, f.org.ID), false)
		vars["target"] = m.ID
		vars["group"] = c.Group.Create().SetOrganizationID(f.org.ID).SetName(fmt.Sprintf("Unlinked %d", f.n)).SaveX(ctx).ID
	case "timed_disabled", "timed_grant", "timed_link":
		// An instructor with time-boxed access: disabled for an hour, granted
		// members.view for an hour, or linked to class 0 for good and to
		// class 3 for an hour.
		m := f.org.Insert(t, "instructor", "Timed", fmt.Sprintf("Member%d", f.n), fmt.Sprintf("timed%d.%s@example.com", f.n, f.org.ID), false)
		until := time.Now().Add(time.Hour).UTC()
		switch kind {
		case "timed_disabled":
			c.Membership.UpdateOne(m).SetStatus(membership.StatusDISABLED).SetDisabledUntil(until).ExecX(ctx)
		case "timed_grant":
			c.Membership.UpdateOne(m).SetGrants([]string{access.MembersView}).
				SetGrantExpiries(map[string]time.Time{access.MembersView: until}).SetNextGrantExpiry(until).ExecX(ctx)
		case "timed_link":
			c.Membership.UpdateOne(m).AddGroupIDs(f.vars["class0"].(pulid.ID), f.vars["class3"].(pulid.ID)).ExecX(ctx)
			c.GroupLink.Update().Where(grouplink.MembershipID(m.ID), grouplink.GroupID(f.vars["class3"].(pulid.ID))).SetUntil(until).ExecX(ctx)
		}
		vars["target"] = m.ID
	case "administrator":
		m := f.org.Insert(t, "administrator", "Admin", fmt.Sprintf("Member%d", f.n), fmt.Sprintf("admin%d.%s@example.com", f.n, f.org.ID), false)
		vars["target"] = m.ID
	case "foreign_member":
		m := f.other.Insert(t, "instructor", "Foreign", fmt.Sprintf("Member%d", f.n), fmt.Sprintf("foreign%d.%s@example.com", f.n, f.other.ID), false)
		vars["target"] = m.ID
	case "foreign_disabled":
		// Disabled, so that the other organization's owner cannot hand it
		// ownership while the matrix runs.
		m := f.other.Insert(t, "instructor", "Foreign", fmt.Sprintf("Member%d", f.n), fmt.Sprintf("foreign%d.%s@example.com", f.n, f.other.ID), false)
		c.Membership.UpdateOne(m).SetStatus(membership.StatusDISABLED).ExecX(ctx)
		vars["target"] = m.ID
	case "foreign_group":
		vars["target"] = c.Group.Create().SetOrganizationID(f.other.ID).SetName(fmt.Sprintf("Foreign %d", f.n)).SaveX(ctx).ID
	case "foreign_role":
		vars["target"] = c.Role.Create().SetOrganizationID(f.other.ID).SetKey(fmt.Sprintf("foreign_%d", f.n)).SetName("Foreign").SaveX(ctx).ID
	case "foreign_invoice":
		vars["target"] = c.Invoice.Create().SetOrganizationID(f.other.ID).SetNumber(fmt.Sprintf("F-%d", f.n)).
			SetCustomerName("Sam").SetAmountCents(500).SetCurrency("EUR").SaveX(ctx).ID
	case "foreign_invitation":
		_, hash := auth.NewOpaqueToken()
		otherGuest := c.Role.Query().Where(role.OrganizationID(f.other.ID), role.Key("guest")).OnlyIDX(ctx)
		otherOwner := c.Membership.Query().Where(membership.OrganizationID(f.other.ID)).FirstIDX(ctx)
		vars["target"] = c.Invitation.Create().SetOrganizationID(f.other.ID).SetEmail(fmt.Sprintf("foreign%d@example.com", f.n)).
			SetRoleID(otherGuest).SetInvitedByID(otherOwner).SetTokenHash(hash).
			SetExpiresAt(time.Now().Add(time.Hour)).SaveX(ctx).ID
	case "unseen_pending":
		// Pending, to a group that neither the linked viewer nor the instructors see.
		g := c.Group.Create().SetOrganizationID(f.org.ID).SetName(fmt.Sprintf("Unseen %d", f.n)).SaveX(ctx)
		vars["target"] = c.Message.Create().SetOrganizationID(f.org.ID).SetAuthorID(f.members["communication_agent"]).SetBody("Hi").
			SetStatus(message.StatusPENDING_APPROVAL).AddGroups(g).SaveX(ctx).ID
	case "unmanaged_role":
		// A custom role outside the linked viewer's manages set.
		vars["target"] = c.Role.Create().SetOrganizationID(f.org.ID).SetKey(fmt.Sprintf("unmanaged_%d", f.n)).SetName("Unmanaged").SaveX(ctx).ID
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
	case "template":
		vars["target"] = c.MessageTemplate.Create().SetOrganizationID(f.org.ID).SetName(fmt.Sprintf("Template %d", f.n)).
			SetBody("Hello {{firstName}}").SaveX(ctx).ID
	case "foreign_template":
		vars["target"] = c.MessageTemplate.Create().SetOrganizationID(f.other.ID).SetName(fmt.Sprintf("Foreign %d", f.n)).
			SetBody("Hello {{firstName}}").SaveX(ctx).ID
	case "apikey":
		_, vars["target"] = createKey(t, f.s, f.org.Owner.Token, map[string]any{"name": fmt.Sprintf("Key %d", f.n), "permissions": []any{access.MembersView}})
	case "module_permission", "foreign_module_permission":
		org := f.org
		if kind == "foreign_module_permission" {
			org = f.other
		}
		vars["target"] = c.ModulePermission.Create().SetOrganizationID(org.ID).SetKey(fmt.Sprintf("app.spare.p%d", f.n)).
			SetName("Spare").SetApp("Spare").SaveX(ctx).ID
	case "webhook_endpoint", "foreign_webhook_endpoint", "webhook_delivery", "foreign_webhook_delivery":
		// Endpoints made in the database, so that the matrix stays under the
		// limit that createWebhookEndpoint checks; deliveries FAILED, to replay.
		org := f.org
		if strings.HasPrefix(kind, "foreign_") {
			org = f.other
		}
		ep := c.WebhookEndpoint.Create().SetOrganizationID(org.ID).SetURL("http://127.0.0.1:9/matrix").
			SetEventTypes([]string{"member.joined"}).SetPermissions([]string{access.MembersView}).SetSecret("whsec_bWF0cml4").SaveX(ctx)
		vars["target"] = ep.ID
		if strings.HasSuffix(kind, "_delivery") {
			now := time.Now()
			vars["target"] = c.WebhookDelivery.Create().SetOrganizationID(org.ID).SetEndpointID(ep.ID).SetEventType("member.joined").
				SetTargetType("Membership").SetTargetID(string(f.members["guest"])).SetOccurredAt(now).SetQueuedAt(now).
				SetNextAttemptAt(now).SetCreatedAt(now).SetStatus(webhookdelivery.StatusFAILED).SaveX(ctx).ID
		}
	case "foreign_apikey":
		_, vars["target"] = createKey(t, f.s, f.other.Owner.Token, map[string]any{"name": fmt.Sprintf("Foreign key %d", f.n), "permissions": []any{access.MembersView}})
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
				want, ok := row.Expect[v]
				vars := f.setup(t, row.Setup)
				r := f.s.Do(t, f.tokens[v], row.Query, used(row.Query, vars))
				if !ok && os.Getenv("MATRIX_RECORD") != "" {
					t.Logf("record %s %q as %s: %s", row.Field, row.Setup, v, observed(r, row.Path))
					continue
				}
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

// observed describes a response as an expectation would (MATRIX_RECORD=1 prints
// it for cells without one, to be reviewed before they are written down).
func observed(r *apptest.Response, path string) string {
	val, found := at(r.Data, path)
	switch {
	case len(r.Errors) > 0:
		return r.Errors[0].Code()
	case !found || string(val) == "null":
		return "null"
	case strings.HasSuffix(path, "#") || strings.HasSuffix(path, "totalCount"):
		return "=" + string(val)
	}
	return "ok"
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
