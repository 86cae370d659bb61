package graph_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"staffroom/ent/membership"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/session"
	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/auth/authtest"
	"staffroom/internal/store/storetest"
)

const viewerQuery = `{ viewer {
	user { id name email }
	organization { id name }
	membership { id role { key } }
	permissions
	memberships { organization { name } role { key } }
} }`

type viewerData struct {
	Viewer struct {
		User struct {
			ID    pulid.ID
			Name  string
			Email *string
		}
		Organization *struct {
			ID   pulid.ID
			Name string
		}
		Membership *struct {
			ID   pulid.ID
			Role struct{ Key string }
		}
		Permissions []string
		Memberships []struct {
			Organization struct{ Name string }
			Role         struct{ Key string }
		}
	}
}

func viewer(t *testing.T, s *apptest.Server, token string) (viewerData, *apptest.Response) {
	t.Helper()
	r := s.Do(t, token, viewerQuery, nil)
	var out viewerData
	if len(r.Errors) == 0 {
		r.Decode(t, &out)
	}
	return out, r
}

func TestSignUpLogInAndSwitchOrganizations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		ada := s.SignUp(t, "  Ada@Example.com ", "Ada", "Lovelace")

		v, _ := viewer(t, s, ada.Token)
		if v.Viewer.User.Name != "Ada Lovelace" || v.Viewer.Organization != nil || len(v.Viewer.Memberships) != 0 {
			t.Fatalf("new user's viewer = %+v", v.Viewer)
		}
		if v.Viewer.User.Email == nil || *v.Viewer.User.Email != "ada@example.com" {
			t.Errorf("email is not normalized: %v", v.Viewer.User.Email)
		}

		create := func(name, preset string) pulid.ID {
			r := s.MustDo(t, ada.Token, `mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { id name } }`,
				map[string]any{"in": map[string]any{"name": name, "preset": preset}})
			var out struct{ CreateOrganization struct{ ID pulid.ID } }
			r.Decode(t, &out)
			return out.CreateOrganization.ID
		}
		school := create("Hill School", "SCHOOL")
		club := create("River Club", "ACTIVITY")

		// logIn without an organization opens the most recently used one.
		in := s.LogIn(t, "ada@example.com", "")
		v, _ = viewer(t, s, in.Token)
		if v.Viewer.Organization == nil || v.Viewer.Organization.ID != club {
			t.Fatalf("most recent organization not opened: %+v", v.Viewer.Organization)
		}
		if v.Viewer.Membership.Role.Key != "owner" || len(v.Viewer.Permissions) != len(access.Catalog) {
			t.Errorf("owner has %d permissions, role %q", len(v.Viewer.Permissions), v.Viewer.Membership.Role.Key)
		}
		var names []string
		for _, m := range v.Viewer.Memberships {
			names = append(names, m.Organization.Name)
		}
		if !slices.Equal(names, []string{"River Club", "Hill School"}) {
			t.Errorf("switcher = %v, want most recently used first", names)
		}

		r := s.MustDo(t, in.Token, `mutation($org: ID!) { switchOrganization(organizationId: $org) {
			accessToken viewer { organization { name } memberships { organization { name } } } } }`,
			map[string]any{"org": school})
		var sw struct {
			SwitchOrganization struct {
				AccessToken string
				Viewer      struct {
					Organization struct{ Name string }
					Memberships  []struct{ Organization struct{ Name string } }
				}
			}
		}
		r.Decode(t, &sw)
		if sw.SwitchOrganization.Viewer.Organization.Name != "Hill School" ||
			sw.SwitchOrganization.Viewer.Memberships[0].Organization.Name != "Hill School" {
			t.Errorf("after switching: %+v", sw.SwitchOrganization.Viewer)
		}
		v, _ = viewer(t, s, sw.SwitchOrganization.AccessToken)
		if v.Viewer.Organization == nil || v.Viewer.Organization.ID != school {
			t.Errorf("switched token is not scoped to the school: %+v", v.Viewer.Organization)
		}

		// An organization without an active membership cannot be switched to.
		other := s.CreateOrg(t, "Elsewhere", "ACTIVITY")
		r = s.Do(t, in.Token, `mutation($org: ID!) { switchOrganization(organizationId: $org) { accessToken } }`,
			map[string]any{"org": other.ID})
		if !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) {
			t.Errorf("switch to a foreign organization: %v", r.Codes())
		}
	})
}

func TestDisabledMembershipLosesAccessAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Swim Club", "ACTIVITY")
		admin := org.AddMember(t, "administrator", "Alan", "Admin")
		v, _ := viewer(t, s, admin.Token)
		if v.Viewer.Organization == nil {
			t.Fatal("admin has no active organization")
		}
		ctx := access.SystemContext(context.Background(), "test")
		s.DB.Client.Membership.UpdateOneID(admin.MembershipID).SetStatus(membership.StatusDISABLED).ExecX(ctx)

		v, r := viewer(t, s, admin.Token)
		if len(r.Errors) != 0 || v.Viewer.Organization != nil || v.Viewer.Membership != nil || len(v.Viewer.Permissions) != 0 {
			t.Errorf("disabled member still acts in the organization: %+v %v", v.Viewer, r.Codes())
		}
		r = s.Do(t, admin.Token, membersQuery, map[string]any{"org": org.ID})
		if string(r.Data) != `{"node":null}` {
			t.Errorf("disabled member listed members: %s %v", r.Data, r.Codes())
		}
		r = s.Do(t, admin.Token, `mutation { createGroup(input: {name: "Sneaky"}) { id } }`, nil)
		if !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) {
			t.Errorf("disabled member created a group: %v", r.Codes())
		}
	})
}

func TestBadAccessTokensAreRejected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		ada := s.SignUp(t, "ada@example.com", "Ada", "Lovelace")
		keys := s.App.Auth.Tokens().Keys
		bad := authtest.BadTokens(keys, s.Config.Issuer, s.Config.Audience, string(ada.ID), "ses_x")
		if len(bad) < 12 {
			t.Fatalf("only %d bad tokens", len(bad))
		}
		for _, tok := range bad {
			r := s.Do(t, tok.Token, `{ viewer { user { id } } }`, nil)
			if r.Status != http.StatusUnauthorized || !slices.Equal(r.Codes(), []string{"UNAUTHENTICATED"}) {
				t.Errorf("%s: status %d, codes %v", tok.Name, r.Status, r.Codes())
			}
		}
		if r := s.Do(t, ada.Token, `{ viewer { user { id } } }`, nil); len(r.Errors) != 0 {
			t.Errorf("good token refused: %v", r.Codes())
		}
	})
}

func logInCodes(t *testing.T, s *apptest.Server, email, password string) []string {
	t.Helper()
	r := s.Do(t, "", `mutation($in: LogInInput!) { logIn(input: $in) { accessToken } }`,
		map[string]any{"in": map[string]any{"email": email, "password": password}})
	return r.Codes()
}

func TestLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		s.SignUp(t, "ada@example.com", "Ada", "Lovelace")

		// Unknown email and wrong password answer alike.
		unknown := logInCodes(t, s, "nobody@example.com", "wrong password!")
		wrong := logInCodes(t, s, "ada@example.com", "wrong password!")
		if !slices.Equal(unknown, []string{"INVALID_CREDENTIALS"}) || !slices.Equal(unknown, wrong) {
			t.Fatalf("unknown email %v, wrong password %v", unknown, wrong)
		}
		logInCodes(t, s, "ada@example.com", "wrong password!")
		logInCodes(t, s, "ada@example.com", "wrong password!")
		if got := logInCodes(t, s, "ada@example.com", apptest.Password); !slices.Equal(got, []string{"ACCOUNT_LOCKED"}) {
			t.Fatalf("after 3 failures the right password gives %v", got)
		}

		// Resetting the password unlocks.
		s.MustDo(t, "", `mutation { requestPasswordReset(email: "ADA@example.com") }`, nil)
		deliver(t, s)
		token := resetToken(t, s, "ada@example.com")
		r := s.MustDo(t, "", `mutation($t: String!) { resetPassword(token: $t, newPassword: "a brand new passphrase") { accessToken } }`,
			map[string]any{"t": token})
		if len(r.Errors) != 0 {
			t.Fatal(r.Codes())
		}
		if got := logInCodes(t, s, "ada@example.com", "a brand new passphrase"); len(got) != 0 {
			t.Errorf("after reset: %v", got)
		}
		// The token is single use.
		r = s.Do(t, "", `mutation($t: String!) { resetPassword(token: $t, newPassword: "another new passphrase") { accessToken } }`,
			map[string]any{"t": token})
		if !slices.Equal(r.Codes(), []string{"BAD_USER_INPUT"}) {
			t.Errorf("reused reset token: %v", r.Codes())
		}
	})
}

func TestParallelFailuresCannotExceedTheLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		ada := s.SignUp(t, "ada@example.com", "Ada", "Lovelace")
		var wg sync.WaitGroup
		codes := make([][]string, 10)
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = logInCodes(t, s, "ada@example.com", "wrong password!")
			}()
		}
		wg.Wait()
		checked := 0
		for _, c := range codes {
			if slices.Equal(c, []string{"INVALID_CREDENTIALS"}) {
				checked++
			} else if !slices.Equal(c, []string{"ACCOUNT_LOCKED"}) && !slices.Equal(c, []string{"RATE_LIMITED"}) {
				t.Errorf("unexpected answer %v", c)
			}
		}
		if checked > 3 {
			t.Errorf("%d parallel guesses were checked; at most 3 may be", checked)
		}
		u := s.DB.Client.User.Query().Where(user.ID(ada.ID)).OnlyX(access.SystemContext(context.Background(), "test"))
		if u.LockedAt == nil {
			t.Error("account is not locked")
		}
	})
}

// resetToken reads the token from the last reset email sent to an address.
func resetToken(t *testing.T, s *apptest.Server, to string) string {
	t.Helper()
	sent := s.Mail.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].To != to {
			continue
		}
		_, rest, ok := strings.Cut(sent[i].Text, "token=")
		if !ok {
			t.Fatalf("no link in %q", sent[i].Text)
		}
		return strings.Fields(rest)[0]
	}
	t.Fatalf("no email to %s", to)
	return ""
}

func TestPasswordResetDoesNotRevealAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		s.SignUp(t, "ada@example.com", "Ada", "Lovelace")
		before := len(s.Mail.Sent())
		for _, email := range []string{"ada@example.com", "nobody@example.com"} {
			r := s.MustDo(t, "", `mutation($e: String!) { requestPasswordReset(email: $e) }`, map[string]any{"e": email})
			if string(r.Data) != `{"requestPasswordReset":true}` {
				t.Errorf("%s: %s", email, r.Data)
			}
		}
		deliver(t, s)
		if n := len(s.Mail.Sent()) - before; n != 1 {
			t.Errorf("%d emails sent, want 1 (to the existing account)", n)
		}
	})
}

const refreshMutation = `mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }`

type refreshed struct {
	RefreshSession struct{ AccessToken, RefreshToken string }
}

func TestRefreshRotationAndReuse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		ada := s.SignUp(t, "ada@example.com", "Ada", "Lovelace")

		var first refreshed
		s.MustDo(t, "", refreshMutation, map[string]any{"t": ada.RefreshToken}).Decode(t, &first)
		if first.RefreshSession.RefreshToken == ada.RefreshToken {
			t.Fatal("refresh token was not rotated")
		}
		// Parallel refreshes of one token within the grace period all succeed.
		var wg sync.WaitGroup
		results := make([][]string, 5)
		for i := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.Do(t, "", refreshMutation, map[string]any{"t": first.RefreshSession.RefreshToken}).Codes()
			}()
		}
		wg.Wait()
		for i, c := range results {
			if len(c) != 0 {
				t.Errorf("parallel refresh %d: %v", i, c)
			}
		}

		// A spent token presented after the grace period revokes the family.
		ctx := access.SystemContext(context.Background(), "test")
		s.DB.Client.Session.Update().Where(session.RotatedAtNotNil()).
			SetRotatedAt(time.Now().Add(-time.Minute)).ExecX(ctx)
		r := s.Do(t, "", refreshMutation, map[string]any{"t": ada.RefreshToken})
		if !slices.Equal(r.Codes(), []string{"UNAUTHENTICATED"}) {
			t.Fatalf("reuse: %v", r.Codes())
		}
		if r := s.Do(t, first.RefreshSession.AccessToken, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("access token of a revoked family still works: %d", r.Status)
		}
	})
}

func TestLogOutAndChangePasswordEndSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		s.SignUp(t, "ada@example.com", "Ada", "Lovelace")
		laptop := s.LogIn(t, "ada@example.com", "")
		phone := s.LogIn(t, "ada@example.com", "")

		s.MustDo(t, phone.Token, `mutation { changePassword(currentPassword: "`+apptest.Password+`", newPassword: "a brand new passphrase") }`, nil)
		if r := s.Do(t, laptop.Token, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("other session survived the password change: %d", r.Status)
		}
		if r := s.Do(t, phone.Token, `{ viewer { user { id } } }`, nil); len(r.Errors) != 0 {
			t.Errorf("the changing session was ended: %v", r.Codes())
		}
		s.MustDo(t, phone.Token, `mutation { logOut }`, nil)
		if r := s.Do(t, phone.Token, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("access token works after logOut: %d", r.Status)
		}
		if r := s.Do(t, "", refreshMutation, map[string]any{"t": phone.RefreshToken}); !slices.Equal(r.Codes(), []string{"UNAUTHENTICATED"}) {
			t.Errorf("refresh after logOut: %v", r.Codes())
		}
	})
}

func TestSessionMutationsAreRateLimitedPerAlias(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=5")
		var q strings.Builder
		q.WriteString("mutation {")
		for i := range 8 {
			q.WriteString(" r" + string(rune('a'+i)) + `: requestPasswordReset(email: "x@example.com")`)
		}
		q.WriteString(" }")
		r := s.Do(t, "", q.String(), nil)
		limited := 0
		for _, c := range r.Codes() {
			if c == "RATE_LIMITED" {
				limited++
			}
		}
		if limited != 3 {
			t.Errorf("%d of 8 aliased calls were limited, want 3 (limit 5): %v", limited, r.Codes())
		}
	})
}

func TestUpdateProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		ada := s.SignUp(t, "ada@example.com", "Ada", "Lovelace")
		r := s.MustDo(t, ada.Token, `mutation { updateProfile(input: {lastName: "King", phone: "+44 20 7946 0000"}) { name phone } }`, nil)
		if string(r.Data) != `{"updateProfile":{"name":"Ada King","phone":"+44 20 7946 0000"}}` {
			t.Errorf("data = %s", r.Data)
		}
		if r := s.Do(t, "", `mutation { updateProfile(input: {lastName: "X"}) { name } }`, nil); !slices.Equal(r.Codes(), []string{"UNAUTHENTICATED"}) {
			t.Errorf("anonymous: %v", r.Codes())
		}
	})
}

// Anyone may ask for anyone's password reset, so the requests cannot fill the
// address's mailbox: repeated requests answer the same, and one email goes.
func TestPasswordResetRequestsAreLimitedPerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		s.SignUp(t, "flood@example.com", "Flo", "Od")
		sent := len(s.Mail.Sent())
		for range 4 {
			r := s.MustDo(t, "", `mutation { requestPasswordReset(email: "flood@example.com") }`, nil)
			if !strings.Contains(string(r.Data), "true") {
				t.Fatalf("requestPasswordReset: %s", r.Data)
			}
		}
		s.Deliver(t)
		if n := len(s.Mail.Sent()) - sent; n != 1 {
			t.Errorf("%d reset emails for 4 requests within a minute, want 1", n)
		}
	})
}

// A refused new password names the argument the client sent it in.
func TestPasswordPolicyNamesTheArgument(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		u := s.SignUp(t, "policy@example.com", "Pat", "Policy")
		cases := []struct{ token, query string }{
			{u.Token, `mutation { changePassword(currentPassword: "` + apptest.Password + `", newPassword: "short") }`},
			{"", `mutation { resetPassword(token: "not-a-token", newPassword: "short") { accessToken } }`},
		}
		for _, c := range cases {
			r := s.Do(t, c.token, c.query, nil)
			if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "newPassword" {
				t.Errorf("%s: want BAD_USER_INPUT on newPassword, got %v", c.query, r.Errors)
			}
		}
	})
}
