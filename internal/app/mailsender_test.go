package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"staffroom/ent/outboxemail"
	"staffroom/internal/access"
	"staffroom/internal/app"
	"staffroom/internal/auth"
	"staffroom/internal/config"
	"staffroom/internal/store/storetest"
)

// lockedBuffer is a log destination that the server's goroutines share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logServer is a server of the environment that sends email with the log
// sender, as chosen by its settings alone, into logs.
type logServer struct {
	app  *app.App
	url  string
	logs *lockedBuffer
}

func startLogServer(t *testing.T, d storetest.Dialect, env string) *logServer {
	t.Helper()
	dir := t.TempDir()
	// A generated key stands in for the key file that production requires.
	if _, err := auth.LoadKeySet("", nil, dir); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"STAFFROOM_ENV":              env,
		"STAFFROOM_DATA_DIR":         dir,
		"STAFFROOM_SIGNING_KEY_FILE": filepath.Join(dir, auth.DevSigningKeyFile),
		"STAFFROOM_MAIL_SENDER":      "log",
	}
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	a, err := app.New(cfg, storetest.Open(t, d), slog.New(slog.NewTextHandler(logs, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(a.Handler)
	t.Cleanup(ts.Close)
	return &logServer{app: a, url: ts.URL, logs: logs}
}

// do posts a GraphQL request and decodes its data into out, failing on errors.
func (s *logServer) do(t *testing.T, token, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%s: %s", query, raw)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

// inviteAndReset has an owner invite Zoe and ask for a password reset, lets
// the outbox send both emails, and returns the invitation's token, which the
// inviter is shown once.
func (s *logServer) inviteAndReset(t *testing.T) string {
	t.Helper()
	const fields = `accessToken`
	s.do(t, "", `mutation { signUp(input: {email: "olivia@example.com", password: "correct horse battery staple", firstName: "Olivia", lastName: "Owner"}) { email } }`, nil, nil)
	// The verification link, read from the queue, as the mailbox would show it.
	queued := s.app.DB.Client.OutboxEmail.Query().Where(outboxemail.ToAddress("olivia@example.com")).
		OnlyX(access.SystemContext(context.Background(), "test"))
	_, link, _ := strings.Cut(queued.TextBody, "verify-email?token=")
	var verified struct{ VerifyEmail struct{ AccessToken string } }
	s.do(t, "", `mutation($t: String!) { verifyEmail(token: $t, password: "correct horse battery staple") { `+fields+` } }`,
		map[string]any{"t": strings.Fields(link)[0]}, &verified)
	var org struct{ CreateOrganization struct{ ID string } }
	s.do(t, verified.VerifyEmail.AccessToken, `mutation { createOrganization(input: {name: "Acme", preset: ACTIVITY}) { id } }`, nil, &org)
	var switched struct{ SwitchOrganization struct{ AccessToken string } }
	s.do(t, verified.VerifyEmail.AccessToken, `mutation($id: ID!) { switchOrganization(organizationId: $id) { `+fields+` } }`,
		map[string]any{"id": org.CreateOrganization.ID}, &switched)
	owner := switched.SwitchOrganization.AccessToken
	var roles struct {
		Viewer struct {
			Organization struct{ Roles []struct{ ID, Key string } }
		}
	}
	s.do(t, owner, `{ viewer { organization { roles { id key } } } }`, nil, &roles)
	var guest string
	for _, r := range roles.Viewer.Organization.Roles {
		if r.Key == "guest" {
			guest = r.ID
		}
	}
	var inv struct{ InviteMember struct{ InviteLink string } }
	s.do(t, owner, `mutation($r: ID!) { inviteMember(input: {email: "zoe@example.com", firstName: "Zoe", lastName: "Zed", roleId: $r}) { inviteLink } }`,
		map[string]any{"r": guest}, &inv)
	s.do(t, "", `mutation { requestPasswordReset(email: "olivia@example.com") }`, nil, nil)
	for {
		n, err := s.app.Outbox.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	_, token, ok := strings.Cut(inv.InviteMember.InviteLink, "token=")
	if !ok || token == "" {
		t.Fatalf("no token in the invite link %q", inv.InviteMember.InviteLink)
	}
	return token
}

func TestLogSenderKeepsLinksOutOfProductionLogs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := startLogServer(t, d, "production")
		token := s.inviteAndReset(t)
		logs := s.logs.String()
		for _, to := range []string{"zoe@example.com", "olivia@example.com"} {
			if !strings.Contains(logs, to) {
				t.Errorf("the email to %s was not logged at all:\n%s", to, logs)
			}
		}
		for _, secret := range []string{token, "token=", "/reset-password", "/invitation"} {
			if strings.Contains(logs, secret) {
				t.Errorf("production logs contain %q:\n%s", secret, logs)
			}
		}
	})
}

func TestLogSenderShowsLinksInDevelopment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := startLogServer(t, d, "development")
		s.inviteAndReset(t)
		logs := s.logs.String()
		if !strings.Contains(logs, "/invitation?token=") {
			t.Errorf("development logs lack the invitation link:\n%s", logs)
		}
		if !strings.Contains(logs, "/reset-password?token=") {
			t.Errorf("development logs lack the reset link:\n%s", logs)
		}
	})
}
