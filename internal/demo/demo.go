// Package demo provides the demo organization of `staffroom demo`: an ACTIVITY
// organization with a login for every role, groups, members, messages and
// invoices, made through the same domain functions as the API, so that a
// newcomer can try every role in GraphiQL.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"staffroom/ent"
	"staffroom/ent/group"
	"staffroom/ent/message"
	"staffroom/ent/organization"
	"staffroom/ent/outboxemail"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/auth"
	"staffroom/internal/groups"
	"staffroom/internal/invitation"
	"staffroom/internal/invoicing"
	"staffroom/internal/messaging"
	organizations "staffroom/internal/organization"
)

// Password is the password of every demo login.
const Password = "staffroom demo"

// Slug is the demo organization's.
const Slug = "demo"

// Login is a demo login and the role it holds.
type Login struct{ Email, Role string }

// roles are the ACTIVITY roles, one login each, in the order they are printed.
var roles = []string{"owner", "administrator", "attendant", "communication_agent", "instructor", "instructor_no_messaging", "guest"}

// Email returns the demo login of a role.
func Email(roleKey string) string {
	return strings.ReplaceAll(roleKey, "_", "-") + "@demo.example.com"
}

// names of the demo people, by role; the extra members come after.
var names = map[string][2]string{
	"owner": {"Olivia", "Owner"}, "administrator": {"Adam", "Administrator"}, "attendant": {"Ana", "Attendant"},
	"communication_agent": {"Cora", "Communications"}, "instructor": {"Ivan", "Instructor"},
	"instructor_no_messaging": {"Nina", "Instructor"}, "guest": {"Gus", "Guest"},
}

var extras = []struct{ first, last, role string }{
	{"Zoë", "Ångström", "instructor"}, {"Björn", "Berg", "instructor"}, {"Lea", "Lopez", "guest"},
}

// Services are the domain services the demo is made through.
type Services struct {
	Client      *ent.Client
	Auth        *auth.Service
	Invitations *invitation.Service
}

// Seed makes the demo organization unless it exists, and writes its logins to
// out. It is idempotent: a second run only prints them.
func Seed(ctx context.Context, s Services, out io.Writer) error {
	sys := access.SystemContext(ctx, "demo")
	exists, err := s.Client.Organization.Query().Where(organization.Slug(Slug)).Exist(sys)
	if err != nil {
		return err
	}
	if !exists {
		if err := seed(ctx, s); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintln(out, "The demo organization is ready.")
	} else {
		fmt.Fprintln(out, "The demo organization exists already.")
	}
	fmt.Fprintf(out, "\nLog in with any of these, password %q:\n", Password)
	for _, r := range roles {
		fmt.Fprintf(out, "  %-42s %s\n", Email(r), r)
	}
	fmt.Fprintln(out, "\nmutation { logIn(input: {email: \""+Email("owner")+"\", password: \""+Password+"\"}) { accessToken } }")
	return nil
}

func seed(ctx context.Context, s Services) error {
	ownerID, err := signUp(ctx, s, Email("owner"), names["owner"])
	if err != nil {
		return err
	}
	org, err := organizations.Create(ctx, s.Client, ownerID, organizations.CreateInput{Name: "Riverside Activity Centre", Slug: Slug, Preset: "ACTIVITY"})
	if err != nil {
		return err
	}
	owner, err := signIn(ctx, s, ownerID, org.ID)
	if err != nil {
		return err
	}
	sys := access.SystemContext(ctx, "demo")
	roleIDs := map[string]pulid.ID{}
	all, err := s.Client.Role.Query().Where(role.OrganizationID(org.ID)).All(sys)
	if err != nil {
		return err
	}
	for _, r := range all {
		roleIDs[r.Key] = r.ID
	}

	classes := map[string]*ent.Group{}
	for _, g := range []struct {
		name string
		kind group.Kind
	}{{"Swimming beginners", group.KindCLASS}, {"Climbing club", group.KindCLASS},
		{"Tuesday attendance", group.KindATTENDANCE_LIST}, {"Staff survey", group.KindFORM}} {
		kind := g.kind
		if classes[g.name], err = groups.Create(owner, s.Client, ent.CreateGroupInput{Name: g.name, Kind: &kind}); err != nil {
			return err
		}
	}

	viewers := map[string]context.Context{"owner": owner}
	join := func(email, first, last, roleKey string, groupIDs ...pulid.ID) (context.Context, error) {
		if _, err := s.Invitations.Invite(owner, invitation.Input{Email: email, FirstName: first, LastName: last,
			RoleID: roleIDs[roleKey], GroupIDs: groupIDs}); err != nil {
			return nil, err
		}
		token, err := emailedToken(ctx, s.Client, email, "/invitation?token=")
		if err != nil {
			return nil, err
		}
		// The emailed link, as the person would follow it: it proves the address.
		sess, err := s.Invitations.Accept(ctx, invitation.AcceptInput{Token: token, Password: Password})
		if err != nil {
			return nil, fmt.Errorf("accept %s: %w", email, err)
		}
		return access.NewContext(ctx, sess.Viewer), nil
	}
	swimming, climbing := classes["Swimming beginners"].ID, classes["Climbing club"].ID
	linked := map[string][]pulid.ID{"instructor": {swimming, climbing}, "instructor_no_messaging": {climbing}}
	for _, r := range roles[1:] {
		n := names[r]
		if viewers[r], err = join(Email(r), n[0], n[1], r, linked[r]...); err != nil {
			return err
		}
	}
	for i, e := range extras {
		email := fmt.Sprintf("%s@demo.example.com", strings.ToLower(fmt.Sprintf("member%d", i+1)))
		if _, err := join(email, e.first, e.last, e.role, swimming); err != nil {
			return err
		}
	}

	if _, err := messaging.Send(viewers["administrator"], s.Client, messaging.SendInput{Channel: message.ChannelEMAIL,
		Subject: "Pool closed on Friday", Body: "The pool is closed on Friday for maintenance: swimming moves to Saturday at 10.",
		GroupIDs: []pulid.ID{swimming}}); err != nil {
		return err
	}
	if _, err := messaging.Send(viewers["communication_agent"], s.Client, messaging.SendInput{Channel: message.ChannelEMAIL,
		Subject: "Welcome to the season", Body: "Welcome back! Timetables are on the notice board.",
		GroupIDs: []pulid.ID{swimming, climbing}}); err != nil {
		return err
	}
	if _, err := messaging.Send(viewers["instructor"], s.Client, messaging.SendInput{Channel: message.ChannelEMAIL,
		Subject: "Bring a helmet", Body: "Climbers: please bring your own helmet next week.",
		GroupIDs: []pulid.ID{climbing}}); err != nil {
		return err
	}
	for i, c := range []struct {
		customer string
		cents    int64
	}{{"Maya Patel", 4500}, {"Tom Becker", 12000}, {"Sara Novak", 2500}} {
		if _, err := invoicing.Create(viewers["attendant"], s.Client, ent.CreateInvoiceInput{
			Number: fmt.Sprintf("DEMO-%03d", i+1), CustomerName: c.customer, AmountCents: c.cents, Currency: "EUR"}); err != nil {
			return err
		}
	}
	return nil
}

// signUp signs the person up and follows the verification link the sign-up
// queued, as they would: only a verified login creates organizations.
func signUp(ctx context.Context, s Services, email string, name [2]string) (pulid.ID, error) {
	if _, err := s.Auth.SignUp(ctx, auth.SignUpInput{Email: email, Password: Password, FirstName: name[0], LastName: name[1]}); err != nil {
		return "", fmt.Errorf("sign up %s: %w", email, err)
	}
	token, err := emailedToken(ctx, s.Client, email, "/verify-email?token=")
	if err != nil {
		return "", err
	}
	sess, err := s.Auth.VerifyEmail(ctx, token, Password)
	if err != nil {
		return "", fmt.Errorf("verify %s: %w", email, err)
	}
	return sess.Viewer.UserID, nil
}

func signIn(ctx context.Context, s Services, userID, orgID pulid.ID) (context.Context, error) {
	sess, err := s.Auth.SignIn(ctx, userID, orgID)
	if err != nil {
		return nil, err
	}
	return access.NewContext(ctx, sess.Viewer), nil
}

// emailedToken reads the token of a link from the newest email queued to an
// address: what its recipient would click.
func emailedToken(ctx context.Context, c *ent.Client, to, link string) (string, error) {
	e, err := c.OutboxEmail.Query().Where(outboxemail.ToAddress(to)).
		Order(ent.Desc(outboxemail.FieldCreatedAt), ent.Desc(outboxemail.FieldID)).
		First(access.SystemContext(ctx, "demo"))
	if err != nil {
		return "", fmt.Errorf("the email to %s: %w", to, err)
	}
	_, rest, ok := strings.Cut(e.TextBody, link)
	if !ok {
		return "", errors.New("no link in the email to " + to)
	}
	return strings.Fields(rest)[0], nil
}
