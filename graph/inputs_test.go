package graph_test

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"staffroom/ent/invoice"
	"staffroom/graph"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// writableInputFields is every field a client may set through a mutation's
// input. A field added to an input type fails TestInputsCarryOnlyClientFields
// until it is listed here, after asking: may every holder of the mutation's
// permission set it? Timestamps, ids of server-owned records and states never
// belong here: states change through their own mutations and permissions.
var writableInputFields = map[string]bool{
	"AcceptInvitationInput.firstName": true, "AcceptInvitationInput.lastName": true,
	"AcceptInvitationInput.password": true, "AcceptInvitationInput.phone": true, "AcceptInvitationInput.token": true,
	"CreateModulePermissionInput.key": true, "CreateModulePermissionInput.name": true,
	"CreateModulePermissionInput.description": true, "CreateModulePermissionInput.app": true,
	"UpdateModulePermissionInput.name": true, "UpdateModulePermissionInput.description": true, "UpdateModulePermissionInput.app": true,
	"CreateWebhookEndpointInput.url": true, "CreateWebhookEndpointInput.description": true,
	"CreateWebhookEndpointInput.eventTypes": true, "CreateWebhookEndpointInput.permissions": true,
	"UpdateWebhookEndpointInput.url": true, "UpdateWebhookEndpointInput.description": true, "UpdateWebhookEndpointInput.eventTypes": true,
	"CreateAPIKeyInput.name": true, "CreateAPIKeyInput.permissions": true, "CreateAPIKeyInput.expiresInDays": true,
	"CreateGroupInput.description": true, "CreateGroupInput.kind": true, "CreateGroupInput.name": true,
	"CreateInvoiceInput.amountCents": true, "CreateInvoiceInput.currency": true,
	"CreateInvoiceInput.customerName": true, "CreateInvoiceInput.number": true,
	"CreateOrganizationInput.name": true, "CreateOrganizationInput.preset": true,
	"CreateOrganizationInput.slug": true, "CreateOrganizationInput.timezone": true,
	"CreateRoleInput.description": true, "CreateRoleInput.groupScope": true, "CreateRoleInput.key": true,
	"CreateRoleInput.manageRoleIds": true, "CreateRoleInput.name": true, "CreateRoleInput.permissions": true,
	"InvitationTemplateInput.html": true, "InvitationTemplateInput.subject": true, "InvitationTemplateInput.text": true,
	"InviteMemberInput.email": true, "InviteMemberInput.firstName": true, "InviteMemberInput.grants": true,
	"InviteMemberInput.groupIds": true, "InviteMemberInput.lastName": true, "InviteMemberInput.phone": true,
	"InviteMemberInput.roleId": true,
	"LogInInput.email":         true, "LogInInput.organizationId": true, "LogInInput.password": true,
	"SendMessageInput.bccMemberIds": true, "SendMessageInput.body": true, "SendMessageInput.ccMemberIds": true,
	"SendMessageInput.channel": true, "SendMessageInput.groupIds": true, "SendMessageInput.memberIds": true,
	"SendMessageInput.subject": true, "SendMessageInput.templateId": true,
	"CreateMessageTemplateInput.name": true, "CreateMessageTemplateInput.channel": true,
	"CreateMessageTemplateInput.subject": true, "CreateMessageTemplateInput.body": true,
	"UpdateMessageTemplateInput.name": true, "UpdateMessageTemplateInput.channel": true,
	"UpdateMessageTemplateInput.subject": true, "UpdateMessageTemplateInput.body": true,
	"UpdateMessagingSettingsInput.requireVerifiedPhone": true,
	"SignUpInput.email": true, "SignUpInput.firstName": true, "SignUpInput.lastName": true,
	"SignUpInput.password": true, "SignUpInput.phone": true,
	"UpdateBillingInput.billingEmail": true, "UpdateBillingInput.paymentMethodSummary": true,
	"UpdateBillingInput.plan": true, "UpdateBillingInput.seats": true,
	"UpdateGroupInput.description": true, "UpdateGroupInput.kind": true, "UpdateGroupInput.name": true,
	"UpdateMemberInput.grants": true, "UpdateMemberInput.groupScope": true, "UpdateMemberInput.revokes": true,
	"UpdateMemberInput.grantExpiries": true, "GrantExpiryInput.permission": true, "GrantExpiryInput.until": true,
	"UpdateMemberInput.roleId": true, "UpdateMemberInput.title": true, "UpdateMemberInput.username": true,
	"UpdateMemberInput.firstName": true, "UpdateMemberInput.lastName": true, "UpdateMemberInput.phone": true,
	"UpdateOrganizationInput.instructorMessage": true, "UpdateOrganizationInput.name": true,
	"UpdateOrganizationInput.requiredMemberFields": true, "UpdateProfileInput.firstName": true,
	"UpdateOrganizationInput.phone": true, "UpdateOrganizationInput.timezone": true,
	"UpdateProfileInput.lastName": true, "UpdateProfileInput.phone": true,
	"UpdateRoleInput.description": true, "UpdateRoleInput.manageRoleIds": true,
	"UpdateRoleInput.name": true, "UpdateRoleInput.permissions": true,
}

// serverOwnedName matches names that are never a client's to set, whatever the
// allowlist says: timestamps, states, ownership and secrets.
var serverOwnedName = regexp.MustCompile(`^(id|status|deliveryStatus|builtin|locked|sendCount|organizationID|authorId|createdById|approvedById|invitedById)$|At$|Hash$`)

// filterInput reports whether an input type is a filter or an ordering: they
// write nothing (their guarded fields are TestGuardedFieldsHaveNoSideChannel's).
func filterInput(name string) bool {
	return strings.HasSuffix(name, "WhereInput") || strings.HasSuffix(name, "Order")
}

// TestInputsCarryOnlyClientFields walks every input type of the schema.
func TestInputsCarryOnlyClientFields(t *testing.T) {
	schema := graph.NewSchema(graph.Deps{}).Schema()
	seen := map[string]bool{}
	var unlisted []string
	for _, def := range schema.Types {
		if def.Kind != ast.InputObject || filterInput(def.Name) {
			continue
		}
		for _, f := range def.Fields {
			name := def.Name + "." + f.Name
			seen[name] = true
			if !writableInputFields[name] {
				unlisted = append(unlisted, name)
			}
			if serverOwnedName.MatchString(f.Name) && name != "LogInInput.organizationId" {
				t.Errorf("%s looks server-owned (a timestamp, state, owner or secret): clients must not set it", name)
			}
		}
	}
	sort.Strings(unlisted)
	for _, name := range unlisted {
		t.Errorf("%s is not in writableInputFields: may every holder of its mutation's permission set it?", name)
	}
	for name := range writableInputFields {
		if !seen[name] {
			t.Errorf("writableInputFields lists %s, which the schema no longer has", name)
		}
	}
}

// TestStateAndTimestampsCannotBeSet replays the reported attack: an attendant
// without invoices.refund creating a refunded, back-dated invoice, and groups
// with chosen timestamps. The schema refuses the fields and nothing is written.
func TestStateAndTimestampsCannotBeSet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Till Club", "ACTIVITY")
		attendant := org.AddMember(t, "attendant", "Ann", "Till")
		for _, q := range []string{
			`mutation { createInvoice(input: {number: "R-1", customerName: "Jo", amountCents: 100, currency: "EUR", status: REFUNDED}) { id } }`,
			`mutation { createInvoice(input: {number: "R-1", customerName: "Jo", amountCents: 100, currency: "EUR", createdAt: "2001-01-01T00:00:00Z"}) { id } }`,
			`mutation { createGroup(input: {name: "Back-dated", createdAt: "2001-01-01T00:00:00Z"}) { id } }`,
		} {
			token := attendant.Token
			if strings.Contains(q, "createGroup") {
				token = org.Owner.Token
			}
			r := s.Do(t, token, q, nil)
			// The document does not validate: the field does not exist.
			if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "not defined") {
				t.Errorf("%s: want a validation error, got %v %s", q, r.Codes(), r.Data)
			}
		}
		ctx := access.SystemContext(context.Background(), "test")
		if n := s.DB.Client.Invoice.Query().Where(invoice.OrganizationID(org.ID)).CountX(ctx); n != 0 {
			t.Errorf("%d invoices were written", n)
		}
		r := s.MustDo(t, attendant.Token, `mutation { createInvoice(input: {number: "R-2", customerName: "Jo", amountCents: 100, currency: "EUR"}) { status } }`, nil)
		if !strings.Contains(string(r.Data), `"OPEN"`) {
			t.Errorf("a new invoice is OPEN: %s", r.Data)
		}
		refund := s.Do(t, attendant.Token, `mutation($id: ID!) { refundInvoice(id: $id) { id } }`, map[string]any{
			"id": s.DB.Client.Invoice.Query().Where(invoice.OrganizationID(org.ID)).OnlyIDX(ctx)})
		if len(refund.Errors) == 0 || refund.Errors[0].Code() != "FORBIDDEN" {
			t.Errorf("refund without invoices.refund: %v", refund.Codes())
		}
	})
}
