package pages_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"

	_ "staffroom/ent/runtime"
)

// page fetches a page and returns its status and body.
func page(t *testing.T, method, target string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// invite invites an address to the organization as a guest and returns the
// token of the emailed link.
func invite(t *testing.T, s *apptest.Server, org *apptest.Org, email string) string {
	t.Helper()
	var roles struct {
		Viewer struct {
			Organization struct{ Roles []struct{ ID, Key string } }
		}
	}
	s.MustDo(t, org.Owner.Token, `{ viewer { organization { roles { id key } } } }`, nil).Decode(t, &roles)
	var guest string
	for _, r := range roles.Viewer.Organization.Roles {
		if r.Key == "guest" {
			guest = r.ID
		}
	}
	s.MustDo(t, org.Owner.Token, `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { inviteLink } }`,
		map[string]any{"in": map[string]any{"email": email, "firstName": "Nia", "lastName": "New", "roleId": guest}})
	s.Deliver(t)
	return s.LinkToken(t, email, "/invitation")
}

// A person follows the emailed invitation link without any front end: the page
// shows what they are invited to, creates their login and joins them, and the
// login works through the API afterwards.
func TestInvitationPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Pages Club", "ACTIVITY")
		token := invite(t, s, org, "nia@example.com")

		res, body := page(t, http.MethodGet, s.URL+"/invitation?token="+url.QueryEscape(token), nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Pages Club") || !strings.Contains(body, "Guest") ||
			!strings.Contains(body, "nia@example.com") {
			t.Fatalf("invitation page: %d %s", res.StatusCode, body)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") {
			t.Errorf("Content-Security-Policy %q", csp)
		}
		if res.Header.Get("Referrer-Policy") != "no-referrer" || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("a page with a token in its address must not be cached or sent on: %v", res.Header)
		}

		form := url.Values{"token": {token}, "firstName": {"Nia"}, "lastName": {"New"}, "password": {"short"}}
		res, body = page(t, http.MethodPost, s.URL+"/invitation", form)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `value="Nia"`) {
			t.Errorf("a too short password: want the form again with the error and the names kept, got %d %s", res.StatusCode, body)
		}

		form.Set("password", "a long enough passphrase")
		// A post from another site is refused: the browser says where it comes from.
		res, _ = page(t, http.MethodPost, s.URL+"/invitation", form, "Sec-Fetch-Site", "cross-site")
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-site post: want 403, got %d", res.StatusCode)
		}
		res, body = page(t, http.MethodPost, s.URL+"/invitation", form, "Sec-Fetch-Site", "same-origin")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "You have joined") {
			t.Fatalf("accepting: %d %s", res.StatusCode, body)
		}
		r := s.MustDo(t, "", `mutation { logIn(input: {email: "nia@example.com", password: "a long enough passphrase"}) { viewer { organization { name } user { emailVerified } } } }`, nil)
		if !strings.Contains(string(r.Data), `"Pages Club"`) || !strings.Contains(string(r.Data), `"emailVerified":true`) {
			t.Errorf("after joining through the emailed link: %s", r.Data)
		}

		res, body = page(t, http.MethodGet, s.URL+"/invitation?token="+url.QueryEscape(token), nil)
		if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "cannot be used") {
			t.Errorf("a used invitation: %d %s", res.StatusCode, body)
		}
	})
}

// The reset link leads to a page that sets the new password; the old one stops
// working.
func TestResetPasswordPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		u := s.SignUp(t, "rosa@example.com", "Rosa", "Reset")
		s.MustDo(t, "", `mutation { requestPasswordReset(email: "rosa@example.com") }`, nil)
		s.Deliver(t)
		token := s.LinkToken(t, u.Email, "/reset-password")

		res, body := page(t, http.MethodGet, s.URL+"/reset-password?token="+url.QueryEscape(token), nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `autocomplete="new-password"`) {
			t.Fatalf("reset page: %d %s", res.StatusCode, body)
		}
		res, body = page(t, http.MethodPost, s.URL+"/reset-password", url.Values{"token": {"not-a-token"}, "password": {"another long passphrase"}})
		if res.StatusCode < 400 || !strings.Contains(body, `role="alert"`) {
			t.Errorf("an unknown token: %d %s", res.StatusCode, body)
		}
		res, body = page(t, http.MethodPost, s.URL+"/reset-password", url.Values{"token": {token}, "password": {"another long passphrase"}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Password changed") {
			t.Fatalf("resetting: %d %s", res.StatusCode, body)
		}
		s.MustDo(t, "", `mutation { logIn(input: {email: "rosa@example.com", password: "another long passphrase"}) { accessToken } }`, nil)
		if r := s.Do(t, "", `mutation { logIn(input: {email: "rosa@example.com", password: "`+apptest.Password+`"}) { accessToken } }`, nil); len(r.Errors) == 0 {
			t.Error("the old password still works")
		}
	})
}

// The verification link shows a button rather than confirming on its own (mail
// scanners open links); pressing it confirms the address.
func TestVerifyEmailPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		s.SignUpOnly(t, "vera@example.com", "Vera", "Verify", apptest.Password)
		token := s.LinkToken(t, "vera@example.com", "/verify-email")
		verified := func() string {
			u := s.LogIn(t, "vera@example.com", "")
			return string(s.MustDo(t, u.Token, `{ viewer { user { emailVerified } } }`, nil).Data)
		}

		res, _ := page(t, http.MethodGet, s.URL+"/verify-email?token="+url.QueryEscape(token), nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(verified(), `"emailVerified":false`) {
			t.Fatalf("opening the link: %d, %s", res.StatusCode, verified())
		}
		res, body := page(t, http.MethodPost, s.URL+"/verify-email", url.Values{"token": {token}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) {
			t.Errorf("confirming without a password: want the form again with the error, got %d %s", res.StatusCode, body)
		}
		res, body = page(t, http.MethodPost, s.URL+"/verify-email", url.Values{"token": {token}, "password": {apptest.Password}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Address confirmed") {
			t.Fatalf("confirming: %d %s", res.StatusCode, body)
		}
		if got := verified(); !strings.Contains(got, `"emailVerified":true`) {
			t.Errorf("after confirming: %s", got)
		}
	})
}
