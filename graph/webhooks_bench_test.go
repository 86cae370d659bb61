package graph_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"staffroom/ent"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store"
	"staffroom/internal/store/storetest"
	"staffroom/internal/webhook"
)

// BenchmarkWebhookDeliveries measures how many queued webhook events one
// worker delivers a second to a receiver on this machine: claiming, building
// each payload through GraphQL as the endpoint's key-like viewer, signing,
// the HTTP round trip and recording the outcome.
//
//	TEST_DATABASE_URL=… go test ./graph/ -run '^$' -bench BenchmarkWebhookDeliveries -benchtime 2000x
func BenchmarkWebhookDeliveries(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(d.Name, func(b *testing.B) {
			s := apptest.New(b, d)
			org := s.CreateOrg(b, "Bench Club", "ACTIVITY")
			var received atomic.Int64
			rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				received.Add(1)
			}))
			b.Cleanup(rec.Close)
			s.MustDo(b, org.Owner.Token, createEndpointMutation, map[string]any{"in": map[string]any{
				"url": rec.URL, "eventTypes": []any{"member.updated"}}})
			var members []pulid.ID
			for i := range 20 {
				m := org.Insert(b, "instructor", "Ben", fmt.Sprintf("Chmark%d", i), fmt.Sprintf("ben%d@example.com", i), false)
				members = append(members, m.ID)
			}
			queue(b, s, org.ID, members, b.N)

			w := *s.App.Webhooks
			b.ResetTimer()
			start := time.Now()
			for sent := 0; sent < b.N; {
				n, err := w.RunOnce(context.Background())
				if err != nil || n == 0 {
					b.Fatalf("RunOnce = %d, %v after %d of %d", n, err, sent, b.N)
				}
				sent += n
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
			if got := received.Load(); got != int64(b.N) {
				b.Fatalf("%d requests arrived, want %d", got, b.N)
			}
		})
	}
}

// queue writes n member.updated events of the members in turn, as n changes would.
func queue(b *testing.B, s *apptest.Server, org pulid.ID, members []pulid.ID, n int) {
	b.Helper()
	ctx := access.SystemContext(context.Background(), "benchmark fixture")
	err := store.InTx(ctx, s.DB.Client, func(ctx context.Context, tx *ent.Client) error {
		for i := range n {
			if err := webhook.Enqueue(ctx, tx, org, "member.updated", "Membership", members[i%len(members)], nil, time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
