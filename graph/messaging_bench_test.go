package graph_test

import (
	"context"
	"testing"
	"time"

	"staffroom/ent/group"
	"staffroom/ent/membership"
	"staffroom/ent/user"
	"staffroom/internal/app/apptest"
	"staffroom/internal/mail/mailtest"
)

// groupOf1200 seeds an organization whose "Class 0" has 1,200 members with an
// email address and a phone, and returns a sender and the group's id.
func groupOf1200(b *testing.B) (*apptest.Server, *apptest.Member, any) {
	s := apptest.New(b, benchDialect())
	org := s.CreateOrg(b, "Fan-out Club", "ACTIVITY")
	agent := org.AddMember(b, "communication_agent", "Cora", "Agent")
	seedMembers(b, s, org, 3000) // each member is in two of five classes: 1,200 in each
	ctx := fixtureCtx()
	c := s.DB.Client
	c.User.Update().Where(user.HasMembershipsWith(membership.OrganizationID(org.ID))).SetPhone("+15550300000").ExecX(ctx)
	class := c.Group.Query().Where(group.OrganizationID(org.ID), group.Name("Class 0")).OnlyX(ctx)
	if n := c.Membership.Query().Where(membership.HasGroupsWith(group.ID(class.ID))).CountX(ctx); n != 1200 {
		b.Fatalf("the class has %d members", n)
	}
	return s, agent, class.ID
}

// BenchmarkSendMessageTo1200 measures sendMessage to a group of 1,200 over
// HTTP: the message, 1,200 deliveries and 1,200 outbox rows committed in one
// transaction.
func BenchmarkSendMessageTo1200(b *testing.B) {
	s, agent, class := groupOf1200(b)
	in := map[string]any{"subject": "Bench", "body": "Hello everyone", "groupIds": []any{class}}
	before := s.DB.Stats.Statements()
	for b.Loop() {
		sendMessage(b, s, agent.Token, in)
	}
	b.ReportMetric(float64(s.DB.Stats.Statements()-before)/float64(b.N), "statements/op")
}

// BenchmarkDeliveryWorker measures one worker's deliveries per second to the
// local SMTP server and the local SMS endpoint, draining a message to 1,200.
func BenchmarkDeliveryWorker(b *testing.B) {
	for _, channel := range []string{"EMAIL", "SMS"} {
		b.Run(channel, func(b *testing.B) {
			s, agent, class := groupOf1200(b)
			w := deliveryWorker(b, s, mailtest.Start(b, mailtest.Options{}), startSMSProvider(b, ""))
			w.BatchSize = 0 // the default
			var sent int
			var spent time.Duration
			for b.Loop() {
				b.StopTimer()
				sendMessage(b, s, agent.Token, map[string]any{"channel": channel, "body": "Hello", "groupIds": []any{class}})
				b.StartTimer()
				start := time.Now()
				for {
					n, err := w.RunOnce(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					if n == 0 {
						break
					}
					sent += n
				}
				spent += time.Since(start)
			}
			if sent != 1200*b.N {
				b.Fatalf("%d sent, want %d", sent, 1200*b.N)
			}
			b.ReportMetric(float64(sent)/spent.Seconds(), "deliveries/s")
		})
	}
}
