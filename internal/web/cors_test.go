package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// corsPage is a single-page app of another origin: it signs up, follows the
// emailed link (read from its own origin's /inbox, the test's mailbox), creates
// an organization, switches to it and reads the viewer, and shows the outcome.
const corsPage = `<!doctype html>
<title>app</title>
<pre id="out"></pre>
<script>
const api = %q;
async function gql(query, variables, token) {
  const headers = {'Content-Type': 'application/json'};
  if (token) headers['Authorization'] = 'Bearer ' + token;
  const res = await fetch(api, {method: 'POST', headers, body: JSON.stringify({query, variables})});
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
(async () => {
  await gql('mutation($in: SignUpInput!) { signUp(input: $in) { verificationSent } }',
    {in: {email: 'grace@example.com', password: 'a long passphrase', firstName: 'Grace', lastName: 'Hopper'}});
  const link = await (await fetch('/inbox?to=grace@example.com')).text();
  const up = await gql('mutation($t: String!) { verifyEmail(token: $t, password: "a long passphrase") { accessToken } }', {t: link});
  const org = await gql('mutation { createOrganization(input: {name: "Harbour Rowing", preset: ACTIVITY}) { id } }',
    null, up.verifyEmail.accessToken);
  const sw = await gql('mutation($id: ID!) { switchOrganization(organizationId: $id) { accessToken } }',
    {id: org.createOrganization.id}, up.verifyEmail.accessToken);
  const me = await gql('{ viewer { user { name } organization { name } } }', null, sw.switchOrganization.accessToken);
  document.getElementById('out').textContent = 'ok ' + JSON.stringify(me);
})().catch(e => { document.getElementById('out').textContent = 'failed ' + e; });
</script>`

// A single-page app served from another origin works against the API when its
// origin is listed, and is refused by the browser when it is not.
func TestCORSFromAnotherOriginInBrowser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		var s *apptest.Server
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/inbox" {
				fmt.Fprint(w, verificationToken(r, s))
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, corsPage, s.URL+"/graphql")
		}))
		t.Cleanup(app.Close)
		s = apptest.New(t, d, "STAFFROOM_CORS_ORIGINS="+app.URL)
		ctx := newTab(t)

		out := func(pageURL string) string {
			t.Helper()
			if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
				t.Fatal(err)
			}
			return waitJS(ctx, t, "the app's outcome", `document.getElementById('out')?.textContent || ''`)
		}
		got := out(app.URL)
		if !strings.HasPrefix(got, "ok ") || !strings.Contains(got, `"name":"Harbour Rowing"`) ||
			!strings.Contains(got, `"name":"Grace Hopper"`) {
			t.Errorf("from the listed origin the app shows: %s", got)
		}

		// The same page from http://localhost:port is another origin, not listed.
		unlisted := strings.Replace(app.URL, "127.0.0.1", "localhost", 1)
		if got := out(unlisted); !strings.HasPrefix(got, "failed TypeError") {
			t.Errorf("from an unlisted origin the app shows: %s", got)
		}
	})
}

// verificationToken delivers the queued emails and returns the token of the
// last verification link sent to the address in the query, or "".
func verificationToken(r *http.Request, s *apptest.Server) string {
	for {
		n, err := s.App.Outbox.RunOnce(r.Context())
		if err != nil || n == 0 {
			break
		}
	}
	sent := s.Mail.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if _, rest, ok := strings.Cut(sent[i].Text, "/verify-email?token="); ok && sent[i].To == r.URL.Query().Get("to") {
			return strings.Fields(rest)[0]
		}
	}
	return ""
}

// A preflight from a listed origin allows the token and JSON, for a while; an
// origin not listed gets no Access-Control-Allow-Origin, nor does any origin by
// default.
func TestCORSPreflight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		listed := apptest.New(t, d, "STAFFROOM_CORS_ORIGINS=https://app.example.com, https://admin.example.com")
		plain := apptest.New(t, d)
		cases := []struct {
			name, url, origin string
			allowed           bool
		}{
			{"listed origin", listed.URL, "https://app.example.com", true},
			{"second listed origin", listed.URL, "https://admin.example.com", true},
			{"origin not listed", listed.URL, "https://evil.example.com", false},
			{"listed host on another scheme", listed.URL, "http://app.example.com", false},
			{"no origins by default", plain.URL, "https://app.example.com", false},
		}
		for _, c := range cases {
			req, _ := http.NewRequest(http.MethodOptions, c.url+"/graphql", nil)
			req.Header.Set("Origin", c.origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			h := res.Header
			if got := h.Get("Access-Control-Allow-Origin"); (got == c.origin) != c.allowed || (!c.allowed && got != "") {
				t.Errorf("%s: Access-Control-Allow-Origin %q", c.name, got)
			}
			if !c.allowed {
				continue
			}
			allowHeaders := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
			if !strings.Contains(allowHeaders, "authorization") || !strings.Contains(allowHeaders, "content-type") {
				t.Errorf("%s: Access-Control-Allow-Headers %q", c.name, allowHeaders)
			}
			if h.Get("Access-Control-Max-Age") != "600" {
				t.Errorf("%s: Access-Control-Max-Age %q", c.name, h.Get("Access-Control-Max-Age"))
			}
		}

		// The answer itself carries the header too, so the app can read it.
		req, _ := http.NewRequest(http.MethodPost, listed.URL+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://app.example.com")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
			t.Errorf("POST from a listed origin: Access-Control-Allow-Origin %q", got)
		}
	})
}
