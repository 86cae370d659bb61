package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"staffroom/ent/membership"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/graph"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/requestmeta"
	"staffroom/internal/store/storetest"
)

// benchDialect is PostgreSQL when TEST_DATABASE_URL is set, else SQLite.
func benchDialect() storetest.Dialect {
	d := storetest.Dialects()
	return d[len(d)-1]
}

const members50 = `query($org: ID!) { node(id: $org) { ... on Organization {
	members(first: 50) { edges { node { id username user { name } role { key } groups { name } } } }
} } }`

// BenchmarkMembersAuthorization measures what authorization costs on the members
// list (50 members with user, role and groups): the same GraphQL operation run
// in-process as the owner with every privacy rule and directive, and with
// privacy bypassed by the system context (directives still run).
func BenchmarkMembersAuthorization(b *testing.B) {
	d := benchDialect()
	s := apptest.New(b, d)
	org := s.CreateOrg(b, "Bench Club", "ACTIVITY")
	seedMembers(b, s, org, 60)
	h := graph.NewHandler(graph.NewSchema(graph.Deps{Client: s.DB.Client, Auth: s.App.Auth}), graph.HandlerOptions{
		Limits: graph.Limits{Complexity: 5000, Depth: 12, Tokens: 1000},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	sys := access.SystemContext(context.Background(), "test")
	m := s.DB.Client.Membership.Query().Where(membership.OrganizationID(org.ID), membership.UserID(org.Owner.ID)).
		WithRole().OnlyX(sys)
	v, err := s.App.Auth.LoadViewer(sys, org.Owner.ID, org.ID, sessionOf(b, s, org))
	if err != nil || v.MembershipID != m.ID {
		b.Fatalf("viewer: %v", err)
	}
	body, _ := json.Marshal(map[string]any{"query": members50, "variables": map[string]any{"org": org.ID}})
	run := func(b *testing.B, ctx context.Context) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body)).WithContext(ctx)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	}
	viewerCtx := requestmeta.NewContext(access.NewContext(context.Background(), v), &requestmeta.Meta{})
	b.Run(d.Name+"/privacy", func(b *testing.B) { run(b, viewerCtx) })
	b.Run(d.Name+"/system", func(b *testing.B) { run(b, access.SystemContext(viewerCtx, "benchmark baseline")) })
}

func sessionOf(b *testing.B, s *apptest.Server, org *apptest.Org) pulid.ID {
	b.Helper()
	claims, err := s.App.Auth.Tokens().Verify(org.Owner.Token)
	if err != nil {
		b.Fatal(err)
	}
	return claims.SessionID()
}

// BenchmarkAuthenticatedRequest measures token verification plus viewer loading:
// a request whose answer needs nothing but the viewer, with and without a token.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	d := benchDialect()
	s := apptest.New(b, d)
	org := s.CreateOrg(b, "Bench Club", "ACTIVITY")
	b.Run(d.Name+"/anonymous", func(b *testing.B) {
		for b.Loop() {
			s.MustDo(b, "", `{ __typename }`, nil)
		}
	})
	b.Run(d.Name+"/token+viewer", func(b *testing.B) {
		for b.Loop() {
			s.MustDo(b, org.Owner.Token, `{ viewer { permissions } }`, nil)
		}
	})
}

// BenchmarkLogIn measures one logIn over HTTP: argon2id dominates.
func BenchmarkLogIn(b *testing.B) {
	s := apptest.New(b, benchDialect(), "STAFFROOM_SESSION_RATE_LIMIT=0")
	s.SignUp(b, "ada@example.com", "Ada", "Lovelace")
	for b.Loop() {
		s.LogIn(b, "ada@example.com", "")
	}
}

// BenchmarkInviteMember measures invitations a second over HTTP, each with its
// audit event and its queued email, committed.
func BenchmarkInviteMember(b *testing.B) {
	d := benchDialect()
	s := apptest.New(b, d)
	org := s.CreateOrg(b, "Bench Club", "ACTIVITY")
	guest := s.DB.Client.Role.Query().Where(role.OrganizationID(org.ID), role.Key("guest")).
		OnlyIDX(access.SystemContext(context.Background(), "test"))
	i := 0
	b.Run(d.Name, func(b *testing.B) {
		for b.Loop() {
			i++
			s.MustDo(b, org.Owner.Token, inviteMutation, map[string]any{"in": map[string]any{
				"email": fmt.Sprintf("bench%d@example.com", i), "firstName": "Bench", "lastName": "Mark", "roleId": guest,
			}})
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invitations/s")
	})
}
