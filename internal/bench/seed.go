package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"staffroom/ent"
	"staffroom/ent/group"
	"staffroom/ent/membership"
	"staffroom/ent/message"
	"staffroom/ent/outboxemail"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/auth"
	"staffroom/internal/invitation"
	"staffroom/internal/invoicing"
	"staffroom/internal/messaging"
	"staffroom/internal/organization"
	"staffroom/internal/staff"
)

// shape is the size of the data set.
type shape struct {
	// roles counts the large organization's members by role key, the founding
	// owner, the administrator and the instructor of the scenarios included.
	roles         []roleCount
	groups        int
	messages      int
	invoices      int
	disabled      int // members of the large organization disabled, and as many removed
	authors       int // members who write the large organization's messages
	smallOrgs     int
	smallMembers  int
	smallGroups   int
	smallMessages int
	smallInvoices int
	// switcher is how many small organizations the scenarios' administrator also
	// belongs to: the viewer query lists them.
	switcher int
}

type roleCount struct {
	key string
	n   int
}

var defaultShape = shape{
	roles: []roleCount{
		{access.OwnerRole, 3}, {"administrator", 40}, {"attendant", 150}, {"communication_agent", 60},
		{"instructor", 1200}, {"instructor_no_messaging", 300}, {"guest", 247},
	},
	groups: 200, messages: 20000, invoices: 5000, disabled: 20, authors: 200,
	smallOrgs: 50, smallMembers: 12, smallGroups: 5, smallMessages: 20, smallInvoices: 10,
	switcher: 5,
}

// scaled shrinks the large organization for quick trials; the small ones stay.
func (s shape) scaled(f float64) shape {
	n := func(v, least int) int { return max(least, int(float64(v)*f)) }
	out := s
	out.roles = nil
	for _, r := range s.roles {
		out.roles = append(out.roles, roleCount{r.key, n(r.n, 1)})
	}
	out.groups, out.messages, out.invoices = n(s.groups, 5), n(s.messages, 50), n(s.invoices, 10)
	out.disabled, out.authors = n(s.disabled, 1), n(s.authors, 10)
	return out
}

func (s shape) members() int {
	total := 0
	for _, r := range s.roles {
		total += r.n
	}
	return total
}

func (s shape) String() string {
	return fmt.Sprintf("1 large organization (%d members, %d groups, %d messages, %d invoices) and %d small ones (%d members, %d groups, %d messages, %d invoices each)",
		s.members(), s.groups, s.messages, s.invoices, s.smallOrgs, s.smallMembers+1, s.smallGroups, s.smallMessages, s.smallInvoices)
}

// seeder writes the data set through the domain functions: organization.Create,
// invitations, staff changes, messaging.Send and invoicing.Create, each with the
// viewer a real request would have. Users and memberships beyond the named ones
// are bulk-inserted exactly as invitation acceptance writes them, because
// accepting 2,000 invitations costs 2,000 argon2id hashes.
type seeder struct {
	a     *assembly
	c     *ent.Client
	out   io.Writer
	rng   *rand.Rand
	names int // users named so far, for varied names
}

// org is an organization being seeded.
type org struct {
	id      pulid.ID
	owner   context.Context // the owner's viewer
	roles   map[string]*ent.Role
	members []member
	groups  []pulid.ID
	kinds   map[pulid.ID]group.Kind
}

type member struct {
	id     pulid.ID
	userID pulid.ID
	role   string
	groups []pulid.ID
	active bool
}

func seed(ctx context.Context, db database, sh shape, out io.Writer) (shape, error) {
	a, err := assemble(ctx, db, func(string) string { return "" }, discardLogger())
	if err != nil {
		return sh, err
	}
	defer a.Close()
	sys := access.SystemContext(ctx, "benchmark seed")
	if n, err := a.db.Client.Organization.Query().Count(sys); err != nil {
		return sh, err
	} else if n > 0 {
		return sh, fmt.Errorf("seed: the database %s already holds %d organizations; run seed -bench -reset to drop and recreate it", db.name, n)
	}
	s := &seeder{a: a, c: a.db.Client, out: out, rng: rand.New(rand.NewPCG(2026, 6))}
	large, err := s.largeOrganization(ctx, sh)
	if err != nil {
		return sh, err
	}
	if err := s.smallOrganizations(ctx, sh, large); err != nil {
		return sh, err
	}
	// What autovacuum would do in a while, done now so that it does not run during
	// the measurements: fresh statistics (without them the planner takes the large
	// organization for a small one) and the visibility map.
	if _, err := a.db.SQL.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		return sh, fmt.Errorf("seed: vacuum: %w", err)
	}
	return sh, nil
}

func (s *seeder) step(name string, start time.Time) {
	fmt.Fprintf(s.out, "  %-44s %s\n", name, time.Since(start).Round(10*time.Millisecond))
}

func (s *seeder) largeOrganization(ctx context.Context, sh shape) (*org, error) {
	start := time.Now()
	o, err := s.organization(ctx, largeOrgName, ownerEmail, "Olivia", "Owner")
	if err != nil {
		return nil, err
	}
	s.step("organization, owner, preset roles", start)

	start = time.Now()
	for _, p := range []struct{ email, first, last, role string }{
		{adminEmail, "Ada", "Administrator", "administrator"},
		{instructorEmail, "Ivan", "Instructor", "instructor"},
	} {
		if err := s.inviteAndAccept(ctx, o, p.email, p.first, p.last, p.role); err != nil {
			return nil, err
		}
	}
	s.step("administrator, instructor (invited, accepted)", start)

	start = time.Now()
	want := map[string]int{}
	for _, r := range sh.roles {
		want[r.key] = r.n
	}
	for _, m := range o.members {
		want[m.role]--
	}
	var plan []string
	for _, r := range sh.roles {
		for range want[r.key] {
			plan = append(plan, r.key)
		}
	}
	if err := s.joinAll(ctx, o, plan, memberEmail); err != nil {
		return nil, err
	}
	s.step(fmt.Sprintf("%d members (invited, accepted)", len(plan)), start)

	start = time.Now()
	if err := s.createGroups(o, sh.groups, "Class"); err != nil {
		return nil, err
	}
	if err := s.link(o); err != nil {
		return nil, err
	}
	s.step(fmt.Sprintf("%d groups, links (staff.Link)", sh.groups), start)

	start = time.Now()
	if err := s.statuses(o, sh.disabled); err != nil {
		return nil, err
	}
	s.step(fmt.Sprintf("%d disabled, %d removed (staff)", sh.disabled, sh.disabled), start)

	start = time.Now()
	authors, err := s.authors(ctx, o, sh.authors)
	if err != nil {
		return nil, err
	}
	if err := s.messages(o, authors, sh.messages); err != nil {
		return nil, err
	}
	s.step(fmt.Sprintf("%d messages (messaging.Send)", sh.messages), start)

	start = time.Now()
	if err := s.invoices(o, authors, sh.invoices, "INV"); err != nil {
		return nil, err
	}
	s.step(fmt.Sprintf("%d invoices (invoicing.Create)", sh.invoices), start)
	return o, nil
}

func (s *seeder) smallOrganizations(ctx context.Context, sh shape, large *org) error {
	start := time.Now()
	roles := []string{"administrator", "attendant", "communication_agent", "instructor", "instructor", "instructor_no_messaging", "guest"}
	for i := range sh.smallOrgs {
		o, err := s.organization(ctx, smallOrgName(i), smallOwnerEmail(i), "Oscar", fmt.Sprintf("Owner%02d", i+1))
		if err != nil {
			return err
		}
		plan := make([]string, sh.smallMembers)
		for j := range plan {
			plan[j] = roles[j%len(roles)]
		}
		if err := s.joinAll(ctx, o, plan, func(j int) string { return smallMemberEmail(i, j) }); err != nil {
			return err
		}
		if i < sh.switcher {
			if err := s.inviteAndAccept(ctx, o, adminEmail, "Ada", "Administrator", "administrator"); err != nil {
				return err
			}
		}
		if err := s.createGroups(o, sh.smallGroups, "Team"); err != nil {
			return err
		}
		if err := s.link(o); err != nil {
			return err
		}
		authors := []context.Context{o.owner}
		if err := s.messages(o, authors, sh.smallMessages); err != nil {
			return err
		}
		if err := s.invoices(o, authors, sh.smallInvoices, fmt.Sprintf("S%02d", i+1)); err != nil {
			return err
		}
	}
	s.step(fmt.Sprintf("%d small organizations", sh.smallOrgs), start)
	return nil
}

// organization signs up an owner and creates an organization of the ACTIVITY preset.
func (s *seeder) organization(ctx context.Context, name, email, first, last string) (*org, error) {
	userID, err := s.signUp(ctx, email, first, last)
	if err != nil {
		return nil, err
	}
	created, err := organization.Create(ctx, s.c, userID, organization.CreateInput{Name: name, Preset: "ACTIVITY"})
	if err != nil {
		return nil, fmt.Errorf("seed: create %s: %w", name, err)
	}
	o := &org{id: created.ID, roles: map[string]*ent.Role{}}
	sys := access.SystemContext(ctx, "benchmark seed")
	roles, err := s.c.Role.Query().Where(role.OrganizationID(o.id)).All(sys)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		o.roles[r.Key] = r
	}
	if o.owner, err = s.viewer(ctx, userID, o.id); err != nil {
		return nil, err
	}
	v := access.FromContext(o.owner)
	o.members = append(o.members, member{id: v.MembershipID, userID: userID, role: access.OwnerRole, active: true})
	return o, nil
}

// signUp signs a person up and follows the verification link that the sign-up
// queued for them, as they would: only a verified login creates organizations.
func (s *seeder) signUp(ctx context.Context, email, first, last string) (pulid.ID, error) {
	if _, err := s.a.app.Auth.SignUp(ctx, auth.SignUpInput{Email: email, Password: password, FirstName: first, LastName: last}); err != nil {
		return "", fmt.Errorf("seed: sign up %s: %w", email, err)
	}
	sys := access.SystemContext(ctx, "benchmark seed")
	queued, err := s.c.OutboxEmail.Query().Where(outboxemail.ToAddress(email)).
		Order(ent.Desc(outboxemail.FieldCreatedAt)).First(sys)
	if err != nil {
		return "", fmt.Errorf("seed: verification email of %s: %w", email, err)
	}
	_, rest, ok := strings.Cut(queued.TextBody, "verify-email?token=")
	if !ok {
		return "", fmt.Errorf("seed: no verification link in the email to %s", email)
	}
	sess, err := s.a.app.Auth.VerifyEmail(ctx, strings.Fields(rest)[0], password)
	if err != nil {
		return "", fmt.Errorf("seed: verify %s: %w", email, err)
	}
	return sess.Viewer.UserID, nil
}

// viewer signs a user in to an organization and returns a context carrying the
// viewer that their requests would have.
func (s *seeder) viewer(ctx context.Context, userID, orgID pulid.ID) (context.Context, error) {
	sess, err := s.a.app.Auth.SignIn(ctx, userID, orgID)
	if err != nil {
		return nil, fmt.Errorf("seed: sign in: %w", err)
	}
	return access.NewContext(ctx, sess.Viewer), nil
}

// join invites a person as the owner and accepts the invitation with the
// password: a new login, or an existing one that joins another organization.
func (s *seeder) join(ctx context.Context, o *org, email, first, last, roleKey string) (member, error) {
	invitations := invitation.NewService(s.c, s.a.app.Auth, s.a.cfg.InvitationTTL, s.a.cfg.PublicURL)
	sent, err := invitations.Invite(o.owner, invitation.Input{Email: email, FirstName: first, LastName: last, RoleID: o.roles[roleKey].ID})
	if err != nil {
		return member{}, fmt.Errorf("seed: invite %s: %w", email, err)
	}
	link, err := url.Parse(sent.Link)
	if err != nil {
		return member{}, err
	}
	sess, err := invitations.Accept(ctx, invitation.AcceptInput{Token: link.Query().Get("token"), Password: password})
	if err != nil {
		return member{}, fmt.Errorf("seed: accept %s: %w", email, err)
	}
	v := sess.Viewer
	return member{id: v.MembershipID, userID: v.UserID, role: roleKey, active: true}, nil
}

// inviteAndAccept joins one person to o.
func (s *seeder) inviteAndAccept(ctx context.Context, o *org, email, first, last, roleKey string) error {
	m, err := s.join(ctx, o, email, first, last, roleKey)
	if err != nil {
		return err
	}
	o.members = append(o.members, m)
	return nil
}

var (
	firstNames = []string{"Ada", "Ben", "Chloé", "David", "Emma", "Farid", "Grace", "Hugo", "Inès", "Jonas",
		"Kai", "Léa", "Mateo", "Nora", "Oskar", "Paula", "Quentin", "Rosa", "Sami", "Tove",
		"Uma", "Victor", "Wen", "Xavier", "Yara", "Zoë", "Amir", "Björn", "Carmen", "Dmitri", "Elif"}
	lastNames = []string{"Andersson", "Brown", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hansen",
		"Ibrahim", "Jensen", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrov", "Quinn",
		"Rossi", "Silva", "Tanaka", "Ångström", "Virtanen", "Weber", "Yilmaz", "Zhang"}
)

// joinAll invites a person for each role of plan, as the owner, and accepts
// each invitation, several at a time: every member goes through what a real one
// does — the inviter's rights checked, the password hashed with argon2id, the
// role's group scope and a First.Last username unique in the organization.
func (s *seeder) joinAll(ctx context.Context, o *org, plan []string, email func(int) string) error {
	named := s.names
	s.names += len(plan)
	joined := make([]member, len(plan))
	err := parallel(len(plan), func(i int) error {
		n := named + i + 1
		m, err := s.join(ctx, o, email(i), firstNames[n%len(firstNames)], lastNames[(n/len(firstNames)+n)%len(lastNames)], plan[i])
		joined[i] = m
		return err
	})
	if err != nil {
		return err
	}
	o.members = append(o.members, joined...)
	return nil
}

var groupKinds = []group.Kind{group.KindCLASS, group.KindCLASS, group.KindATTENDANCE_LIST, group.KindTEAM, group.KindFORM}

var activities = []string{"Swimming", "Climbing", "Tennis", "Judo", "Yoga", "Football", "Rowing", "Chess", "Dance", "Archery"}

// createGroups creates groups as the owner, as the createGroup mutation does.
func (s *seeder) createGroups(o *org, n int, label string) error {
	creates := make([]*ent.GroupCreate, n)
	for i := range creates {
		creates[i] = s.c.Group.Create().
			SetName(fmt.Sprintf("%s %s %03d", activities[i%len(activities)], label, i+1)).
			SetKind(groupKinds[i%len(groupKinds)])
	}
	groups, err := s.c.Group.CreateBulk(creates...).Save(o.owner)
	if err != nil {
		return fmt.Errorf("seed: groups: %w", err)
	}
	if o.kinds == nil {
		o.kinds = map[pulid.ID]group.Kind{}
	}
	for _, g := range groups {
		o.groups = append(o.groups, g.ID)
		o.kinds[g.ID] = g.Kind
	}
	return nil
}

// link assigns every member but the owners to groups with staff.Link, as the
// owner: staff to one to three groups, a guest now and then to one.
func (s *seeder) link(o *org) error {
	type job struct {
		i      int
		groups []pulid.ID
	}
	var jobs []job
	for i, m := range o.members {
		n := 1 + s.rng.IntN(3)
		switch m.role {
		case access.OwnerRole, "administrator":
			continue
		case "guest":
			if s.rng.IntN(4) != 0 {
				continue
			}
			n = 1
		}
		picked := s.pick(o.groups, n)
		o.members[i].groups = picked
		jobs = append(jobs, job{i, picked})
	}
	return parallel(len(jobs), func(k int) error {
		_, err := staff.Link(o.owner, s.c, o.members[jobs[k].i].id, jobs[k].groups, nil)
		if err != nil {
			return fmt.Errorf("seed: link: %w", err)
		}
		return nil
	})
}

// statuses disables some members and removes as many others, as the owner.
func (s *seeder) statuses(o *org, n int) error {
	var candidates []int
	for i, m := range o.members {
		if m.role == "instructor" || m.role == "instructor_no_messaging" {
			candidates = append(candidates, i)
		}
	}
	// The first instructor is the scenarios' own and stays active.
	for k := 0; k < 2*n && 1+k*7 < len(candidates); k++ {
		i := candidates[1+k*7]
		var err error
		if k%2 == 0 {
			_, err = staff.SetStatus(o.owner, s.c, o.members[i].id, membership.StatusDISABLED, nil)
		} else {
			_, err = staff.Remove(o.owner, s.c, o.members[i].id)
		}
		if err != nil {
			return fmt.Errorf("seed: status: %w", err)
		}
		o.members[i].active = false
	}
	return nil
}

// authors signs in the members who write messages and invoices: the
// scenarios' instructor, then administrators, communication agents, attendants
// and instructors.
func (s *seeder) authors(ctx context.Context, o *org, n int) ([]context.Context, error) {
	quota := map[string]int{"administrator": n / 10, "communication_agent": n / 10, "attendant": n / 5}
	quota["instructor"] = n - quota["administrator"] - quota["communication_agent"] - quota["attendant"]
	var out []context.Context
	for _, m := range o.members {
		if !m.active || quota[m.role] == 0 {
			continue
		}
		quota[m.role]--
		v, err := s.viewer(ctx, m.userID, o.id)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// visibleGroups returns the groups v may write to: by kind, every group or
// only those linked to v, as the role's scope for the kind says.
func visibleGroups(v *access.Viewer, o *org, linked []pulid.ID) []pulid.ID {
	var out []pulid.ID
	for _, g := range o.groups {
		switch v.GroupScopeOf(string(o.kinds[g])) {
		case string(membership.GroupScopeALL):
			out = append(out, g)
		case string(membership.GroupScopeLINKED):
			if slices.Contains(linked, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

// messages sends n messages with messaging.Send, each as its author, to groups
// the author sees and now and then to members, CC and BCC.
func (s *seeder) messages(o *org, authors []context.Context, n int) error {
	var active, staffIDs []pulid.ID
	for _, m := range o.members {
		if m.active {
			active = append(active, m.id)
			if m.role != "guest" {
				staffIDs = append(staffIDs, m.id)
			}
		}
	}
	linked := map[pulid.ID][]pulid.ID{}
	for _, m := range o.members {
		linked[m.id] = m.groups
	}
	type job struct {
		author int
		in     messaging.SendInput
	}
	jobs := make([]job, 0, n)
	for i := range n {
		a := s.rng.IntN(len(authors))
		v := access.FromContext(authors[a])
		in := messaging.SendInput{
			Channel: message.ChannelEMAIL,
			Subject: fmt.Sprintf("Week %d: %s", 1+i%52, activities[i%len(activities)]),
			Body:    "Hello everyone,\n\nThe session moves to the main hall this week. Bring water.\n\nSee you there.",
		}
		if i%10 == 0 {
			in.Channel = message.ChannelSMS
		}
		visible := visibleGroups(v, o, linked[v.MembershipID])
		if len(visible) > 0 {
			in.GroupIDs = s.pick(visible, 1+s.rng.IntN(min(2, len(visible))))
		}
		if v.Has(access.MembersView) && (s.rng.IntN(3) == 0 || len(in.GroupIDs) == 0) {
			in.MemberIDs = s.pick(active, 1+s.rng.IntN(3))
		}
		if s.rng.IntN(10) == 0 || len(in.GroupIDs)+len(in.MemberIDs) == 0 {
			in.CCMemberIDs = s.pick(active, 1)
		}
		if s.rng.IntN(20) == 0 {
			in.BCCMemberIDs = s.pick(staffIDs, 1)
		}
		jobs = append(jobs, job{a, in})
	}
	return parallel(len(jobs), func(k int) error {
		if _, err := messaging.Send(authors[jobs[k].author], s.c, jobs[k].in); err != nil {
			return fmt.Errorf("seed: message: %w", err)
		}
		return nil
	})
}

var customers = []string{"Walk-in customer", "Family Berg", "School of Arts", "City Council", "M. Laurent", "Team Nord"}

// invoices creates n invoices with invoicing.Create, each as an author who may
// create invoices.
func (s *seeder) invoices(o *org, authors []context.Context, n int, prefix string) error {
	var sellers []context.Context
	for _, a := range authors {
		if access.FromContext(a).Has(access.InvoicesCreate) {
			sellers = append(sellers, a)
		}
	}
	if len(sellers) == 0 {
		return fmt.Errorf("seed: nobody may create invoices")
	}
	ins := make([]ent.CreateInvoiceInput, n)
	for i := range ins {
		ins[i] = ent.CreateInvoiceInput{
			Number:       fmt.Sprintf("%s-%06d", prefix, i+1),
			CustomerName: customers[i%len(customers)],
			AmountCents:  int64(500 + s.rng.IntN(20000)),
			Currency:     "EUR",
		}
	}
	return parallel(n, func(k int) error {
		if _, err := invoicing.Create(sellers[k%len(sellers)], s.c, ins[k]); err != nil {
			return fmt.Errorf("seed: invoice: %w", err)
		}
		return nil
	})
}

// pick returns n different ids of from, at random.
func (s *seeder) pick(from []pulid.ID, n int) []pulid.ID {
	n = min(n, len(from))
	out := make([]pulid.ID, 0, n)
	for len(out) < n {
		id := from[s.rng.IntN(len(from))]
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// parallel runs fn for 0..n-1 on a few goroutines and returns the first error.
func parallel(n int, fn func(i int) error) error {
	const workers = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
