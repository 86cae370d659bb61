package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"staffroom/ent/group"
	"staffroom/ent/invoice"
	"staffroom/ent/membership"
	"staffroom/ent/message"
	"staffroom/ent/organization"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/demo"
	"staffroom/internal/store/storetest"

	_ "staffroom/ent/runtime"
)

// The demo organization has what the README promises, every printed login
// works with the demo password in its role, and a second run changes nothing.
func TestDemoSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		services := demo.Services{Client: s.DB.Client, Auth: s.App.Auth, Invitations: s.App.Invitations}
		var out bytes.Buffer
		for range 2 {
			out.Reset()
			if err := demo.Seed(context.Background(), services, &out); err != nil {
				t.Fatal(err)
			}
		}
		if !strings.Contains(out.String(), "exists already") {
			t.Errorf("the second run says:\n%s", out.String())
		}
		ctx := access.SystemContext(context.Background(), "test")
		c := s.DB.Client
		org := c.Organization.Query().Where(organization.Slug(demo.Slug)).OnlyX(ctx)
		counts := map[string]int{
			"organizations": c.Organization.Query().CountX(ctx),
			"members":       c.Membership.Query().Where(membership.OrganizationID(org.ID)).CountX(ctx),
			"groups":        c.Group.Query().Where(group.OrganizationID(org.ID)).CountX(ctx),
			"messages":      c.Message.Query().Where(message.OrganizationID(org.ID)).CountX(ctx),
			"invoices":      c.Invoice.Query().Where(invoice.OrganizationID(org.ID)).CountX(ctx),
		}
		for what, want := range map[string]int{"organizations": 1, "members": 10, "groups": 4, "messages": 3, "invoices": 3} {
			if counts[what] != want {
				t.Errorf("%d %s, want %d", counts[what], what, want)
			}
		}
		for _, role := range []string{"owner", "administrator", "attendant", "communication_agent", "instructor", "instructor_no_messaging", "guest"} {
			if !strings.Contains(out.String(), demo.Email(role)) {
				t.Errorf("the logins printed lack %s", demo.Email(role))
			}
			r := s.MustDo(t, "", `mutation($in: LogInInput!) { logIn(input: $in) { viewer { user { emailVerified } membership { role { key } } } } }`,
				map[string]any{"in": map[string]any{"email": demo.Email(role), "password": demo.Password}})
			if !strings.Contains(string(r.Data), `"key":"`+role+`"`) || !strings.Contains(string(r.Data), `"emailVerified":true`) {
				t.Errorf("%s logs in as %s", demo.Email(role), r.Data)
			}
		}
	})
}
