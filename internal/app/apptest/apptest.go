// Package apptest runs a real Staffroom server for tests: a fresh database of
// each dialect, the assembled app behind an httptest.Server, and a client that
// posts GraphQL over HTTP.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app"
	"staffroom/internal/config"
	"staffroom/internal/mail"
	"staffroom/internal/organization"
	"staffroom/internal/store"
	"staffroom/internal/store/storetest"
)

// Server is a running Staffroom.
type Server struct {
	URL    string
	DB     *store.DB
	App    *app.App
	Mail   *mail.Recorder
	Config config.Config
	ts     *httptest.Server
}

// New starts a server on a fresh database of the dialect. env overrides settings
// (for example STAFFROOM_LOCKOUT_DURATION).
func New(t testing.TB, d storetest.Dialect, env ...string) *Server {
	t.Helper()
	return NewLogged(t, d, nil, env...)
}

// NewLogged is New with the server's log, every level, written to w as text
// (nil: discarded, or at WARN in the test's output with -v).
func NewLogged(t testing.TB, d storetest.Dialect, w io.Writer, env ...string) *Server {
	t.Helper()
	return start(t, storetest.Open(t, d), w, env...)
}

// Restart starts a second server on the same database, with other settings:
// what an installation sees after a restart.
func (s *Server) Restart(t testing.TB, env ...string) *Server {
	t.Helper()
	return start(t, s.DB, nil, env...)
}

func start(t testing.TB, db *store.DB, w io.Writer, env ...string) *Server {
	t.Helper()
	vars := map[string]string{"STAFFROOM_DATA_DIR": t.TempDir()}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	rec := &mail.Recorder{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if w != nil {
		log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := app.New(cfg, db, log, app.Options{Mailer: rec})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(a.Handler)
	t.Cleanup(ts.Close)
	return &Server{URL: ts.URL, DB: db, App: a, Mail: rec, Config: cfg, ts: ts}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Response is a GraphQL response as a client sees it.
type Response struct {
	Status int
	Data   json.RawMessage
	Errors []Error
}

// Error is one entry of a response's errors.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Codes returns the codes of every error, in order.
func (r *Response) Codes() []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, e.Code())
	}
	return out
}

// Decode unmarshals data into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// Do posts a GraphQL request with an optional bearer token.
func (s *Server) Do(t testing.TB, token, query string, vars map[string]any) *Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return s.send(t, req)
}

func (s *Server) send(t testing.TB, req *http.Request) *Response {
	t.Helper()
	res, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []Error         `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body is not JSON: %s", res.StatusCode, raw)
	}
	return &Response{Status: res.StatusCode, Data: out.Data, Errors: out.Errors}
}

// MustDo is Do that fails the test on any error in the response.
func (s *Server) MustDo(t testing.TB, token, query string, vars map[string]any) *Response {
	t.Helper()
	r := s.Do(t, token, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	return r
}

// Password is the password of every user the helpers create.
const Password = "correct horse battery staple"

// User is a signed-in user.
type User struct {
	ID           pulid.ID
	Email        string
	Token        string
	RefreshToken string
}

const authFields = `accessToken refreshToken viewer { user { id } }`

// SignUp creates a user through the API, verifies their address with the link
// emailed to it, as its owner would, and returns them signed in.
func (s *Server) SignUp(t testing.TB, email, first, last string) *User {
	t.Helper()
	s.SignUpOnly(t, email, first, last, Password)
	r := s.MustDo(t, "", `mutation($t: String!, $p: String!) { verifyEmail(token: $t, password: $p) { `+authFields+` } }`,
		map[string]any{"p": Password, "t": s.LinkToken(t, strings.ToLower(strings.TrimSpace(email)), "/verify-email")})
	var out struct{ VerifyEmail authPayload }
	r.Decode(t, &out)
	return out.VerifyEmail.user(email)
}

// SignUpOnly posts signUp and delivers the email it queued, without following
// its link: the login stays as it was (unverified when new).
func (s *Server) SignUpOnly(t testing.TB, email, first, last, password string) {
	t.Helper()
	s.MustDo(t, "", `mutation($in: SignUpInput!) { signUp(input: $in) { email verificationSent } }`,
		map[string]any{"in": map[string]any{"email": email, "password": password, "firstName": first, "lastName": last}})
	s.Deliver(t)
}

// Deliver sends every queued email to the mail recorder.
func (s *Server) Deliver(t testing.TB) {
	t.Helper()
	for {
		n, err := s.App.Outbox.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// LinkToken returns the token of the link to path (such as "/verify-email")
// in the last email delivered to an address that has one.
func (s *Server) LinkToken(t testing.TB, to, path string) string {
	t.Helper()
	sent := s.Mail.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		_, rest, ok := strings.Cut(sent[i].Text, path+"?token=")
		if sent[i].To == to && ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("no email to %s with a %s link", to, path)
	return ""
}

// LogIn logs a user in, into an organization or the most recently used one.
func (s *Server) LogIn(t testing.TB, email string, org pulid.ID) *User {
	t.Helper()
	in := map[string]any{"email": email, "password": Password}
	if org != "" {
		in["organizationId"] = org
	}
	r := s.MustDo(t, "", `mutation($in: LogInInput!) { logIn(input: $in) { `+authFields+` } }`, map[string]any{"in": in})
	var out struct{ LogIn authPayload }
	r.Decode(t, &out)
	return out.LogIn.user(email)
}

type authPayload struct {
	AccessToken  string
	RefreshToken string
	Viewer       struct{ User struct{ ID pulid.ID } }
}

func (p authPayload) user(email string) *User {
	return &User{ID: p.Viewer.User.ID, Email: email, Token: p.AccessToken, RefreshToken: p.RefreshToken}
}

// Org is an organization made for a test, with its owner signed in to it.
type Org struct {
	ID    pulid.ID
	Owner *User
	s     *Server
}

// CreateOrg signs up an owner, creates an organization of the preset through the
// API and logs the owner in to it.
func (s *Server) CreateOrg(t testing.TB, name, preset string) *Org {
	t.Helper()
	email := fmt.Sprintf("owner.%s@example.com", slug(name))
	owner := s.SignUp(t, email, "Olivia", "Owner")
	r := s.MustDo(t, owner.Token, `mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": name, "preset": preset}})
	var out struct{ CreateOrganization struct{ ID pulid.ID } }
	r.Decode(t, &out)
	return &Org{ID: out.CreateOrganization.ID, Owner: s.LogIn(t, email, out.CreateOrganization.ID), s: s}
}

func slug(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "-", "/", "-").Replace(s))
}

// Member is a user with a membership in an organization, signed in to it.
type Member struct {
	*User
	MembershipID pulid.ID
}

// AddMember creates a user with a membership of the role (by key) directly in
// the database — the invitation flow has tests of its own — and logs them in.
func (o *Org) AddMember(t testing.TB, roleKey, first, last string) *Member {
	t.Helper()
	email := strings.ToLower(fmt.Sprintf("%s.%s.%s@example.com", first, last, o.ID))
	m := o.Insert(t, roleKey, first, last, email, true)
	return &Member{User: o.s.LogIn(t, email, o.ID), MembershipID: m.ID}
}

// Insert writes a user and their membership without signing them in. With
// password false the user cannot log in, which makes it cheap (no argon2id).
func (o *Org) Insert(t testing.TB, roleKey, first, last, email string, password bool) *ent.Membership {
	t.Helper()
	ctx := access.SystemContext(context.Background(), "test fixture")
	c := o.s.DB.Client
	r, err := c.Role.Query().Where(role.OrganizationID(o.ID), role.Key(roleKey)).Only(ctx)
	if err != nil {
		t.Fatalf("role %s: %v", roleKey, err)
	}
	// Verified, as if invited by email.
	create := c.User.Create().SetEmail(email).SetFirstName(first).SetLastName(last).SetEmailVerifiedAt(time.Now())
	if password {
		hash, err := fixtureHash()
		if err != nil {
			t.Fatal(err)
		}
		create.SetPasswordHash(hash)
	}
	u, err := create.Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	username := organization.Username(first, last) + "." + string(u.ID[len(u.ID)-6:])
	m, err := c.Membership.Create().
		SetOrganizationID(o.ID).SetUserID(u.ID).SetRoleID(r.ID).
		SetUsername(username).SetUsernameKey(strings.ToLower(username)).
		SetGroupScope(membership.GroupScope(r.DefaultGroupScope)).
		SetJoinedAt(time.Now()).
		Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
