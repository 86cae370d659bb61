package graph_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"staffroom/graph"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// sideChannel says how a guarded field gets a value: a mutation that the owner
// runs to write marker into it. A field without one says why (reason).
type sideChannel struct {
	write  string
	marker string
	reason string
}

// sideChannels has a row for every guarded field of the schema (a test fails
// when one is missing).
var sideChannels = map[string]sideChannel{
	"Organization.phone": {write: `mutation { updateOrganization(input: {phone: "+15550109871"}) { id } }`, marker: "+15550109871"},
	"Organization.billingEmail": {write: `mutation { updateBilling(input: {billingEmail: "ledger.marker@example.com"}) { plan } }`,
		marker: "ledger.marker@example.com"},
	"Organization.billing": {write: `mutation { updateBilling(input: {plan: "plan-marker-77", paymentMethodSummary: "Visa marker 4242"}) { plan } }`,
		marker: "plan-marker-77"},
	"Organization.invitationTemplate": {write: `mutation { updateInvitationTemplate(input: {subject: "Subject marker 88"}) { subject } }`,
		marker: "Subject marker 88"},
	"Organization.invitations": {write: `mutation($role: ID!) { inviteMember(input: {email: "invitee.marker@example.com", firstName: "In", lastName: "Vitee", phone: "+15550104242", roleId: $role}) { inviteLink } }`,
		marker: "invitee.marker@example.com"},
	"User.email": {write: `mutation($role: ID!) { inviteMember(input: {email: "contact.marker@example.com", firstName: "Con", lastName: "Tact", roleId: $role}) { inviteLink } }`,
		marker: "contact.marker@example.com"},
	"User.phone": {write: `mutation($role: ID!) { inviteMember(input: {email: "phone.holder@example.com", firstName: "Pho", lastName: "Ne", phone: "+15550107777", roleId: $role}) { inviteLink } }`,
		marker: "+15550107777"},
	"Organization.invoices": {write: `mutation { createInvoice(input: {number: "INV-MARKER-5", customerName: "Marker Customer", amountCents: 4242, currency: "EUR"}) { id } }`,
		marker: "INV-MARKER-5"},
	"Organization.auditEvents":     {reason: "the audit log itself: its rows are the channel under test"},
	"Organization.accessReview":    {reason: "lists members, roles and invitations, whose own fields have rows here"},
	"Membership.locked":            {reason: "a login's lock state; no mutation writes it into event data, filters or orderings"},
	"Query.previewMessageTemplate": {reason: "renders the input it is given with the viewer's own name; it reads no stored value"},
	"Message.cc":                   {reason: "lists members, whose own fields have rows here; CC deliveries are visible to whoever sees the message"},
	"Message.bcc":                  {reason: "lists members, whose own fields have rows here; BCC deliveries are hidden by the same rule in privacy"},
	"User.phoneVerified":           {reason: "whether a login proved its number; codes and proofs are never in event data, filters or orderings"},
	"Query.explainPermission":      {reason: "explains permissions, which members.view shows on Membership.permissions anyway"},
	"Organization.apiKeys": {write: `mutation { createAPIKey(input: {name: "Key marker 93", permissions: ["members.view"]}) { key } }`,
		marker: "Key marker 93"},
	"AccessReview.apiKeys": {reason: "the keys of Organization.apiKeys, under the same permission"},
	"Organization.webhookEndpoints": {write: `mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/endpoint-marker-57", eventTypes: ["group.*"]}) { secret } }`,
		marker: "endpoint-marker-57"},
	"Query.checkAccess": {reason: "explains permissions, as explainPermission does; its member and group are read with the asker's privacy"},
}

// TestGuardedFieldsHaveNoSideChannel derives, for every guarded field, that a
// viewer without its permission cannot learn its value another way: not from
// the audit log's data, not by filtering or ordering on it, not from a count,
// and not through explainPermission's member.
func TestGuardedFieldsHaveNoSideChannel(t *testing.T) {
	schema := graph.NewSchema(graph.Deps{}).Schema()
	guarded := graph.GuardedFields(schema)
	var fields []string
	for f := range guarded {
		if typ, _, _ := strings.Cut(f, "."); typ != "Mutation" {
			fields = append(fields, f)
		}
	}
	sort.Strings(fields)
	for _, f := range fields {
		if _, ok := sideChannels[f]; !ok {
			t.Errorf("no row in sideChannels for the guarded field %s: how does it get a value, and who may read it?", f)
		}
	}
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Side Channels", "ACTIVITY")
		owner := org.Owner.Token
		s.MustDo(t, owner, `mutation { createRole(input: {key: "auditor", name: "Auditor", permissions: ["audit.view"]}) { id } }`, nil)
		readers := map[string]*apptest.Member{
			"auditor":             org.AddMember(t, "auditor", "Audrey", "Auditor"),
			"administrator":       org.AddMember(t, "administrator", "Adam", "Admin"),
			"communication_agent": org.AddMember(t, "communication_agent", "Cora", "Agent"),
		}
		perms := map[string]map[string]bool{}
		for name, m := range readers {
			var out struct {
				Viewer struct{ Permissions []string }
			}
			s.MustDo(t, m.Token, `{ viewer { permissions } }`, nil).Decode(t, &out)
			perms[name] = map[string]bool{}
			for _, p := range out.Viewer.Permissions {
				perms[name][p] = true
			}
		}
		var roles struct {
			Viewer struct {
				Organization struct{ Roles []struct{ ID, Key string } }
			}
		}
		s.MustDo(t, owner, `{ viewer { organization { roles { id key } } } }`, nil).Decode(t, &roles)
		vars := map[string]any{}
		for _, r := range roles.Viewer.Organization.Roles {
			if r.Key == "guest" {
				vars["role"] = r.ID
			}
		}
		for _, f := range fields {
			if c := sideChannels[f]; c.write != "" {
				s.MustDo(t, owner, c.write, used(c.write, vars))
			}
		}

		audit := `{ viewer { organization { auditEvents(first: 100) { totalCount edges { node { action data } } } } } }`
		for _, f := range fields {
			c, permission := sideChannels[f], guarded[f]
			if c.marker == "" {
				continue
			}
			for name, m := range readers {
				if perms[name][permission] {
					continue
				}
				if perms[name]["audit.view"] {
					r := s.MustDo(t, m.Token, audit, nil)
					if strings.Contains(string(r.Data), c.marker) {
						t.Errorf("%s without %s reads %s's value %q in the audit log", name, permission, f, c.marker)
					}
					if !strings.Contains(string(r.Data), `"[redacted]"`) {
						t.Errorf("%s: the audit log shows no redaction at all, so the test proves nothing: %s", name, r.Data)
					}
				}
				if perms[name]["members.view"] {
					r := s.MustDo(t, m.Token, `query($id: ID!) { explainPermission(memberId: $id, permission: "billing.view") { member { user { email phone } } } }`,
						map[string]any{"id": readers["administrator"].MembershipID})
					if strings.Contains(string(r.Data), c.marker) {
						t.Errorf("%s reads %s through explainPermission", name, f)
					}
				}
			}
		}
		// The owner reads every value: the markers were written.
		r := s.MustDo(t, owner, audit, nil)
		for _, f := range []string{"Organization.billingEmail", "Organization.invoices", "User.email"} {
			if !strings.Contains(string(r.Data), sideChannels[f].marker) {
				t.Errorf("the owner does not see %s's marker in the audit log: %s", f, r.Data)
			}
		}

		// Filters and orderings on a guarded field are refused to a reader
		// without its permission, wherever the schema has them.
		for arg, permission := range graph.GuardedArguments(schema) {
			query := filterQuery(schema, arg)
			if query == "" {
				t.Errorf("%s guards an argument that no field of Organization takes: extend filterQuery", arg)
				continue
			}
			for name, m := range readers {
				if perms[name][permission] {
					continue
				}
				if r := s.Do(t, m.Token, query, nil); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
					t.Errorf("%s filters on %s without %s: %v %s", name, arg, permission, r.Codes(), r.Data)
				}
			}
		}

		// Counts of guarded lists are guarded too.
		for _, conn := range []string{"invitations", "invoices", "auditEvents"} {
			for name, m := range readers {
				permission := guarded["Organization."+conn]
				if perms[name][permission] {
					continue
				}
				q := fmt.Sprintf(`{ viewer { organization { %s { totalCount } } } }`, conn)
				if r := s.Do(t, m.Token, q, nil); !strings.Contains(string(r.Data), `"`+conn+`":null`) {
					t.Errorf("%s counts %s without %s: %s", name, conn, permission, r.Data)
				}
			}
		}
	})
}

// filterQuery returns a query of the organization's connections that uses a
// guarded argument: "XWhereInput.field" or "XOrderField.VALUE".
func filterQuery(schema *ast.Schema, arg string) string {
	typ, name, _ := strings.Cut(arg, ".")
	for _, f := range schema.Types["Organization"].Fields {
		for _, a := range f.Arguments {
			switch {
			case a.Type.Name() == typ:
				value := `"x"`
				if in := schema.Types[typ].Fields.ForName(name); in != nil {
					switch {
					case in.Type.Elem != nil:
						value = "[]"
					case in.Type.Name() == "Boolean":
						value = "true"
					case in.Type.Name() == "Int":
						value = "1"
					}
				}
				return fmt.Sprintf(`{ viewer { organization { %s(%s: {%s: %s}) { totalCount } } } }`, f.Name, a.Name, name, value)
			case strings.TrimSuffix(a.Type.Name(), "Order")+"OrderField" == typ && a.Type.Name() != typ:
				return fmt.Sprintf(`{ viewer { organization { %s(%s: {field: %s}) { totalCount } } } }`, f.Name, a.Name, name)
			}
		}
	}
	return ""
}
