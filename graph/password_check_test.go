package graph_test

import (
	"slices"
	"testing"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// passwordPaths is a server with an organization that invites Ada, who has a
// login of her own already.
type passwordPaths struct {
	s     *apptest.Server
	ada   *apptest.User
	token string // of Ada's pending invitation
}

func newPasswordPaths(t *testing.T, d storetest.Dialect) *passwordPaths {
	t.Helper()
	s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
	org := s.CreateOrg(t, "Acme Activities", "ACTIVITY")
	ada := s.SignUp(t, "ada@example.com", "Ada", "Lovelace")
	var roles struct {
		Viewer struct {
			Organization struct{ Roles []struct{ ID, Key string } }
		}
	}
	s.MustDo(t, org.Owner.Token, `{ viewer { organization { roles { id key } } } }`, nil).Decode(t, &roles)
	guest := ""
	for _, r := range roles.Viewer.Organization.Roles {
		if r.Key == "guest" {
			guest = r.ID
		}
	}
	var inv invited
	s.MustDo(t, org.Owner.Token, inviteMutation, map[string]any{"in": map[string]any{
		"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "roleId": guest}}).Decode(t, &inv)
	return &passwordPaths{s: s, ada: ada, token: tokenOf(inv.InviteMember.InviteLink)}
}

// accept answers acceptInvitation without signing in, with the password given.
func (p *passwordPaths) accept(t *testing.T, password string) *apptest.Response {
	t.Helper()
	return p.s.Do(t, "", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { accessToken refreshToken } }`,
		map[string]any{"in": map[string]any{"token": p.token, "password": password}})
}

func (p *passwordPaths) changePassword(t *testing.T, current string) *apptest.Response {
	t.Helper()
	return p.s.Do(t, p.ada.Token, `mutation($c: String!) { changePassword(currentPassword: $c, newPassword: "a brand new passphrase") }`,
		map[string]any{"c": current})
}

// stillPending reports whether the invitation can still be accepted.
func (p *passwordPaths) stillPending(t *testing.T) bool {
	t.Helper()
	r := p.s.Do(t, "", `query($t: String!) { invitation(token: $t) { email } }`, map[string]any{"t": p.token})
	return len(r.Errors) == 0
}

func wantCodes(t *testing.T, what string, r *apptest.Response, codes ...string) {
	t.Helper()
	if !slices.Equal(r.Codes(), codes) {
		t.Fatalf("%s: codes %v, want %v (data %s)", what, r.Codes(), codes, r.Data)
	}
}

// The reported attack: a locked account was signed in through acceptInvitation.
func TestLockedAccountCannotAcceptInvitation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		p := newPasswordPaths(t, d)
		for range 3 {
			logInCodes(t, p.s, "ada@example.com", "wrong password!")
		}
		r := p.accept(t, apptest.Password)
		wantCodes(t, "right password on a locked account", r, "ACCOUNT_LOCKED")
		if string(r.Data) != "null" {
			t.Errorf("a locked account got tokens: %s", r.Data)
		}
		if !p.stillPending(t) {
			t.Error("the refused acceptance used up the invitation")
		}
	})
}

func TestFailedAcceptInvitationPasswordsCountTowardsLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		p := newPasswordPaths(t, d)
		for i := range 3 {
			wantCodes(t, "wrong password", p.accept(t, "wrong password!"), "INVALID_CREDENTIALS")
			if !p.stillPending(t) {
				t.Fatalf("wrong password %d used up the invitation", i+1)
			}
		}
		wantCodes(t, "acceptInvitation after 3 wrong passwords", p.accept(t, apptest.Password), "ACCOUNT_LOCKED")
		if got := logInCodes(t, p.s, "ada@example.com", apptest.Password); !slices.Equal(got, []string{"ACCOUNT_LOCKED"}) {
			t.Fatalf("logIn after 3 wrong passwords on acceptInvitation: %v", got)
		}
	})
}

func TestWrongCurrentPasswordCountsTowardsLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		p := newPasswordPaths(t, d)
		for range 3 {
			r := p.changePassword(t, "wrong password!")
			wantCodes(t, "wrong current password", r, "BAD_USER_INPUT")
			if f := r.Errors[0].Extensions["field"]; f != "currentPassword" {
				t.Errorf("field %v, want currentPassword", f)
			}
		}
		wantCodes(t, "changePassword after 3 wrong ones", p.changePassword(t, apptest.Password), "ACCOUNT_LOCKED")
		if got := logInCodes(t, p.s, "ada@example.com", apptest.Password); !slices.Equal(got, []string{"ACCOUNT_LOCKED"}) {
			t.Fatalf("logIn after 3 wrong current passwords: %v", got)
		}
		// The password did not change.
		if got := logInCodes(t, p.s, "ada@example.com", "a brand new passphrase"); !slices.Equal(got, []string{"ACCOUNT_LOCKED"}) {
			t.Fatalf("logIn with the refused new password: %v", got)
		}
	})
}

// One failure on each path adds up to the one lock, and a success on any path
// starts the count afresh.
func TestPasswordPathsShareOneCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		p := newPasswordPaths(t, d)
		logInCodes(t, p.s, "ada@example.com", "wrong password!")
		p.accept(t, "wrong password!")
		p.changePassword(t, "wrong password!")
		if got := logInCodes(t, p.s, "ada@example.com", apptest.Password); !slices.Equal(got, []string{"ACCOUNT_LOCKED"}) {
			t.Fatalf("after one failure on each path, logIn gives %v", got)
		}

		q := newPasswordPaths(t, d)
		logInCodes(t, q.s, "ada@example.com", "wrong password!")
		q.changePassword(t, "wrong password!")
		r := q.accept(t, apptest.Password)
		wantCodes(t, "acceptInvitation with the right password after 2 failures", r)
		logInCodes(t, q.s, "ada@example.com", "wrong password!")
		logInCodes(t, q.s, "ada@example.com", "wrong password!")
		if got := logInCodes(t, q.s, "ada@example.com", apptest.Password); len(got) != 0 {
			t.Fatalf("the success on acceptInvitation did not reset the count: %v", got)
		}
	})
}
