package graph_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"staffroom/ent/invitation"
	"staffroom/ent/membership"
	"staffroom/ent/outboxemail"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

const inviteMutation = `mutation($in: InviteMemberInput!) { inviteMember(input: $in) {
	inviteLink invitation { id status deliveryStatus sendCount role { key } } } }`

type invited struct {
	InviteMember struct {
		InviteLink string
		Invitation struct {
			ID             pulid.ID
			Status         string
			DeliveryStatus string
		}
	}
}

func invite(t *testing.T, f *matrixFixture, token, email string, roleVar string) invited {
	t.Helper()
	r := f.s.MustDo(t, token, inviteMutation, map[string]any{"in": map[string]any{
		"email": email, "firstName": "Zoë", "lastName": "Ångström", "phone": "+33 1 23 45 67 89", "roleId": f.vars[roleVar],
		"groupIds": []any{f.vars["class0"]},
	}})
	var out invited
	r.Decode(t, &out)
	return out
}

// deliver runs the outbox worker until the queue is empty.
func deliver(t *testing.T, s *apptest.Server) {
	t.Helper()
	for {
		n, err := s.App.Outbox.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func tokenOf(link string) string {
	_, token, _ := strings.Cut(link, "token=")
	return strings.Fields(token)[0]
}

func lastEmailTo(t *testing.T, s *apptest.Server, to string) string {
	t.Helper()
	sent := s.Mail.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].To == to {
			return sent[i].Text
		}
	}
	t.Fatalf("no email to %s", to)
	return ""
}

const acceptMutation = `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) {
	accessToken viewer { organization { name } membership { username role { key } groups { name } } memberships { organization { name } } } } }`

func TestInvitationEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		inv := invite(t, f, f.tokens["administrator"], "Zoe@Example.com", "instructorRole")
		if inv.InviteMember.Invitation.Status != "PENDING" || inv.InviteMember.Invitation.DeliveryStatus != "QUEUED" {
			t.Fatalf("invitation = %+v", inv.InviteMember.Invitation)
		}
		deliver(t, s)
		email := lastEmailTo(t, s, "zoe@example.com")
		if !strings.Contains(email, "Acme Activities") || !strings.Contains(email, "Instructor") {
			t.Errorf("email does not say who invites as what: %q", email)
		}
		token := tokenOf(email)
		// The shareable link proves nothing about the address: it is another token.
		if token == tokenOf(inv.InviteMember.InviteLink) {
			t.Error("the emailed link is the shared link")
		}
		r := s.MustDo(t, f.tokens["administrator"], `query($org: ID!) { node(id: $org) { ... on Organization { invitations { edges { node { deliveryStatus } } } } } }`,
			map[string]any{"org": f.org.ID})
		if !strings.Contains(string(r.Data), `"SENT"`) {
			t.Errorf("delivery status not recorded: %s", r.Data)
		}

		r = s.MustDo(t, "", `query($t: String!) { invitation(token: $t) { organizationName inviterName roleName email existingAccount } }`, map[string]any{"t": token})
		if string(r.Data) != `{"invitation":{"organizationName":"Acme Activities","inviterName":"Test administrator","roleName":"Instructor","email":"zoe@example.com","existingAccount":false}}` {
			t.Errorf("preview = %s", r.Data)
		}

		// Resend invalidates the old link.
		resent := s.Do(t, f.tokens["administrator"], `mutation($id: ID!) { resendInvitation(id: $id) { inviteLink } }`,
			map[string]any{"id": inv.InviteMember.Invitation.ID})
		if !slices.Equal(resent.Codes(), []string{"RATE_LIMITED"}) {
			t.Errorf("resend within a minute: %v", resent.Codes())
		}
		ctx := access.SystemContext(context.Background(), "test")
		s.DB.Client.Invitation.UpdateOneID(inv.InviteMember.Invitation.ID).ClearLastSentAt().ExecX(ctx)
		resent = s.MustDo(t, f.tokens["administrator"], `mutation($id: ID!) { resendInvitation(id: $id) { inviteLink } }`,
			map[string]any{"id": inv.InviteMember.Invitation.ID})
		var out struct{ ResendInvitation struct{ InviteLink string } }
		resent.Decode(t, &out)
		if r := s.Do(t, "", `query($t: String!) { invitation(token: $t) { email } }`, map[string]any{"t": token}); !slices.Equal(r.Codes(), []string{"INVITATION_INVALID"}) {
			t.Errorf("old link after resend: %v", r.Codes())
		}

		r = s.MustDo(t, "", acceptMutation, map[string]any{"in": map[string]any{
			"token": tokenOf(out.ResendInvitation.InviteLink), "password": "a long enough passphrase"}})
		var acc struct {
			AcceptInvitation struct {
				AccessToken string
				Viewer      struct {
					Organization struct{ Name string }
					Membership   struct {
						Username string
						Role     struct{ Key string }
						Groups   []struct{ Name string }
					}
				}
			}
		}
		r.Decode(t, &acc)
		got := acc.AcceptInvitation.Viewer
		if got.Organization.Name != "Acme Activities" || got.Membership.Role.Key != "instructor" ||
			got.Membership.Username != "Zoe.Angstrom" || len(got.Membership.Groups) != 1 {
			t.Errorf("after accepting: %+v", got)
		}
		// The link is single use.
		r = s.Do(t, "", acceptMutation, map[string]any{"in": map[string]any{
			"token": tokenOf(out.ResendInvitation.InviteLink), "password": "a long enough passphrase"}})
		if !slices.Equal(r.Codes(), []string{"INVITATION_INVALID"}) {
			t.Errorf("second accept: %v", r.Codes())
		}
	})
}

func TestExistingLoginJoinsAnotherOrganization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		ada := s.SignUp(t, "ada@example.com", "Ada", "Lovelace")
		bob := s.SignUp(t, "bob@example.com", "Bob", "Builder")
		inv := invite(t, f, f.tokens["owner"], "ada@example.com", "administratorRole")
		token := tokenOf(inv.InviteMember.InviteLink)

		r := s.Do(t, bob.Token, acceptMutation, map[string]any{"in": map[string]any{"token": token}})
		if !slices.Equal(r.Codes(), []string{"INVITATION_INVALID"}) || !strings.Contains(r.Errors[0].Message, "ada@example.com") {
			t.Errorf("accepting someone else's invitation: %+v", r.Errors)
		}
		r = s.MustDo(t, ada.Token, acceptMutation, map[string]any{"in": map[string]any{"token": token}})
		if !strings.Contains(string(r.Data), `"memberships":[{"organization":{"name":"Acme Activities"}}]`) {
			t.Errorf("switcher after joining: %s", r.Data)
		}
		// Accepting again as the same person is not an error; as anyone else it is.
		if r := s.Do(t, ada.Token, acceptMutation, map[string]any{"in": map[string]any{"token": token}}); len(r.Errors) != 0 {
			t.Errorf("accepting twice: %v", r.Codes())
		}
		if r := s.Do(t, bob.Token, acceptMutation, map[string]any{"in": map[string]any{"token": token}}); !slices.Equal(r.Codes(), []string{"INVITATION_INVALID"}) {
			t.Errorf("someone else reusing an accepted link: %v", r.Codes())
		}
	})
}

func TestParallelAcceptsMakeOneMembership(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		inv := invite(t, f, f.tokens["owner"], "many@example.com", "guestRole")
		token := tokenOf(inv.InviteMember.InviteLink)
		var wg sync.WaitGroup
		ok := make([]bool, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.Do(t, "", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { accessToken } }`,
					map[string]any{"in": map[string]any{"token": token, "password": "a long enough passphrase", "firstName": "Many"}})
				ok[i] = len(r.Errors) == 0
				// RATE_LIMITED: the login that the first accept made was
				// checking other passwords at that moment.
				if !ok[i] && !slices.Equal(r.Codes(), []string{"INVITATION_INVALID"}) && !slices.Equal(r.Codes(), []string{"RATE_LIMITED"}) {
					t.Errorf("parallel accept: %v", r.Codes())
				}
			}()
		}
		wg.Wait()
		ctx := access.SystemContext(context.Background(), "test")
		n := s.DB.Client.Membership.Query().Where(membership.OrganizationID(f.org.ID), membership.Username("Many.Angstrom")).CountX(ctx)
		accepted := 0
		for _, o := range ok {
			if o {
				accepted++
			}
		}
		if n != 1 || accepted != 1 {
			t.Errorf("%d memberships, %d successful accepts; want 1 and 1", n, accepted)
		}
	})
}

// Namesakes joining at the same moment each get their own First.Last username,
// rather than one of them an error from the unique index.
func TestParallelNamesakesGetDistinctUsernames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		const n = 8
		tokens := make([]string, n)
		for i := range tokens {
			tokens[i] = tokenOf(invite(t, f, f.tokens["owner"], fmt.Sprintf("namesake%d@example.com", i), "guestRole").InviteMember.InviteLink)
		}
		var wg sync.WaitGroup
		for _, token := range tokens {
			wg.Go(func() {
				r := s.Do(t, "", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { accessToken } }`,
					map[string]any{"in": map[string]any{"token": token, "password": "a long enough passphrase"}})
				if len(r.Errors) != 0 {
					t.Errorf("accept: %v", r.Codes())
				}
			})
		}
		wg.Wait()
		ctx := access.SystemContext(context.Background(), "test")
		got := s.DB.Client.Membership.Query().Where(membership.OrganizationID(f.org.ID),
			membership.UsernameHasPrefix("Zoe.Angstrom")).Select(membership.FieldUsername).StringsX(ctx)
		want := []string{"Zoe.Angstrom"}
		for i := 2; i <= n; i++ {
			want = append(want, fmt.Sprintf("Zoe.Angstrom.%d", i))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("usernames %v, want %v", got, want)
		}
	})
}

func TestImportDryRunWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		csv := "first_name,last_name,email,phone,role\n" +
			"Ann,Able,ann@example.com,,instructor\n" +
			"Bad,Email,not-an-email,,instructor\n" +
			"Uno,Known,uno@example.com,,astronaut\n" +
			"Too,High,high@example.com,,administrator\n" +
			"Ann,Again,ANN@example.com,,guest\n"
		r := s.MustDo(t, f.tokens["administrator"], `mutation($csv: String!) { importMembers(csv: $csv, dryRun: true) {
			dryRun invited rows { line email error { code field } } } }`, map[string]any{"csv": csv})
		var out struct {
			ImportMembers struct {
				DryRun  bool
				Invited int
				Rows    []struct {
					Line  int
					Error *struct{ Code, Field string }
				}
			}
		}
		r.Decode(t, &out)
		rep := out.ImportMembers
		var codes []string
		for _, row := range rep.Rows {
			c := "ok"
			if row.Error != nil {
				c = row.Error.Code + ":" + row.Error.Field
			}
			codes = append(codes, fmt.Sprintf("%d %s", row.Line, c))
		}
		want := []string{"2 ok", "3 BAD_USER_INPUT:email", "4 BAD_USER_INPUT:role", "5 FORBIDDEN:", "6 BAD_USER_INPUT:email"}
		if !rep.DryRun || rep.Invited != 1 || !slices.Equal(codes, want) {
			t.Errorf("report = %v (invited %d), want %v", codes, rep.Invited, want)
		}
		ctx := access.SystemContext(context.Background(), "test")
		if n := s.DB.Client.Invitation.Query().CountX(ctx); n != 0 {
			t.Errorf("dry run wrote %d invitations", n)
		}
		if n := s.DB.Client.OutboxEmail.Query().Where(outboxemail.StatusEQ(outboxemail.StatusQUEUED)).CountX(ctx); n != 0 {
			t.Errorf("dry run queued %d emails", n)
		}
		r = s.MustDo(t, f.tokens["administrator"], `mutation($csv: String!) { importMembers(csv: $csv) { invited } }`, map[string]any{"csv": csv})
		if n := s.DB.Client.Invitation.Query().Where(invitation.StatusEQ(invitation.StatusPENDING)).CountX(ctx); n != 1 {
			t.Errorf("import wrote %d invitations, want 1", n)
		}
	})
}

func TestRemovedMemberKeepsHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		author := memberID(t, f, "communication_agent")
		s.MustDo(t, f.tokens["communication_agent"], `mutation($g: ID!) { sendMessage(input: {body: "Before I go", groupIds: [$g]}) { id } }`,
			map[string]any{"g": f.vars["class0"]})
		s.MustDo(t, f.tokens["owner"], `mutation($id: ID!) { updateMember(id: $id, input: {title: "Comms"}) { id } }`, map[string]any{"id": author})
		s.MustDo(t, f.tokens["owner"], `mutation($id: ID!) { removeMember(id: $id) { removedAt } }`, map[string]any{"id": author})

		if r := s.Do(t, f.tokens["communication_agent"], `{ viewer { organization { id } } }`, nil); strings.Contains(string(r.Data), string(f.org.ID)) {
			t.Errorf("removed member still acts in the organization: %s", r.Data)
		}
		r := s.MustDo(t, f.tokens["owner"], `{ viewer { organization {
			messages(where: {body: "Before I go"}) { edges { node { author { id removedAt user { name } } } } }
			auditEvents(where: {action: "member.removed"}) { edges { node { targetId actor { id } } } }
		} } }`, nil)
		if !strings.Contains(string(r.Data), `"author":{"id":"`+string(author)) || !strings.Contains(string(r.Data), `"targetId":"`+string(author)) {
			t.Errorf("history lost: %s", r.Data)
		}
		// The removed member's login and other memberships are untouched.
		if r := s.Do(t, f.tokens["communication_agent"], `{ viewer { user { name } } }`, nil); len(r.Errors) != 0 {
			t.Errorf("removed member's login broke: %v", r.Codes())
		}
	})
}

func TestLastOwnerCannotLeaveOrBeDisabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		owner := memberID(t, f, "owner")
		if r := s.Do(t, f.tokens["owner"], `mutation { leaveOrganization }`, nil); !slices.Equal(r.Codes(), []string{"LAST_OWNER"}) {
			t.Errorf("last owner leaves: %v", r.Codes())
		}
		admin := memberID(t, f, "administrator")
		r := s.MustDo(t, f.tokens["owner"], `mutation($id: ID!) { transferOwnership(memberId: $id) { role { key } } }`, map[string]any{"id": admin})
		if !strings.Contains(string(r.Data), `"owner"`) {
			t.Errorf("transfer: %s", r.Data)
		}
		// The former owner is an administrator now and cannot touch the new owner:
		// FORBIDDEN, before the last-owner rule could tell them anything.
		if r := s.Do(t, f.tokens["owner"], `mutation($id: ID!) { disableMember(id: $id) { id } }`, map[string]any{"id": admin}); !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) {
			t.Errorf("disabling the only owner: %v", r.Codes())
		}
		if r := s.Do(t, f.tokens["administrator"], `mutation($id: ID!) { disableMember(id: $id) { status } }`, map[string]any{"id": owner}); len(r.Errors) != 0 {
			t.Errorf("new owner disables the former one: %v", r.Codes())
		}
	})
}

func TestInvitationTemplate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		r := s.Do(t, f.tokens["owner"], `mutation { updateInvitationTemplate(input: {subject: "Join {{.Club}}"}) { subject } }`, nil)
		if !slices.Equal(r.Codes(), []string{"BAD_USER_INPUT"}) || r.Errors[0].Extensions["field"] != "subject" {
			t.Errorf("unknown placeholder: %+v", r.Errors)
		}
		s.MustDo(t, f.tokens["owner"], `mutation { updateOrganization(input: {name: "<b>Acme</b> & Co"}) { id } }`, nil)
		s.MustDo(t, f.tokens["owner"], `mutation { updateInvitationTemplate(input: {html: "<p>Join {{.Organization}} via {{.Link}}</p>"}) { subject } }`, nil)
		invite(t, f, f.tokens["owner"], "esc@example.com", "guestRole")
		deliver(t, s)
		for _, m := range s.Mail.Sent() {
			if m.To == "esc@example.com" && !strings.Contains(m.HTML, "&lt;b&gt;Acme&lt;/b&gt; &amp; Co") {
				t.Errorf("HTML is not escaped: %s", m.HTML)
			}
		}
	})
}

func TestAuditLogIsAppendOnlyAndFiltered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		admin := memberID(t, f, "administrator")
		s.MustDo(t, f.tokens["administrator"], `mutation($id: ID!) { disableMember(id: $id) { id } }`, map[string]any{"id": f.vars["guest"]})
		s.MustDo(t, f.tokens["administrator"], `mutation($id: ID!) { enableMember(id: $id) { id } }`, map[string]any{"id": f.vars["guest"]})
		s.MustDo(t, f.tokens["owner"], `mutation { updateBilling(input: {seats: 12}) { seats } }`, nil)
		r := s.MustDo(t, f.tokens["owner"], `query($a: ID!) { viewer { organization {
			auditEvents(where: {actorID: $a}, orderBy: {field: CREATED_AT, direction: ASC}) { edges { node { action targetId ip } } }
		} } }`, map[string]any{"a": admin})
		var out struct {
			Viewer struct {
				Organization struct {
					AuditEvents struct {
						Edges []struct {
							Node struct{ Action, TargetID, IP string }
						}
					}
				}
			}
		}
		r.Decode(t, &out)
		var actions []string
		for _, e := range out.Viewer.Organization.AuditEvents.Edges {
			actions = append(actions, e.Node.Action)
			if e.Node.TargetID != string(f.vars["guest"].(pulid.ID)) || e.Node.IP == "" {
				t.Errorf("event %+v lacks its target or address", e.Node)
			}
		}
		if !slices.Equal(actions, []string{"member.disabled", "member.enabled"}) {
			t.Errorf("the administrator's events = %v", actions)
		}
		r = s.MustDo(t, f.tokens["owner"], `{ viewer { organization { auditEvents(where: {action: "billing.updated"}) { edges { node { data } } } } } }`, nil)
		if !strings.Contains(string(r.Data), `"seats":{"after":12,"before":0}`) {
			t.Errorf("billing event data = %s", r.Data)
		}
		// No path changes an event, the system context included.
		ctx := access.SystemContext(context.Background(), "test")
		if _, err := s.DB.Client.AuditEvent.Update().Save(ctx); err == nil {
			t.Error("audit events were updated")
		}
		if _, err := s.DB.Client.AuditEvent.Delete().Exec(ctx); err == nil {
			t.Error("audit events were deleted")
		}
	})
}

func TestMessagesWaitForApproval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		// The instructor lacks messages.send once it is revoked: the message waits.
		s.MustDo(t, f.tokens["owner"], `mutation($id: ID!) { updateMember(id: $id, input: {revokes: ["messages.send"]}) { id } }`,
			map[string]any{"id": f.vars["instructor"]})
		r := s.MustDo(t, f.tokens["instructor"], `mutation($g: ID!) { sendMessage(input: {subject: "Trip", body: "Bring boots", groupIds: [$g]}) { id status } }`,
			map[string]any{"g": f.vars["class0"]})
		var sent struct {
			SendMessage struct {
				ID     pulid.ID
				Status string
			}
		}
		r.Decode(t, &sent)
		if sent.SendMessage.Status != "PENDING_APPROVAL" {
			t.Fatalf("status = %s", sent.SendMessage.Status)
		}
		// Groups the sender cannot see are not recipients.
		r = s.Do(t, f.tokens["instructor"], `mutation($g: ID!) { sendMessage(input: {body: "x", groupIds: [$g]}) { id } }`,
			map[string]any{"g": f.vars["class3"]})
		if !slices.Equal(r.Codes(), []string{"NOT_FOUND"}) {
			t.Errorf("message to an unseen group: %v", r.Codes())
		}
		r = s.MustDo(t, f.tokens["administrator"], `mutation($id: ID!) { approveMessage(id: $id) { status sentAt } }`,
			map[string]any{"id": sent.SendMessage.ID})
		if !strings.Contains(string(r.Data), `"status":"SENT"`) {
			t.Errorf("approve: %s", r.Data)
		}
		r = s.Do(t, f.tokens["administrator"], `mutation($id: ID!) { approveMessage(id: $id) { status } }`, map[string]any{"id": sent.SendMessage.ID})
		if !slices.Equal(r.Codes(), []string{"CONFLICT"}) {
			t.Errorf("approving twice: %v", r.Codes())
		}
	})
}

func TestRoleInUseCannotBeDeleted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		r := s.Do(t, f.tokens["owner"], `mutation($id: ID!) { deleteRole(id: $id) }`, map[string]any{"id": f.vars["instructorRole"]})
		if !slices.Equal(r.Codes(), []string{"CONFLICT"}) {
			t.Errorf("deleting a held role: %v", r.Codes())
		}
		r = s.Do(t, f.tokens["owner"], `mutation($id: ID!) { updateRole(id: $id, input: {name: "Boss"}) { id } }`, map[string]any{"id": ownerRole(t, f)})
		if !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) {
			t.Errorf("changing the owner role: %v", r.Codes())
		}
		r = s.MustDo(t, f.tokens["owner"], `{ viewer { organization { roles { key manages { key } } } } }`, nil)
		if !strings.Contains(string(r.Data), `{"key":"administrator","manages":[{"key":"instructor"},{"key":"instructor_no_messaging"},{"key":"guest"}]}`) {
			t.Errorf("roles = %s", r.Data)
		}
	})
}

func TestInvitationRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		s := f.s
		ctx := access.SystemContext(context.Background(), "test")
		owner := f.tokens["owner"]
		inviteCode := func(email, roleVar string) []string {
			return s.Do(t, owner, inviteMutation, map[string]any{"in": map[string]any{
				"email": email, "firstName": "Test", "lastName": "Instructor", "roleId": f.vars[roleVar]}}).Codes()
		}
		first := invite(t, f, owner, "dup@example.com", "guestRole")
		if c := inviteCode("DUP@example.com", "guestRole"); !slices.Equal(c, []string{"CONFLICT"}) {
			t.Errorf("second pending invitation: %v", c)
		}
		member := s.DB.Client.Membership.Query().Where(membership.ID(f.vars["instructor"].(pulid.ID))).WithUser().OnlyX(ctx)
		if c := inviteCode(member.Edges.User.Email, "guestRole"); !slices.Equal(c, []string{"CONFLICT"}) {
			t.Errorf("inviting an active member: %v", c)
		}

		accept := func(token string) []string {
			return s.Do(t, "", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { accessToken } }`,
				map[string]any{"in": map[string]any{"token": token, "password": "a long enough passphrase"}}).Codes()
		}
		s.MustDo(t, owner, `mutation($id: ID!) { revokeInvitation(id: $id) { status } }`, map[string]any{"id": first.InviteMember.Invitation.ID})
		if c := accept(tokenOf(first.InviteMember.InviteLink)); !slices.Equal(c, []string{"INVITATION_INVALID"}) {
			t.Errorf("revoked invitation: %v", c)
		}
		expiring := invite(t, f, owner, "late@example.com", "guestRole")
		s.DB.Client.Invitation.UpdateOneID(expiring.InviteMember.Invitation.ID).SetExpiresAt(time.Now().Add(-time.Minute)).ExecX(ctx)
		if c := accept(tokenOf(expiring.InviteMember.InviteLink)); !slices.Equal(c, []string{"INVITATION_INVALID"}) {
			t.Errorf("expired invitation: %v", c)
		}

		// An invitation made by an administrator who has since been demoted no
		// longer gives its role.
		byAdmin := invite(t, f, f.tokens["administrator"], "later@example.com", "instructorRole")
		s.MustDo(t, owner, `mutation($id: ID!, $r: ID!) { updateMember(id: $id, input: {roleId: $r}) { id } }`,
			map[string]any{"id": memberID(t, f, "administrator"), "r": f.vars["guestRole"]})
		if c := accept(tokenOf(byAdmin.InviteMember.InviteLink)); !slices.Equal(c, []string{"INVITATION_INVALID"}) {
			t.Errorf("invitation of a demoted inviter: %v", c)
		}

		// A removed member who is invited again gets their old membership back,
		// and a namesake gets a numbered username.
		s.MustDo(t, owner, `mutation($id: ID!) { removeMember(id: $id) { id } }`, map[string]any{"id": f.vars["instructor"]})
		again := invite(t, f, owner, member.Edges.User.Email, "instructorRole")
		r := s.MustDo(t, "", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { viewer { membership { id removedAt } } } }`,
			map[string]any{"in": map[string]any{"token": tokenOf(again.InviteMember.InviteLink), "password": apptest.Password}})
		if !strings.Contains(string(r.Data), `{"id":"`+string(f.vars["instructor"].(pulid.ID))+`","removedAt":null}`) {
			t.Errorf("re-joining did not restore the membership: %s", r.Data)
		}
		namesake := invite(t, f, owner, "namesake@example.com", "guestRole")
		r = s.MustDo(t, "", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { viewer { membership { username } } } }`,
			map[string]any{"in": map[string]any{"token": tokenOf(namesake.InviteMember.InviteLink), "password": "a long enough passphrase",
				"firstName": "Zoë", "lastName": "Ångström"}})
		first2 := invite(t, f, owner, "namesake2@example.com", "guestRole")
		r2 := s.MustDo(t, "", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { viewer { membership { username } } } }`,
			map[string]any{"in": map[string]any{"token": tokenOf(first2.InviteMember.InviteLink), "password": "a long enough passphrase",
				"firstName": "Zoe", "lastName": "Angstrom"}})
		if !strings.Contains(string(r.Data), `"Zoe.Angstrom"`) || !strings.Contains(string(r2.Data), `"Zoe.Angstrom.2"`) {
			t.Errorf("usernames: %s, %s", r.Data, r2.Data)
		}
	})
}
