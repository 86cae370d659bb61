package auth_test

import (
	"context"
	"testing"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// BenchmarkLoadViewer measures the query that every authenticated request
// runs: the session (is it revoked?), the user, the membership and its role,
// in one statement. It is what a replica pays to refuse a revoked session on
// the next request; compare BenchmarkAuthenticatedRequest in graph.
func BenchmarkLoadViewer(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(d.Name, func(b *testing.B) {
			s := apptest.New(b, d)
			org := s.CreateOrg(b, "Bench Club", "ACTIVITY")
			claims, err := s.App.Auth.Tokens().Verify(org.Owner.Token)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for b.Loop() {
				if _, err := s.App.Auth.LoadViewer(ctx, claims.UserID(), claims.OrgID(), claims.SessionID()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
