package graph_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"staffroom/ent/auditevent"
	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

const (
	attackerPassword = "the attacker's passphrase"
	ownerPassword    = "the address owner's passphrase"
)

// verifiedViewer is what the verification tests read of a viewer.
type verifiedViewer struct {
	AccessToken, RefreshToken string
	Viewer                    struct {
		User                struct{ EmailVerified *bool }
		Organization        *struct{ ID string }
		Memberships         []struct{ ID string }
		MembershipsToReview []struct {
			ID           string
			Organization struct{ Name string }
		}
	}
}

const verifiedFields = `accessToken refreshToken viewer { user { emailVerified } organization { id }
	memberships { id } membershipsToReview { id organization { name } } }`

func (v verifiedViewer) verified() bool {
	return v.Viewer.User.EmailVerified != nil && *v.Viewer.User.EmailVerified
}

// signIn runs a mutation that answers an AuthPayload named field.
func signIn(t *testing.T, s *apptest.Server, token, field, query string, vars map[string]any) verifiedViewer {
	t.Helper()
	r := s.MustDo(t, token, query, vars)
	var out map[string]verifiedViewer
	r.Decode(t, &out)
	return out[field]
}

func verifyEmail(t *testing.T, s *apptest.Server, token, password string) verifiedViewer {
	t.Helper()
	return signIn(t, s, "", "verifyEmail", `mutation($t: String!, $p: String!) { verifyEmail(token: $t, password: $p) { `+verifiedFields+` } }`,
		map[string]any{"t": token, "p": password})
}

func logInWith(t *testing.T, s *apptest.Server, email, password string) verifiedViewer {
	t.Helper()
	return signIn(t, s, "", "logIn", `mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) { `+verifiedFields+` } }`,
		map[string]any{"e": email, "p": password})
}

func acceptWith(t *testing.T, s *apptest.Server, token, password string) verifiedViewer {
	t.Helper()
	return signIn(t, s, "", "acceptInvitation", `mutation($t: String!, $p: String!) { acceptInvitation(input: {token: $t, password: $p}) { `+verifiedFields+` } }`,
		map[string]any{"t": token, "p": password})
}

// inviteGuest has the organization's owner invite an address as a guest and
// returns the shareable link's token.
func inviteGuest(t *testing.T, s *apptest.Server, o *apptest.Org, email string) string {
	t.Helper()
	r := s.MustDo(t, o.Owner.Token, `{ viewer { organization { roles { id key } } } }`, nil)
	var roles struct {
		Viewer struct {
			Organization struct{ Roles []struct{ ID, Key string } }
		}
	}
	r.Decode(t, &roles)
	var guest string
	for _, rl := range roles.Viewer.Organization.Roles {
		if rl.Key == "guest" {
			guest = rl.ID
		}
	}
	r = s.MustDo(t, o.Owner.Token, `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { inviteLink } }`,
		map[string]any{"in": map[string]any{"email": email, "firstName": "Vera", "lastName": "Owner", "roleId": guest}})
	var out struct{ InviteMember struct{ InviteLink string } }
	r.Decode(t, &out)
	return tokenOf(out.InviteMember.InviteLink)
}

func signUpAnswer(t *testing.T, s *apptest.Server, email, password string) string {
	t.Helper()
	r := s.MustDo(t, "", `mutation($e: String!, $p: String!) { signUp(input: {email: $e, password: $p, firstName: "Vera", lastName: "Owner"}) { email verificationSent } }`,
		map[string]any{"e": email, "p": password})
	return strings.ReplaceAll(string(r.Data), email, "<email>")
}

// codesOf returns the error codes of a request.
func codesOf(t *testing.T, s *apptest.Server, token, query string, vars map[string]any) []string {
	t.Helper()
	return s.Do(t, token, query, vars).Codes()
}

const createOrgMutation = `mutation { createOrganization(input: {name: "Mine"}) { id } }`

func TestSignUpVerifiesTheAddressBeforeAnOrganization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		fresh := signUpAnswer(t, s, "ada@example.com", apptest.Password)
		s.Deliver(t)

		// Unverified, the login logs in but creates no organization.
		in := logInWith(t, s, "ada@example.com", apptest.Password)
		if in.verified() {
			t.Error("a login that nobody verified says it is verified")
		}
		r := s.Do(t, in.AccessToken, createOrgMutation, nil)
		if !slices.Equal(r.Codes(), []string{"EMAIL_UNVERIFIED"}) || !strings.Contains(r.Errors[0].Message, "organizations that invited you") {
			t.Fatalf("unverified createOrganization: %v %v", r.Codes(), r.Errors)
		}

		link := s.LinkToken(t, "ada@example.com", "/verify-email")
		v := verifyEmail(t, s, link, apptest.Password)
		if !v.verified() {
			t.Error("verifyEmail did not verify the address")
		}
		s.MustDo(t, v.AccessToken, createOrgMutation, nil)
		if codes := codesOf(t, s, "", `mutation($t: String!) { verifyEmail(token: $t, password: "`+apptest.Password+`") { accessToken } }`, map[string]any{"t": link}); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) {
			t.Errorf("a used link: %v", codes)
		}

		// Signing up again with a verified address: the same answer, no
		// CONFLICT, and a notice to the owner instead of a link.
		sent := len(s.Mail.Sent())
		if again := signUpAnswer(t, s, "ada@example.com", attackerPassword); again != fresh {
			t.Errorf("sign-up for a verified address answers %s, a fresh one %s", again, fresh)
		}
		s.Deliver(t)
		mails := s.Mail.Sent()[sent:]
		if len(mails) != 1 || mails[0].To != "ada@example.com" || strings.Contains(mails[0].Text, "token=") ||
			!strings.Contains(mails[0].Subject, "tried to sign up") {
			t.Errorf("emails after signing up with a verified address: %+v", mails)
		}
		logInWith(t, s, "ada@example.com", apptest.Password)
	})
}

// Someone signs up with another person's address and their own password; the
// address's owner opens the link that lands in their mailbox. Confirming asks
// for a password, so the stranger's never becomes the login's by a click: the
// owner's does.
func TestVerificationLinkSetsNoStrangersPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		const victim = "lena@example.com"
		s.SignUpOnly(t, victim, "Mallory", "M", attackerPassword)
		link := s.LinkToken(t, victim, "/verify-email")
		r := s.Do(t, "", `mutation($t: String!, $p: String!) { verifyEmail(token: $t, password: $p) { accessToken } }`,
			map[string]any{"t": link, "p": ""})
		if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "password" {
			t.Fatalf("confirming without a password: %v", r.Errors)
		}
		if owner := verifyEmail(t, s, link, ownerPassword); !owner.verified() {
			t.Fatal("the owner's confirmation did not verify the address")
		}
		if codes := logInCodes(t, s, victim, attackerPassword); !slices.Equal(codes, []string{"INVALID_CREDENTIALS"}) {
			t.Errorf("the stranger's password after the owner confirmed: %v", codes)
		}
		logInWith(t, s, victim, ownerPassword)
	})
}

// The account pre-hijacking path: an organization's owner invites someone
// else's address and accepts the shareable link themselves. The address's
// owner then signs up, proves the address, and takes the login over.
func TestShareableLinkThenTheOwnerSignsUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		trap := s.CreateOrg(t, "Trap", "ACTIVITY")
		bait := s.CreateOrg(t, "Bait", "ACTIVITY")
		const victim = "victim@example.com"

		attacker := acceptWith(t, s, inviteGuest(t, s, trap, victim), attackerPassword)
		if attacker.Viewer.Organization == nil || attacker.Viewer.Organization.ID != string(trap.ID) || attacker.verified() {
			t.Fatalf("through the shareable link: %+v", attacker.Viewer)
		}
		acceptWith(t, s, inviteGuest(t, s, bait, victim), attackerPassword)
		if codes := codesOf(t, s, attacker.AccessToken, createOrgMutation, nil); !slices.Equal(codes, []string{"EMAIL_UNVERIFIED"}) {
			t.Errorf("createOrganization through a shareable link's login: %v", codes)
		}

		fresh := signUpAnswer(t, s, "someone.new@example.com", ownerPassword)
		if answer := signUpAnswer(t, s, victim, ownerPassword); answer != fresh {
			t.Errorf("sign-up for an unverified login's address answers %s, a fresh one %s", answer, fresh)
		}
		s.Deliver(t)
		owner := verifyEmail(t, s, s.LinkToken(t, victim, "/verify-email"), ownerPassword)
		if !owner.verified() || owner.Viewer.Organization != nil || len(owner.Viewer.Memberships) != 0 {
			t.Errorf("after taking over: %+v", owner.Viewer)
		}
		var review []string
		for _, m := range owner.Viewer.MembershipsToReview {
			review = append(review, m.Organization.Name)
		}
		if slices.Sort(review); !slices.Equal(review, []string{"Bait", "Trap"}) {
			t.Errorf("memberships to review = %v", review)
		}

		// The attacker's sessions and password are gone.
		if r := s.Do(t, attacker.AccessToken, `{ viewer { user { id } } }`, nil); r.Status != 401 || !slices.Equal(r.Codes(), []string{"UNAUTHENTICATED"}) {
			t.Errorf("the attacker's access token: %d %v", r.Status, r.Codes())
		}
		if codes := codesOf(t, s, "", refreshMutation, map[string]any{"t": attacker.RefreshToken}); !slices.Equal(codes, []string{"UNAUTHENTICATED"}) {
			t.Errorf("the attacker's refresh token: %v", codes)
		}
		if codes := logInCodes(t, s, victim, attackerPassword); !slices.Equal(codes, []string{"INVALID_CREDENTIALS"}) {
			t.Errorf("the attacker's password: %v", codes)
		}

		// Memberships under review grant nothing until kept.
		if codes := codesOf(t, s, owner.AccessToken, `mutation($o: ID!) { switchOrganization(organizationId: $o) { accessToken } }`,
			map[string]any{"o": trap.ID}); !slices.Equal(codes, []string{"FORBIDDEN"}) {
			t.Errorf("switching to an organization under review: %v", codes)
		}
		r := s.MustDo(t, trap.Owner.Token, `query($o: ID!) { node(id: $o) { ... on Organization {
			auditEvents(first: 20) { edges { node { action } } } accessReview { unverified { id } } } } }`, map[string]any{"o": trap.ID})
		if !strings.Contains(string(r.Data), "member.email_verified") || !strings.Contains(string(r.Data), `"unverified":[]`) {
			t.Errorf("the trap organization does not see the proof: %s", r.Data)
		}
		byName := map[string]string{}
		for _, m := range owner.Viewer.MembershipsToReview {
			byName[m.Organization.Name] = m.ID
		}
		const review1 = `mutation($id: ID!, $keep: Boolean!) { reviewMembership(id: $id, keep: $keep) { id removedAt } }`
		left := s.MustDo(t, owner.AccessToken, review1, map[string]any{"id": byName["Bait"], "keep": false})
		if !strings.Contains(string(left.Data), `"removedAt":"`) {
			t.Errorf("leaving: %s", left.Data)
		}
		s.MustDo(t, owner.AccessToken, review1, map[string]any{"id": byName["Trap"], "keep": true})
		if codes := codesOf(t, s, owner.AccessToken, review1, map[string]any{"id": byName["Trap"], "keep": false}); !slices.Equal(codes, []string{"NOT_FOUND"}) {
			t.Errorf("reviewing twice: %v", codes)
		}
		again := logInWith(t, s, victim, ownerPassword)
		if len(again.Viewer.MembershipsToReview) != 0 || len(again.Viewer.Memberships) != 1 || again.Viewer.Organization == nil ||
			again.Viewer.Organization.ID != string(trap.ID) {
			t.Errorf("after keeping Trap and leaving Bait: %+v", again.Viewer)
		}
	})
}

func TestEmailedInvitationTakesOverAnUnverifiedLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		const victim = "victim@example.com"
		s.SignUpOnly(t, victim, "Mal", "Lory", attackerPassword)
		attacker := logInWith(t, s, victim, attackerPassword)

		employer := s.CreateOrg(t, "Employer", "ACTIVITY")
		shared := inviteGuest(t, s, employer, victim)
		s.Deliver(t)
		emailed := s.LinkToken(t, victim, "/invitation")
		preview := `query($t: String!) { invitation(token: $t) { existingAccount } }`
		if r := s.MustDo(t, "", preview, map[string]any{"t": emailed}); string(r.Data) != `{"invitation":{"existingAccount":false}}` {
			t.Errorf("the emailed link's preview: %s", r.Data)
		}
		if r := s.MustDo(t, "", preview, map[string]any{"t": shared}); string(r.Data) != `{"invitation":{"existingAccount":true}}` {
			t.Errorf("the shared link's preview: %s", r.Data)
		}

		owner := acceptWith(t, s, emailed, ownerPassword)
		if !owner.verified() || owner.Viewer.Organization == nil || owner.Viewer.Organization.ID != string(employer.ID) {
			t.Errorf("accepting the emailed invitation: %+v", owner.Viewer)
		}
		if r := s.Do(t, attacker.AccessToken, `{ viewer { user { id } } }`, nil); r.Status != 401 {
			t.Errorf("the attacker's session survived: %d %v", r.Status, r.Codes())
		}
		if codes := logInCodes(t, s, victim, attackerPassword); !slices.Equal(codes, []string{"INVALID_CREDENTIALS"}) {
			t.Errorf("the attacker's password: %v", codes)
		}
		r := s.MustDo(t, employer.Owner.Token, `query($o: ID!) { node(id: $o) { ... on Organization { members { edges { node { user { email emailVerified } } } } } } }`,
			map[string]any{"o": employer.ID})
		if !strings.Contains(string(r.Data), `{"email":"victim@example.com","emailVerified":true}`) {
			t.Errorf("the members list: %s", r.Data)
		}
	})
}

func TestPasswordResetTakesOverAnUnverifiedLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		trap := s.CreateOrg(t, "Trap", "ACTIVITY")
		const victim = "victim@example.com"
		attacker := acceptWith(t, s, inviteGuest(t, s, trap, victim), attackerPassword)

		s.MustDo(t, "", `mutation($e: String!) { requestPasswordReset(email: $e) }`, map[string]any{"e": victim})
		s.Deliver(t)
		owner := signIn(t, s, "", "resetPassword", `mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) { `+verifiedFields+` } }`,
			map[string]any{"t": s.LinkToken(t, victim, "/reset-password"), "p": ownerPassword})
		if !owner.verified() || owner.Viewer.Organization != nil || len(owner.Viewer.MembershipsToReview) != 1 {
			t.Errorf("after the reset: %+v", owner.Viewer)
		}
		if r := s.Do(t, attacker.AccessToken, `{ viewer { user { id } } }`, nil); r.Status != 401 {
			t.Errorf("the attacker's session survived: %d %v", r.Status, r.Codes())
		}
	})
}

// A verification link and a reset link of one unverified login, followed at
// once: one proof wins; the other either fails as a used link or resets a
// verified login, and nothing answers INTERNAL.
func TestParallelVerificationAndReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		trap := s.CreateOrg(t, "Trap", "ACTIVITY")
		for _, victim := range []string{"one@example.com", "two@example.com", "three@example.com"} {
			acceptWith(t, s, inviteGuest(t, s, trap, victim), attackerPassword)
			s.SignUpOnly(t, victim, "Vera", "Owner", ownerPassword)
			s.MustDo(t, "", `mutation($e: String!) { requestPasswordReset(email: $e) }`, map[string]any{"e": victim})
			s.Deliver(t)
			verify, reset := s.LinkToken(t, victim, "/verify-email"), s.LinkToken(t, victim, "/reset-password")
			const resetPassword = "the reset's passphrase"
			var wg sync.WaitGroup
			answers := make([]*apptest.Response, 2)
			wg.Add(2)
			go func() {
				defer wg.Done()
				answers[0] = s.Do(t, "", `mutation($t: String!, $p: String!) { verifyEmail(token: $t, password: $p) { accessToken } }`,
					map[string]any{"t": verify, "p": ownerPassword})
			}()
			go func() {
				defer wg.Done()
				answers[1] = s.Do(t, "", `mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) { accessToken } }`,
					map[string]any{"t": reset, "p": resetPassword})
			}()
			wg.Wait()
			for i, a := range answers {
				// The verification may lose the race (its link voided: BAD_USER_INPUT)
				// or win it and then see the reset end the session it had just
				// opened (UNAUTHENTICATED); never anything else.
				if len(a.Errors) > 0 && !slices.Equal(a.Codes(), []string{"BAD_USER_INPUT"}) &&
					(i != 0 || !slices.Equal(a.Codes(), []string{"UNAUTHENTICATED"})) {
					t.Errorf("%s, answer %d: %v", victim, i, a.Errors)
				}
			}
			if len(answers[1].Errors) > 0 {
				t.Errorf("%s: the reset failed: %v", victim, answers[1].Codes())
			}
			ctx := access.SystemContext(context.Background(), "test")
			if u := s.DB.Client.User.Query().Where(user.Email(victim)).OnlyX(ctx); u.EmailVerifiedAt == nil {
				t.Errorf("%s is not verified", victim)
			}
			proofs := s.DB.Client.AuditEvent.Query().Where(auditevent.Action("member.email_verified"),
				auditevent.TargetIDIn(membershipOf(t, s, trap, victim))).CountX(ctx)
			if proofs != 1 {
				t.Errorf("%s: %d proofs recorded, want 1", victim, proofs)
			}
			// The reset always succeeds, after or instead of the verification:
			// its password is the one that works.
			logInWith(t, s, victim, resetPassword)
			if codes := logInCodes(t, s, victim, ownerPassword); !slices.Equal(codes, []string{"INVALID_CREDENTIALS"}) {
				t.Errorf("%s: the sign-up's password after the reset: %v", victim, codes)
			}
		}
	})
}

func membershipOf(t *testing.T, s *apptest.Server, o *apptest.Org, email string) string {
	t.Helper()
	r := s.MustDo(t, o.Owner.Token, `query($o: ID!) { node(id: $o) { ... on Organization { members(first: 50) { edges { node { id user { email } } } } } } }`,
		map[string]any{"o": o.ID})
	var out struct {
		Node struct {
			Members struct {
				Edges []struct {
					Node struct {
						ID   string
						User struct{ Email string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	for _, e := range out.Node.Members.Edges {
		if e.Node.User.Email == email {
			return e.Node.ID
		}
	}
	t.Fatalf("%s is not a member", email)
	return ""
}

// A membership waiting for its owner's review grants nothing, messages
// included: a message to it is recorded as skipped, with why.
func TestMessagesSkipMembershipsUnderReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		trap := s.CreateOrg(t, "Trap", "ACTIVITY")
		const victim = "reviewed@example.com"
		acceptWith(t, s, inviteGuest(t, s, trap, victim), attackerPassword)
		s.SignUpOnly(t, victim, "Vera", "Owner", ownerPassword)
		verifyEmail(t, s, s.LinkToken(t, victim, "/verify-email"), ownerPassword)
		member := membershipOf(t, s, trap, victim)
		r := s.MustDo(t, trap.Owner.Token, `mutation($m: ID!) { sendMessage(input: {body: "Hello", memberIds: [$m]}) {
			deliveries { edges { node { status reason } } } } }`, map[string]any{"m": member})
		if !strings.Contains(string(r.Data), `"status":"SKIPPED","reason":"the membership waits for its owner's review"`) {
			t.Errorf("a message to a membership under review: %s", r.Data)
		}
	})
}
