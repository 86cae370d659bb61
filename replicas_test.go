package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"staffroom/internal/demo"
	"staffroom/internal/mail/mailtest"
	"staffroom/internal/store/storetest"
)

// Three server processes on one PostgreSQL database, behind no balancer but
// this test, which sends each request to the next one in turn: every security
// promise holds for the three together. Each part comes from a client address
// of its own (the servers trust this test's X-Forwarded-For), so that the
// limits per address of one part leave the others alone.
func TestReplicasBehaveAsOne(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	replicasBehaveAsOne(t, dbURL, "DATABASE_URL="+dbURL)
}

// The same, with the replicas reaching PostgreSQL through PgBouncer in
// transaction mode, as STAFFROOM_DB_TRANSACTION_POOLING describes.
func TestReplicasBehaveAsOneBehindPgBouncer(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	replicasBehaveAsOne(t, dbURL, "DATABASE_URL="+storetest.PgBouncer(t, dbURL), "STAFFROOM_DB_TRANSACTION_POOLING=true")
}

// replicasBehaveAsOne starts three replicas with env on the empty database
// dbURL, which they migrate together, and drives them.
func replicasBehaveAsOne(t *testing.T, dbURL string, env ...string) {
	smtp := mailtest.Start(t, mailtest.Options{})
	env = append(env,
		"STAFFROOM_SIGNING_KEY_FILE="+signingKeyFile(t),
		"STAFFROOM_SMTP_URL="+smtp.URL,
		"STAFFROOM_SESSION_RATE_LIMIT=6",
		"STAFFROOM_TRUSTED_PROXIES=127.0.0.1",
		"STAFFROOM_LOG_LEVEL=warn",
	)
	c := startReplicas(t, 3, append(env, "STAFFROOM_ENV=production"))
	// The demo organization, a login for every role, made the way a newcomer
	// makes it (the demo refuses to run in production).
	if out, errOut, code := runBinary(t, t.TempDir(), env, "demo"); code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}

	// Refresh reuse needs the grace period (10 s) to pass between a rotation
	// and the reuse: the rotation comes first, the reuse last.
	reuser := c.logIn(t, 0, "203.0.113.4", demo.Email("attendant"), demo.Password)
	rotated := c.refresh(t, 1, "203.0.113.4", reuser.RefreshToken)
	if rotated.AccessToken == "" {
		t.Fatal("refreshSession on another replica gave no tokens")
	}
	rotatedAt := time.Now()

	t.Run("the rate limit is one for all replicas", func(t *testing.T) {
		var codes []string
		for i := range 9 {
			r := c.do(t, i%3, "203.0.113.1", "", `mutation { requestPasswordReset(email: "nobody@example.com") }`, nil)
			codes = append(codes, strings.Join(r.codes(), ","))
		}
		want := []string{"", "", "", "", "", "", "RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED"}
		if !slices.Equal(codes, want) {
			t.Errorf("nine requests round-robin with a limit of 6 a minute: %q, want %q", codes, want)
		}
	})

	t.Run("failed log-ins on different replicas lock the account", func(t *testing.T) {
		for i := range 3 {
			r := c.do(t, i, "203.0.113.2", "", logIn, logInVars(demo.Email("guest"), "not the password"))
			if !slices.Equal(r.codes(), []string{"INVALID_CREDENTIALS"}) {
				t.Fatalf("wrong password on replica %d: %v", i, r.codes())
			}
		}
		for i := range 2 {
			r := c.do(t, i, "203.0.113.2", "", logIn, logInVars(demo.Email("guest"), demo.Password))
			if !slices.Equal(r.codes(), []string{"ACCOUNT_LOCKED"}) {
				t.Errorf("right password on replica %d after 3 failures: %v, want ACCOUNT_LOCKED", i, r.codes())
			}
		}
	})

	t.Run("a session logged out on one replica is refused by the others", func(t *testing.T) {
		u := c.logIn(t, 0, "203.0.113.3", demo.Email("instructor"), demo.Password)
		for i := 1; i < 3; i++ {
			// Each replica has now verified, and remembers, the token.
			if r := c.do(t, i, "203.0.113.3", u.AccessToken, viewerEmail, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("viewer on replica %d: %d %v", i, r.Status, r.codes())
			}
		}
		if r := c.do(t, 0, "203.0.113.3", u.AccessToken, `mutation { logOut }`, nil); len(r.Errors) > 0 {
			t.Fatalf("logOut: %v", r.codes())
		}
		for i := 1; i < 3; i++ {
			r := c.do(t, i, "203.0.113.3", u.AccessToken, viewerEmail, nil)
			if r.Status != http.StatusUnauthorized || !slices.Equal(r.codes(), []string{"UNAUTHENTICATED"}) {
				t.Errorf("viewer on replica %d after logOut on replica 0: %d %v, want 401 UNAUTHENTICATED", i, r.Status, r.codes())
			}
		}
		r := c.do(t, 1, "203.0.113.3", "", refreshSession, map[string]any{"t": u.RefreshToken})
		if !slices.Equal(r.codes(), []string{"UNAUTHENTICATED"}) {
			t.Errorf("refresh after logOut: %v", r.codes())
		}
	})

	t.Run("each queued email is sent once", func(t *testing.T) {
		owner := c.logIn(t, 0, "203.0.113.5", demo.Email("owner"), demo.Password)
		var roles struct {
			Viewer struct {
				Organization struct{ Roles []struct{ ID, Key string } }
			}
		}
		c.do(t, 1, "203.0.113.5", owner.AccessToken, `{ viewer { organization { roles { id key } } } }`, nil).decode(t, &roles)
		roleID := ""
		for _, r := range roles.Viewer.Organization.Roles {
			if r.Key == "instructor" {
				roleID = r.ID
			}
		}
		invitee := func(i int) map[string]any {
			return map[string]any{"email": fmt.Sprintf("replica.%d@example.com", i), "firstName": "Rep", "lastName": fmt.Sprint("Lica ", i), "roleId": roleID}
		}
		// Three invitations round-robin, then twelve at once: the three
		// replicas' outbox workers compete for fifteen emails.
		for i := range 3 {
			r := c.do(t, i, "203.0.113.5", owner.AccessToken, `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { inviteLink } }`,
				map[string]any{"in": invitee(i)})
			if len(r.Errors) > 0 {
				t.Fatalf("inviteMember on replica %d: %v", i, r.codes())
			}
		}
		var many []map[string]any
		for i := 3; i < 15; i++ {
			many = append(many, invitee(i))
		}
		r := c.do(t, 0, "203.0.113.5", owner.AccessToken, `mutation($in: [InviteMemberInput!]!) { inviteMembers(input: $in) { error { message } } }`,
			map[string]any{"in": many})
		if len(r.Errors) > 0 || strings.Contains(string(r.Data), "message") {
			t.Fatalf("inviteMembers: %v %s", r.codes(), r.Data)
		}
		received := func() map[string]int {
			n := map[string]int{}
			for _, e := range smtp.Emails() {
				for _, to := range e.To {
					if strings.HasPrefix(to, "replica.") {
						n[to]++
					}
				}
			}
			return n
		}
		deadline := time.Now().Add(time.Minute)
		for len(received()) < 15 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		// Three more polls of every worker, for any second sending to show.
		time.Sleep(3 * time.Second)
		got := received()
		for i := range 15 {
			if to := fmt.Sprintf("replica.%d@example.com", i); got[to] != 1 {
				t.Errorf("%s received %d invitation emails, want 1", to, got[to])
			}
		}
		db, err := sql.Open("postgres", dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var sent, attempts int
		if err := db.QueryRow(`SELECT count(*), coalesce(sum(attempts), 0) FROM outbox_emails
			WHERE to_address LIKE 'replica.%' AND status = 'SENT'`).Scan(&sent, &attempts); err != nil {
			t.Fatal(err)
		}
		if sent != 15 || attempts != 15 {
			t.Errorf("outbox: %d emails SENT in %d attempts, want 15 in 15", sent, attempts)
		}
	})

	t.Run("a reused refresh token revokes its family on every replica", func(t *testing.T) {
		time.Sleep(time.Until(rotatedAt.Add(11 * time.Second)))
		r := c.do(t, 2, "203.0.113.4", "", refreshSession, map[string]any{"t": reuser.RefreshToken})
		if !slices.Equal(r.codes(), []string{"UNAUTHENTICATED"}) {
			t.Fatalf("the spent token presented again on replica 2: %v, want UNAUTHENTICATED", r.codes())
		}
		r = c.do(t, 0, "203.0.113.4", "", refreshSession, map[string]any{"t": rotated.RefreshToken})
		if !slices.Equal(r.codes(), []string{"UNAUTHENTICATED"}) {
			t.Errorf("its successor on replica 0 after the reuse: %v, want UNAUTHENTICATED", r.codes())
		}
		if r := c.do(t, 1, "203.0.113.4", rotated.AccessToken, viewerEmail, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("the successor's access token on replica 1 after the reuse: %d, want 401", r.Status)
		}
	})
}

const (
	logIn          = `mutation($in: LogInInput!) { logIn(input: $in) { accessToken refreshToken } }`
	refreshSession = `mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }`
	viewerEmail    = `{ viewer { user { email } } }`
)

func logInVars(email, password string) map[string]any {
	return map[string]any{"in": map[string]any{"email": email, "password": password}}
}

// signingKeyFile writes an Ed25519 signing key that every replica shares, as
// production requires.
func signingKeyFile(t *testing.T) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "signing-key.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// cluster is the replicas' base URLs.
type cluster struct{ urls []string }

// startReplicas starts n servers with env, all at once, each on a free port
// with a data directory of its own, and stops them when the test ends. A
// server's log is shown when the test fails.
func startReplicas(t *testing.T, n int, env []string) *cluster {
	t.Helper()
	c := &cluster{}
	outputs := make([]io.Reader, n)
	logs := make([]*syncBuffer, n)
	for i := range n {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		cmd := command(ctx, t, dir, append(env, "STAFFROOM_ADDR=127.0.0.1:0", "STAFFROOM_DATA_DIR="+dir))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		logs[i], outputs[i] = &syncBuffer{}, stdout
		cmd.Stderr = logs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cancel()
				<-done
			}
			cancel()
			if t.Failed() {
				t.Logf("replica %d's log:\n%s", i, logs[i].String())
			}
		})
	}
	for i, stdout := range outputs {
		url := ""
		lines := bufio.NewScanner(stdout)
		for url == "" && lines.Scan() {
			logs[i].Write(append(lines.Bytes(), '\n'))
			if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(lines.Text()); m != nil {
				url = m[1]
			}
		}
		if url == "" {
			t.Fatalf("replica %d did not start:\n%s", i, logs[i].String())
		}
		go io.Copy(logs[i], stdout) //nolint:errcheck // keeps the log from blocking the server
		c.urls = append(c.urls, url)
	}
	return c
}

// response is a GraphQL response as a client sees it.
type response struct {
	Status int
	Data   json.RawMessage
	Errors []struct {
		Message    string
		Extensions struct{ Code string }
	}
}

func (r *response) codes() []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, e.Extensions.Code)
	}
	return out
}

func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// do posts a GraphQL request to replica i as a client at ip.
func (c *cluster) do(t *testing.T, i int, ip, token, query string, vars map[string]any) *response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, c.urls[i]+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := &response{Status: res.StatusCode}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("replica %d answered %d with no JSON: %v", i, res.StatusCode, err)
	}
	return out
}

type tokens struct{ AccessToken, RefreshToken string }

func (c *cluster) logIn(t *testing.T, i int, ip, email, password string) tokens {
	t.Helper()
	var out struct{ LogIn tokens }
	c.do(t, i, ip, "", logIn, logInVars(email, password)).decode(t, &out)
	return out.LogIn
}

func (c *cluster) refresh(t *testing.T, i int, ip, refreshToken string) tokens {
	t.Helper()
	var out struct{ RefreshSession tokens }
	c.do(t, i, ip, "", refreshSession, map[string]any{"t": refreshToken}).decode(t, &out)
	return out.RefreshSession
}

// syncBuffer is a buffer that a server's output and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
