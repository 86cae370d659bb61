package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"staffroom/ent/membership"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

const (
	setPassword     = `mutation($id: ID!, $p: String!) { setMemberPassword(memberId: $id, password: $p) { id } }`
	setEmail        = `mutation($id: ID!, $e: String!) { setMemberEmail(memberId: $id, email: $e) }`
	updateContact   = `mutation($id: ID!, $in: UpdateMemberInput!) { updateMember(id: $id, input: $in) { id user { name phone } } }`
	logInTemporary  = `mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) { accessToken passwordChangeRequired } }`
	confirmChange   = `mutation($t: String!) { confirmEmailChange(token: $t) }`
	temporaryPass   = "a temporary passphrase for you"
	chosenPass      = "my very own passphrase"
	requirePhoneMut = `mutation { updateOrganization(input: {requiredMemberFields: [PHONE]}) { requiredMemberFields } }`
)

// join gives an existing login a membership of the role (by key) in org.
func join(t *testing.T, s *apptest.Server, org, userID pulid.ID, roleKey string) pulid.ID {
	t.Helper()
	ctx := access.SystemContext(context.Background(), "test fixture")
	c := s.DB.Client
	r := c.Role.Query().Where(role.OrganizationID(org), role.Key(roleKey)).OnlyX(ctx)
	name := "joined." + string(userID[len(userID)-6:])
	return c.Membership.Create().SetOrganizationID(org).SetUserID(userID).SetRoleID(r.ID).
		SetUsername(name).SetUsernameKey(name).SetGroupScope(membership.GroupScopeLINKED).
		SetJoinedAt(time.Now()).SaveX(ctx).ID
}

// lastMail returns the last email delivered to an address with a subject
// containing subject, or fails.
func lastMail(t *testing.T, s *apptest.Server, to, subject string) string {
	t.Helper()
	sent := s.Mail.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].To == to && strings.Contains(sent[i].Subject, subject) {
			return sent[i].Text
		}
	}
	t.Fatalf("no email to %s about %q", to, subject)
	return ""
}

func codeOf(t *testing.T, r *apptest.Response) string {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("no error; data %s", r.Data)
	}
	return r.Errors[0].Code()
}

func TestSetMemberPasswordIsTemporary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Temporary Passwords", "ACTIVITY")
		inst := org.AddMember(t, "instructor", "Ivy", "Instructor")

		s.MustDo(t, org.Owner.Token, setPassword, map[string]any{"id": inst.MembershipID, "p": temporaryPass})
		if r := s.Do(t, inst.Token, `{ viewer { user { id } } }`, nil); codeOf(t, r) != "UNAUTHENTICATED" {
			t.Fatalf("the member's session outlived the new password: %v", r.Codes())
		}
		s.Deliver(t)
		if text := lastMail(t, s, inst.Email, "set a new Staffroom password"); strings.Contains(text, temporaryPass) {
			t.Fatal("the notice carries the password")
		}
		if r := s.Do(t, "", logInTemporary, map[string]any{"e": inst.Email, "p": apptest.Password}); codeOf(t, r) != "INVALID_CREDENTIALS" {
			t.Fatalf("the old password still logs in: %v", r.Codes())
		}

		var in struct {
			LogIn struct {
				AccessToken            string
				PasswordChangeRequired bool
			}
		}
		s.MustDo(t, "", logInTemporary, map[string]any{"e": inst.Email, "p": temporaryPass}).Decode(t, &in)
		if !in.LogIn.PasswordChangeRequired {
			t.Fatal("logIn with a temporary password does not say a change is required")
		}
		tok := in.LogIn.AccessToken
		for _, q := range []string{`{ viewer { user { id } } }`, `mutation { updateProfile(input: {firstName: "Ivo"}) { id } }`} {
			if r := s.Do(t, tok, q, nil); codeOf(t, r) != "PASSWORD_CHANGE_REQUIRED" {
				t.Fatalf("%s: want PASSWORD_CHANGE_REQUIRED, got %v", q, r.Codes())
			}
		}
		s.MustDo(t, tok, `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`,
			map[string]any{"c": temporaryPass, "n": chosenPass})
		s.MustDo(t, tok, `{ viewer { user { id } } }`, nil)
		s.MustDo(t, "", logInTemporary, map[string]any{"e": inst.Email, "p": chosenPass}).Decode(t, &in)
		if in.LogIn.PasswordChangeRequired {
			t.Fatal("a password the person chose is still temporary")
		}

		var audit struct {
			Viewer struct {
				Organization struct {
					AuditEvents struct {
						Edges []struct {
							Node struct{ Action, TargetID string }
						}
					}
				}
			}
		}
		s.MustDo(t, org.Owner.Token, `{ viewer { organization { auditEvents(first: 5) { edges { node { action targetId } } } } } }`, nil).Decode(t, &audit)
		found := false
		for _, e := range audit.Viewer.Organization.AuditEvents.Edges {
			found = found || (e.Node.Action == "member.password_set" && e.Node.TargetID == string(inst.MembershipID))
		}
		if !found {
			t.Fatalf("no member.password_set event: %+v", audit)
		}
	})
}

func TestAccountNotManaged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Managed Here", "ACTIVITY")
		elsewhere := s.CreateOrg(t, "Managed Elsewhere", "ACTIVITY")
		admin := org.AddMember(t, "administrator", "Ada", "Admin")
		attendant := org.AddMember(t, "attendant", "Art", "Attendant")
		inst := org.AddMember(t, "instructor", "Ivy", "Instructor")
		other := join(t, s, elsewhere.ID, inst.ID, "instructor")

		contact := map[string]any{"id": inst.MembershipID, "in": map[string]any{"phone": "+15550100001"}}
		cases := []struct {
			name, query string
			vars        map[string]any
		}{
			{"password", setPassword, map[string]any{"id": inst.MembershipID, "p": temporaryPass}},
			{"email", setEmail, map[string]any{"id": inst.MembershipID, "e": "ivy.new@example.com"}},
			{"contact", updateContact, contact},
		}
		for _, c := range cases {
			// Who may not manage the member learns nothing about the account.
			if got := codeOf(t, s.Do(t, attendant.Token, c.query, c.vars)); got != "FORBIDDEN" {
				t.Errorf("%s by an attendant: want FORBIDDEN, got %s", c.name, got)
			}
			r := s.Do(t, admin.Token, c.query, c.vars)
			if got := codeOf(t, r); got != "ACCOUNT_NOT_MANAGED" {
				t.Errorf("%s of a login in another organization: want ACCOUNT_NOT_MANAGED, got %s", c.name, got)
			}
			if !strings.Contains(r.Errors[0].Message, "sendPasswordReset") {
				t.Errorf("%s: the refusal does not point to a reset email: %q", c.name, r.Errors[0].Message)
			}
		}
		// An owner of both organizations manages the account.
		both := s.LogIn(t, org.Owner.Email, org.ID)
		join(t, s, elsewhere.ID, both.ID, "owner")
		owner := s.LogIn(t, org.Owner.Email, org.ID)
		var out struct {
			UpdateMember struct{ User struct{ Name, Phone string } }
		}
		s.MustDo(t, owner.Token, updateContact, contact).Decode(t, &out)
		if out.UpdateMember.User.Phone != "+15550100001" {
			t.Fatalf("the owner of every organization of the login could not edit it: %+v", out)
		}
		// A removed membership elsewhere no longer binds the account.
		ctx := access.SystemContext(context.Background(), "test fixture")
		s.DB.Client.Membership.UpdateOneID(other).SetRemovedAt(time.Now()).ExecX(ctx)
		s.MustDo(t, admin.Token, updateContact, map[string]any{"id": inst.MembershipID,
			"in": map[string]any{"firstName": "Iva", "lastName": "Instructed"}}).Decode(t, &out)
		if out.UpdateMember.User.Name != "Iva Instructed" {
			t.Fatalf("name not changed: %+v", out)
		}
		// An administrator never manages an owner: FORBIDDEN, not the account rule.
		ownerMember := s.MustDo(t, org.Owner.Token, `{ viewer { membership { id } } }`, nil)
		var om struct {
			Viewer struct{ Membership struct{ ID string } }
		}
		ownerMember.Decode(t, &om)
		if got := codeOf(t, s.Do(t, admin.Token, setPassword, map[string]any{"id": om.Viewer.Membership.ID, "p": temporaryPass})); got != "FORBIDDEN" {
			t.Fatalf("an administrator setting an owner's password: want FORBIDDEN, got %s", got)
		}
	})
}

func TestEmailChangeTakesEffectWhenConfirmed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Email Changes", "ACTIVITY")
		inst := org.AddMember(t, "instructor", "Ivy", "Instructor")
		taken := org.AddMember(t, "instructor", "Tom", "Taken")
		const change = `mutation($p: String!, $e: String!) { changeEmail(currentPassword: $p, newEmail: $e) }`

		if r := s.Do(t, inst.Token, change, map[string]any{"p": "not the password", "e": "ivy@new.example.com"}); codeOf(t, r) != "BAD_USER_INPUT" {
			t.Fatalf("a wrong password asked for a change: %v", r.Codes())
		}
		// Another login's address: the same answer, and no link anywhere.
		s.MustDo(t, inst.Token, change, map[string]any{"p": apptest.Password, "e": strings.ToUpper(taken.Email)})
		s.Deliver(t)
		if text := lastMail(t, s, taken.Email, "move a Staffroom login"); strings.Contains(text, "token=") {
			t.Fatal("the owner of a taken address got a link")
		}

		s.MustDo(t, inst.Token, change, map[string]any{"p": apptest.Password, "e": "Ivy@New.example.com"})
		s.Deliver(t)
		lastMail(t, s, inst.Email, "about to change")
		token := s.LinkToken(t, "ivy@new.example.com", "/confirm-email")
		// Nothing changes before the new address confirms.
		s.LogIn(t, inst.Email, org.ID)

		s.MustDo(t, "", confirmChange, map[string]any{"t": token})
		s.LogIn(t, "ivy@new.example.com", org.ID)
		if r := s.Do(t, "", logInTemporary, map[string]any{"e": inst.Email, "p": apptest.Password}); codeOf(t, r) != "INVALID_CREDENTIALS" {
			t.Fatalf("the old address still logs in: %v", r.Codes())
		}
		s.Deliver(t)
		if text := lastMail(t, s, inst.Email, "address changed"); !strings.Contains(text, "ivy@new.example.com") {
			t.Fatalf("the old address was not told the new one: %q", text)
		}
		if r := s.Do(t, "", confirmChange, map[string]any{"t": token}); codeOf(t, r) != "BAD_USER_INPUT" {
			t.Fatalf("a link worked twice: %v", r.Codes())
		}

		// An administrator's change follows the same path.
		s.MustDo(t, org.Owner.Token, setEmail, map[string]any{"id": taken.MembershipID, "e": "tom@new.example.com"})
		s.Deliver(t)
		s.MustDo(t, "", confirmChange, map[string]any{"t": s.LinkToken(t, "tom@new.example.com", "/confirm-email")})
		var out struct {
			Node struct{ User struct{ Email string } }
		}
		s.MustDo(t, org.Owner.Token, `query($id: ID!) { node(id: $id) { ... on Membership { user { email } } } }`,
			map[string]any{"id": taken.MembershipID}).Decode(t, &out)
		if out.Node.User.Email != "tom@new.example.com" {
			t.Fatalf("the administrator's change did not take effect: %+v", out)
		}

		// The audit log shows the change, the address only to members.contact.
		events := func(token string) string {
			r := s.MustDo(t, token, `{ viewer { organization { auditEvents(first: 20, where: {action: "member.email_changed"}) { edges { node { data } } } } } }`, nil)
			return string(r.Data)
		}
		if got := events(org.Owner.Token); !strings.Contains(got, "ivy@new.example.com") {
			t.Fatalf("the owner's audit log misses the change: %s", got)
		}
		s.MustDo(t, org.Owner.Token, `mutation { createRole(input: {key: "auditor", name: "Auditor", permissions: ["audit.view"]}) { id } }`, nil)
		auditor := org.AddMember(t, "auditor", "Aud", "Itor")
		if got := events(auditor.Token); strings.Contains(got, "@new.example.com") || !strings.Contains(got, "[redacted]") {
			t.Fatalf("an auditor without members.contact read the address: %s", got)
		}
	})
}

func TestRequiredMemberFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Phones Required", "ACTIVITY")
		inst := org.AddMember(t, "instructor", "Ivy", "Instructor")
		var roles struct {
			Viewer struct {
				Organization struct{ Roles []struct{ ID, Key string } }
			}
		}
		s.MustDo(t, org.Owner.Token, `{ viewer { organization { roles { id key } } } }`, nil).Decode(t, &roles)
		var instructorRole string
		for _, r := range roles.Viewer.Organization.Roles {
			if r.Key == "instructor" {
				instructorRole = r.ID
			}
		}
		const invite = `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { inviteLink } }`
		person := func(email string, phone any) map[string]any {
			in := map[string]any{"email": email, "firstName": "New", "lastName": "Person", "roleId": instructorRole}
			if phone != nil {
				in["phone"] = phone
			}
			return map[string]any{"in": in}
		}
		// Invited before the organization required phones.
		var early struct{ InviteMember struct{ InviteLink string } }
		s.MustDo(t, org.Owner.Token, invite, person("early@example.com", nil)).Decode(t, &early)

		var set struct {
			UpdateOrganization struct{ RequiredMemberFields []string }
		}
		s.MustDo(t, org.Owner.Token, requirePhoneMut, nil).Decode(t, &set)
		if strings.Join(set.UpdateOrganization.RequiredMemberFields, ",") != "PHONE" {
			t.Fatalf("setting not saved: %+v", set)
		}
		wantPhone := func(what string, r *apptest.Response) {
			t.Helper()
			if codeOf(t, r) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "phone" {
				t.Fatalf("%s: want BAD_USER_INPUT on phone, got %+v", what, r.Errors)
			}
		}
		wantPhone("invitation", s.Do(t, org.Owner.Token, invite, person("nophone@example.com", nil)))
		s.MustDo(t, org.Owner.Token, invite, person("phone@example.com", "+15550100002"))

		var report struct {
			ImportMembers struct {
				Rows []struct {
					Line  int
					Error *struct{ Code, Field string }
				}
			}
		}
		s.MustDo(t, org.Owner.Token, `mutation($csv: String!) { importMembers(csv: $csv) { rows { line error { code field } } } }`,
			map[string]any{"csv": "first_name,last_name,email,phone,role\nA,B,a.b@example.com,,instructor\nC,D,c.d@example.com,+15550100003,instructor\n"}).Decode(t, &report)
		rows := report.ImportMembers.Rows
		if len(rows) != 2 || rows[0].Error == nil || rows[0].Error.Field != "phone" || rows[1].Error != nil {
			t.Fatalf("import rows: %+v", rows)
		}

		accept := `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { accessToken } }`
		tok := early.InviteMember.InviteLink[strings.Index(early.InviteMember.InviteLink, "token=")+len("token="):]
		in := map[string]any{"token": tok, "password": chosenPass}
		wantPhone("acceptance", s.Do(t, "", accept, map[string]any{"in": in}))
		in["phone"] = "+15550100004"
		s.MustDo(t, "", accept, map[string]any{"in": in})

		var review struct {
			Viewer struct {
				Organization struct {
					AccessReview struct{ MissingRequiredFields []struct{ ID string } }
				}
			}
		}
		s.MustDo(t, org.Owner.Token, `{ viewer { organization { accessReview { missingRequiredFields { id } } } } }`, nil).Decode(t, &review)
		missing := map[string]bool{}
		for _, m := range review.Viewer.Organization.AccessReview.MissingRequiredFields {
			missing[m.ID] = true
		}
		if len(missing) != 2 || !missing[string(inst.MembershipID)] {
			t.Fatalf("want the owner and the instructor without phones listed, got %+v", missing)
		}

		s.MustDo(t, org.Owner.Token, updateContact, map[string]any{"id": inst.MembershipID, "in": map[string]any{"phone": "+15550100005"}})
		wantPhone("edit", s.Do(t, org.Owner.Token, updateContact, map[string]any{"id": inst.MembershipID, "in": map[string]any{"phone": ""}}))
		wantPhone("profile", s.Do(t, inst.Token, `mutation { updateProfile(input: {phone: " "}) { id } }`, nil))
		var after struct {
			Viewer struct{ User struct{ Phone string } }
		}
		s.MustDo(t, inst.Token, `{ viewer { user { phone } } }`, nil).Decode(t, &after)
		if after.Viewer.User.Phone != "+15550100005" {
			t.Fatalf("a refused edit changed the phone: %+v", after)
		}
		if r := s.Do(t, org.Owner.Token, `mutation { updateOrganization(input: {requiredMemberFields: [PHONE, PHONE, LAST_NAME]}) { requiredMemberFields } }`, nil); len(r.Errors) > 0 ||
			!json.Valid(r.Data) || !strings.Contains(string(r.Data), `["PHONE","LAST_NAME"]`) {
			t.Fatalf("fields are not kept once each: %s %v", r.Data, r.Codes())
		}
	})
}
