package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// The link sent to a new address shows a button rather than confirming on its
// own (mail scanners open links); pressing it moves the login to the address.
func TestConfirmEmailPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		u := s.SignUp(t, "old.address@example.com", "Olga", "Old")
		s.MustDo(t, u.Token, `mutation($p: String!) { changeEmail(currentPassword: $p, newEmail: "new.address@example.com") }`,
			map[string]any{"p": apptest.Password})
		s.Deliver(t)
		token := s.LinkToken(t, "new.address@example.com", "/confirm-email")

		res, body := page(t, http.MethodGet, s.URL+"/confirm-email?token="+url.QueryEscape(token), nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Confirm my new address") {
			t.Fatalf("confirm page: %d %s", res.StatusCode, body)
		}
		// Opening the link changed nothing.
		s.LogIn(t, "old.address@example.com", "")
		res, body = page(t, http.MethodPost, s.URL+"/confirm-email", url.Values{"token": {token}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Address changed") {
			t.Fatalf("confirming: %d %s", res.StatusCode, body)
		}
		s.LogIn(t, "new.address@example.com", "")
		res, body = page(t, http.MethodPost, s.URL+"/confirm-email", url.Values{"token": {token}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) {
			t.Errorf("a used link: %d %s", res.StatusCode, body)
		}
	})
}
