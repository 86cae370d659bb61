package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// A newcomer follows the link of their invitation email in a real browser: the
// server's own page shows the invitation, takes their name and password, and
// their login then works through the API. The page keeps its content-security
// policy and needs no script.
func TestInvitationLinkInBrowser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Browser Club", "ACTIVITY")
		var roles struct {
			Viewer struct {
				Organization struct{ Roles []struct{ ID, Key string } }
			}
		}
		s.MustDo(t, org.Owner.Token, `{ viewer { organization { roles { id key } } } }`, nil).Decode(t, &roles)
		var instructor string
		for _, r := range roles.Viewer.Organization.Roles {
			if r.Key == "instructor" {
				instructor = r.ID
			}
		}
		s.MustDo(t, org.Owner.Token, `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { inviteLink } }`,
			map[string]any{"in": map[string]any{"email": "ines@example.com", "firstName": "Ines", "lastName": "Invited", "roleId": instructor}})
		s.Deliver(t)
		// The link as the email has it: STAFFROOM_PUBLIC_URL is the server itself.
		var link string
		for _, m := range s.Mail.Sent() {
			if m.To == "ines@example.com" {
				for _, word := range strings.Fields(m.Text) {
					if strings.Contains(word, "/invitation?token=") {
						link = word
					}
				}
			}
		}
		if link == "" {
			t.Fatal("no invitation link in the email")
		}
		link = s.URL + link[strings.Index(link, "/invitation?"):]

		ctx := newTab(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
			t.Fatal(err)
		}
		intro, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(intro, "Browser Club") || !strings.Contains(intro, "Instructor") {
			t.Fatalf("the invitation page shows:\n%s", intro)
		}
		for _, step := range []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS("#firstName"), "Inès"),
			chromedp.SendKeys(chromedp.CSS("#lastName"), "Invited"),
			chromedp.SendKeys(chromedp.CSS("#password"), "a long enough passphrase"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
		} {
			if err := chromedp.Do(ctx, step); err != nil {
				t.Fatal(err)
			}
		}
		done, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(done, "You have joined") {
			t.Fatalf("after submitting:\n%s", done)
		}
		noCSPViolations(ctx, t)

		r := s.MustDo(t, "", `mutation { logIn(input: {email: "ines@example.com", password: "a long enough passphrase"}) { viewer { user { name } organization { name } membership { role { key } } } } }`, nil)
		for _, want := range []string{`"Inès Invited"`, `"Browser Club"`, `"instructor"`} {
			if !strings.Contains(string(r.Data), want) {
				t.Errorf("the new login's viewer lacks %s: %s", want, r.Data)
			}
		}
	})
}
