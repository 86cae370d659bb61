package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
)

// BenchmarkKeyedRequest compares a request authenticated by an API key (one
// lookup by hash and one counted use) with the same request under a user's
// access token (a signature check and the viewer's one query), through the
// whole HTTP handler: a page of 20 members.
func BenchmarkKeyedRequest(b *testing.B) {
	s := apptest.New(b, benchDialect())
	org := s.CreateOrg(b, "Bench Keys", "ACTIVITY")
	agent := org.AddMember(b, "communication_agent", "Cora", "Agent")
	for i := range 20 {
		org.Insert(b, "instructor", "Ina", "Member", "member"+string(rune('a'+i))+"@example.com", false)
	}
	r := s.MustDo(b, org.Owner.Token, createKeyMutation, map[string]any{"in": map[string]any{
		"name": "Bench", "permissions": []any{access.MembersView, access.GroupsView},
	}})
	var out struct{ CreateAPIKey struct{ Key string } }
	r.Decode(b, &out)
	body, _ := json.Marshal(map[string]any{"query": `{ viewer { organization { members(first: 20) { edges { node { id username } } } } } }`})
	for _, c := range []struct{ name, token string }{{"user", agent.Token}, {"apikey", out.CreateAPIKey.Key}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+c.token)
				rec := httptest.NewRecorder()
				s.App.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
