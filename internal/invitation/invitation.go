// Package invitation provides how staff join an organization: invitations by
// email with single-use links, resending and revoking them, bulk invitations and
// CSV imports, and accepting them — with a new login or an existing one.
package invitation

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/ent/auditevent"
	"staffroom/ent/group"
	"staffroom/ent/invitation"
	"staffroom/ent/membership"
	"staffroom/ent/predicate"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/auth"
	"staffroom/internal/errcode"
	"staffroom/internal/organization"
	"staffroom/internal/outbox"
	"staffroom/internal/staff"
	"staffroom/internal/store"
)

// Service runs invitations.
type Service struct {
	client    *ent.Client
	auth      *auth.Service
	ttl       time.Duration
	publicURL string
	now       func() time.Time
}

// NewService returns the invitation service; links point at publicURL and stay
// valid for ttl.
func NewService(client *ent.Client, a *auth.Service, ttl time.Duration, publicURL string) *Service {
	return &Service{client: client, auth: a, ttl: ttl, publicURL: strings.TrimRight(publicURL, "/"), now: time.Now}
}

// Input is one person to invite.
type Input struct {
	Email, FirstName, LastName string
	Phone                      *string
	RoleID                     pulid.ID
	Grants                     []string
	GroupIDs                   []pulid.ID
}

// Sent is an invitation and the link to share when the email does not arrive.
// The link carries a token of its own, apart from the email's, which is never
// stored: it is shown once. Accepting through it joins the organization, the
// inviter vouching for the person, but does not prove the address; accepting
// through the email's token does.
type Sent struct {
	Invitation *ent.Invitation
	Link       string
}

// Invite invites one person, for a role the viewer manages, with grants the
// viewer holds and groups the viewer sees. The email is queued in the same
// transaction.
func (s *Service) Invite(ctx context.Context, in Input) (*Sent, error) {
	var out *Sent
	err := store.InTx(ctx, s.client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		out, err = s.invite(ctx, tx, in)
		return err
	})
	return out, err
}

// InviteMany invites up to 500 people; each row succeeds or fails on its own.
func (s *Service) InviteMany(ctx context.Context, ins []Input) ([]*Sent, []error, error) {
	if len(ins) == 0 || len(ins) > 500 {
		return nil, nil, errcode.Input("input", "invite 1 to 500 people at once")
	}
	sent := make([]*Sent, len(ins))
	errs := make([]error, len(ins))
	for i, in := range ins {
		// Each row in its own transaction: one bad row does not undo the others.
		err := store.InTx(ctx, s.client, func(txCtx context.Context, tx *ent.Client) error {
			var err error
			sent[i], err = s.invite(txCtx, tx, in)
			return err
		})
		if _, coded := errcode.As(err); err != nil && !coded {
			return nil, nil, err
		}
		errs[i] = err
	}
	return sent, errs, nil
}

func (s *Service) invite(ctx context.Context, tx *ent.Client, in Input) (*Sent, error) {
	v := access.FromContext(ctx)
	email, err := auth.NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	r, err := tx.Role.Get(ctx, in.RoleID)
	if ent.IsNotFound(err) {
		return nil, errcode.New(errcode.NotFound, "role not found")
	}
	if err != nil {
		return nil, err
	}
	if err := v.CheckManage(access.MembersInvite, "", r.Key, ""); err != nil {
		return nil, err
	}
	if err := v.CheckGiveIn(ctx, tx, "grants", in.Grants); err != nil {
		return nil, err
	}
	if err := checkInvitee(ctx, tx, v.OrgID, in); err != nil {
		return nil, err
	}
	if err := groupsVisible(ctx, tx, in.GroupIDs); err != nil {
		return nil, err
	}
	// A pending invitation holds a seat: under the organization's lock,
	// parallel invitations count each other.
	if err := staff.Lock(ctx, tx, v.OrgID); err != nil {
		return nil, err
	}
	if err := s.checkFree(ctx, tx, v.OrgID, email); err != nil {
		return nil, err
	}
	if err := staff.CheckSeats(ctx, tx, v.OrgID, 1, s.now()); err != nil {
		return nil, err
	}
	token, hash := auth.NewOpaqueToken()
	linkToken, linkHash := auth.NewOpaqueToken()
	now := s.now()
	ids := make([]string, len(in.GroupIDs))
	for i, id := range in.GroupIDs {
		ids[i] = string(id)
	}
	inv, err := tx.Invitation.Create().
		SetEmail(email).SetFirstName(strings.TrimSpace(in.FirstName)).SetLastName(strings.TrimSpace(in.LastName)).
		SetNillablePhone(in.Phone).SetRoleID(r.ID).SetInvitedByID(v.MembershipID).
		SetGrants(in.Grants).SetGroupIds(ids).SetTokenHash(hash).SetLinkTokenHash(linkHash).
		SetExpiresAt(now.Add(s.ttl)).SetSendCount(1).SetLastSentAt(now).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.queueEmail(ctx, tx, inv, r, s.link(token)); err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "member.invited", TargetType: "Invitation", TargetID: inv.ID,
		Data: map[string]any{"email": email, "role": r.Key, "grants": in.Grants}}); err != nil {
		return nil, err
	}
	return &Sent{Invitation: inv, Link: s.link(linkToken)}, nil
}

// checkFree refuses a second pending invitation for an address, and an
// invitation for someone who is already an active member.
func (s *Service) checkFree(ctx context.Context, tx *ent.Client, org pulid.ID, email string) error {
	sys := access.SystemContext(ctx, "invitation conflicts")
	pending, err := tx.Invitation.Query().Where(
		invitation.OrganizationID(org), invitation.Email(email),
		invitation.StatusEQ(invitation.StatusPENDING), invitation.ExpiresAtGT(s.now()),
	).Exist(sys)
	if err != nil {
		return err
	}
	if pending {
		return errcode.New(errcode.Conflict, "%s already has a pending invitation: resend it instead", email)
	}
	member, err := tx.Membership.Query().Where(
		membership.OrganizationID(org), membership.RemovedAtIsNil(),
		membership.HasUserWith(user.Email(email)),
	).Exist(sys)
	if err != nil {
		return err
	}
	if member {
		return errcode.New(errcode.Conflict, "%s is already a member of this organization", email)
	}
	return nil
}

func groupsVisible(ctx context.Context, tx *ent.Client, ids []pulid.ID) error {
	if len(ids) == 0 {
		return nil
	}
	n, err := tx.Group.Query().Where(group.IDIn(ids...)).Count(ctx)
	if err != nil {
		return err
	}
	if n != len(ids) {
		return errcode.New(errcode.NotFound, "group not found")
	}
	return nil
}

func (s *Service) link(token string) string { return s.publicURL + "/invitation?token=" + token }

// queueEmail renders the organization's template and queues the email.
func (s *Service) queueEmail(ctx context.Context, tx *ent.Client, inv *ent.Invitation, r *ent.Role, link string) error {
	sys := access.SystemContext(ctx, "invitation email")
	org, err := tx.Organization.Get(sys, inv.OrganizationID)
	if err != nil {
		return err
	}
	inviter := "An administrator"
	if inv.InvitedByID != "" {
		if m, err := tx.Membership.Query().Where(membership.ID(inv.InvitedByID)).WithUser().Only(sys); err == nil {
			inviter = strings.TrimSpace(m.Edges.User.FirstName + " " + m.Edges.User.LastName)
		}
	}
	msg, err := TemplateOf(org).Render(Fields{
		Organization: org.Name, Inviter: inviter, Role: r.Name, Link: link,
		ExpiresAt: formatExpiry(inv.ExpiresAt, org.Timezone),
	})
	if err != nil {
		return err
	}
	msg.To = inv.Email
	_, err = outbox.Enqueue(ctx, tx, msg, org.ID, string(inv.ID))
	return err
}

// Resend issues a new link, which invalidates the old one, and queues the email
// again: at most once a minute and 10 times a day per invitation.
func (s *Service) Resend(ctx context.Context, id pulid.ID) (*Sent, error) {
	v := access.FromContext(ctx)
	var out *Sent
	err := store.InTx(ctx, s.client, func(ctx context.Context, tx *ent.Client) error {
		inv, r, err := s.pending(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.now()
		if inv.LastSentAt != nil && now.Sub(*inv.LastSentAt) < time.Minute {
			return errcode.New(errcode.RateLimited, "the invitation was sent less than a minute ago")
		}
		today, err := tx.AuditEvent.Query().Where(auditevent.Action("invitation.resent"),
			auditevent.TargetID(string(inv.ID)), auditevent.CreatedAtGT(now.Add(-24*time.Hour))).
			Count(access.SystemContext(ctx, "resend throttle"))
		if err != nil {
			return err
		}
		if today >= 10 {
			return errcode.New(errcode.RateLimited, "the invitation was resent 10 times today; try tomorrow or share the link")
		}
		// An expired invitation holds no seat; resending it takes one again.
		if !now.Before(inv.ExpiresAt) {
			if err := staff.Lock(ctx, tx, v.OrgID); err != nil {
				return err
			}
			if err := staff.CheckSeats(ctx, tx, v.OrgID, 1, now); err != nil {
				return err
			}
		}
		token, hash := auth.NewOpaqueToken()
		linkToken, linkHash := auth.NewOpaqueToken()
		inv, err = tx.Invitation.UpdateOne(inv).
			SetTokenHash(hash).SetLinkTokenHash(linkHash).SetExpiresAt(now.Add(s.ttl)).AddSendCount(1).SetLastSentAt(now).
			SetDeliveryStatus(invitation.DeliveryStatusQUEUED).Save(ctx)
		if err != nil {
			return err
		}
		if err := s.queueEmail(ctx, tx, inv, r, s.link(token)); err != nil {
			return err
		}
		out = &Sent{Invitation: inv, Link: s.link(linkToken)}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "invitation.resent", TargetType: "Invitation", TargetID: inv.ID})
	})
	return out, err
}

// Revoke withdraws a pending invitation.
func (s *Service) Revoke(ctx context.Context, id pulid.ID) (*ent.Invitation, error) {
	v := access.FromContext(ctx)
	var out *ent.Invitation
	err := store.InTx(ctx, s.client, func(ctx context.Context, tx *ent.Client) error {
		inv, _, err := s.pending(ctx, tx, id)
		if err != nil {
			return err
		}
		if out, err = tx.Invitation.UpdateOne(inv).SetStatus(invitation.StatusREVOKED).Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "invitation.revoked", TargetType: "Invitation", TargetID: inv.ID})
	})
	return out, err
}

// pending loads a pending invitation for a role the viewer may invite to.
func (s *Service) pending(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Invitation, *ent.Role, error) {
	inv, err := tx.Invitation.Query().Where(invitation.ID(id)).WithRole().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, errcode.New(errcode.NotFound, "invitation not found")
	}
	if err != nil {
		return nil, nil, err
	}
	if inv.Status != invitation.StatusPENDING {
		return nil, nil, errcode.New(errcode.Conflict, "the invitation is %s", strings.ToLower(string(inv.Status)))
	}
	if err := access.FromContext(ctx).CheckManage(access.MembersInvite, "", inv.Edges.Role.Key, ""); err != nil {
		return nil, nil, err
	}
	return inv, inv.Edges.Role, nil
}

// Preview is what the person who opens an invitation link sees.
type Preview struct {
	OrganizationName, InviterName, RoleName, Email string
	ExpiresAt                                      time.Time
	ExistingAccount                                bool
}

var errInvalid = errcode.New(errcode.InvitationInvalid, "this invitation link is invalid, expired, revoked or already used; ask for a new one")

// find returns the pending, unexpired invitation of a token, and whether the
// token is the email's (which proves the address) rather than the shareable
// link's.
func (s *Service) find(ctx context.Context, tx *ent.Client, token string) (*ent.Invitation, bool, error) {
	hash := auth.HashToken(token)
	inv, err := tx.Invitation.Query().Where(ofToken(hash)).WithRole().WithOrganization().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, false, errInvalid
	}
	if err != nil {
		return nil, false, err
	}
	if inv.Status != invitation.StatusPENDING || !s.now().Before(inv.ExpiresAt) {
		return nil, false, errInvalid
	}
	return inv, bytes.Equal(inv.TokenHash, hash), nil
}

func ofToken(hash []byte) predicate.Invitation {
	return invitation.Or(invitation.TokenHash(hash), invitation.LinkTokenHash(hash))
}

// Show previews an invitation for whoever holds its link.
func (s *Service) Show(ctx context.Context, token string) (*Preview, error) {
	sys := access.SystemContext(ctx, "invitation preview")
	inv, emailed, err := s.find(sys, s.client, token)
	if err != nil {
		return nil, err
	}
	p := &Preview{OrganizationName: inv.Edges.Organization.Name, RoleName: inv.Edges.Role.Name,
		Email: inv.Email, ExpiresAt: inv.ExpiresAt}
	if inv.InvitedByID != "" {
		if m, err := s.client.Membership.Query().Where(membership.ID(inv.InvitedByID)).WithUser().Only(sys); err == nil {
			p.InviterName = strings.TrimSpace(m.Edges.User.FirstName + " " + m.Edges.User.LastName)
		}
	}
	// Through the email, an unverified login is the address owner's to take: they
	// join as a new person would, setting the password.
	who := []predicate.User{user.Email(inv.Email)}
	if emailed {
		who = append(who, user.EmailVerifiedAtNotNil())
	}
	p.ExistingAccount, err = s.client.User.Query().Where(who...).Exist(sys)
	return p, err
}

// AcceptInput accepts an invitation: a new person sets a password (and may
// correct their name); a person with a login is signed in already or gives
// their password.
type AcceptInput struct {
	Token, Password     string
	FirstName, LastName *string
	Phone               *string
}

// Accept turns an invitation into a membership and signs the person in to the
// organization. It is safe under concurrency: the invitation is claimed by one
// conditional update, so parallel accepts make one membership. A removed
// membership is restored rather than duplicated. The invitation's role, grants
// and groups are checked again against the inviter's rights of today.
//
// The email's token proves the address: a new login starts verified, and an
// unverified login passes to whoever accepts (auth.ProveAddress), with the
// password they give. The shareable link's token proves nothing: a new login
// starts unverified, and the membership joined is one its owner reviews once the
// address is proved.
func (s *Service) Accept(ctx context.Context, in AcceptInput) (*auth.Session, error) {
	sys := access.SystemContext(ctx, "accept invitation")
	v := access.FromContext(ctx)
	var proven pulid.ID
	var takeover bool
	if v == nil {
		var err error
		if proven, takeover, err = s.proveLogin(ctx, in); err != nil {
			return nil, err
		}
	}
	var userID, org pulid.ID
	err := store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
		inv, emailed, err := s.find(ctx, tx, in.Token)
		if err != nil {
			return err
		}
		// Claim first: a parallel accept waits on this row and then finds it taken.
		n, err := tx.Invitation.Update().
			Where(invitation.ID(inv.ID), invitation.StatusEQ(invitation.StatusPENDING)).
			SetStatus(invitation.StatusACCEPTED).SetAcceptedAt(s.now()).Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return errInvalid
		}
		if err := s.checkInviter(ctx, tx, inv); err != nil {
			return err
		}
		u, err := s.accepter(ctx, tx, inv, emailed, v, proven, takeover, in)
		if err != nil {
			return err
		}
		if err := completeAccepter(ctx, tx, inv, u, in); err != nil {
			return err
		}
		m, err := s.join(ctx, tx, inv, u, !emailed && u.EmailVerifiedAt == nil)
		if err != nil {
			return err
		}
		userID, org = u.ID, inv.OrganizationID
		return audit.Record(access.NewContext(ctx, nil), tx, org, audit.Event{Action: "invitation.accepted",
			TargetType: "Membership", TargetID: m.ID, Data: map[string]any{"invitation": inv.ID, "role": inv.Edges.Role.Key}})
	})
	if errors.Is(err, errInvalid) && v != nil {
		// Accepting again, signed in as the person who joined, is not an error.
		if org, ok := s.joinedBy(sys, in.Token, v.UserID); ok {
			return s.auth.SignIn(ctx, v.UserID, org)
		}
	}
	if err != nil {
		return nil, err
	}
	return s.auth.SignIn(ctx, userID, org)
}

// joinedBy reports whether the invitation of a token was accepted by the user,
// who is still an active member of its organization.
func (s *Service) joinedBy(ctx context.Context, token string, userID pulid.ID) (pulid.ID, bool) {
	inv, err := s.client.Invitation.Query().Where(ofToken(auth.HashToken(token)),
		invitation.StatusEQ(invitation.StatusACCEPTED)).Only(ctx)
	if err != nil {
		return "", false
	}
	ok, err := s.client.Membership.Query().Where(
		membership.OrganizationID(inv.OrganizationID), membership.UserID(userID),
		access.ActiveAt(s.now()), membership.RemovedAtIsNil(),
		membership.HasUserWith(user.Email(inv.Email)),
	).Exist(ctx)
	return inv.OrganizationID, err == nil && ok
}

// checkInviter refuses an invitation whose inviter may no longer give what it gives.
func (s *Service) checkInviter(ctx context.Context, tx *ent.Client, inv *ent.Invitation) error {
	if inv.InvitedByID == "" {
		return errInvalid
	}
	m, err := tx.Membership.Query().Where(membership.ID(inv.InvitedByID)).WithRole().Only(ctx)
	now := s.now()
	if err != nil || access.StatusAt(m.Status, m.DisabledUntil, now) != membership.StatusACTIVE || m.RemovedAt != nil {
		return errcode.New(errcode.InvitationInvalid, "the person who invited you can no longer add members; ask for a new invitation")
	}
	r := m.Edges.Role
	inviter := access.NewViewer(m.UserID, "", &access.Membership{
		OrgID: m.OrganizationID, MembershipID: m.ID, RoleID: r.ID, RoleKey: r.Key, GroupScope: string(m.GroupScope),
		RolePermissions: r.Permissions, Grants: access.LiveGrants(m.Grants, m.GrantExpiries, now), Revokes: m.Revokes,
		Manages: r.Manages, GroupScopes: r.GroupScopes,
	})
	if inviter.CheckManage(access.MembersInvite, "", inv.Edges.Role.Key, "") != nil || inviter.CheckGiveIn(ctx, tx, "grants", inv.Grants) != nil {
		return errcode.New(errcode.InvitationInvalid, "the person who invited you can no longer give this role; ask for a new invitation")
	}
	return nil
}

// proveLogin checks the password of the login that an invitation's email has
// already, and returns its id, or "" when there is none yet. It runs before the
// acceptance's transaction, through auth's one password check, so that a wrong
// password counts towards the lock even though the acceptance then rolls back,
// and a locked login cannot be signed in here. Through the email's token, an
// unverified login needs no password: it is taken over (takeover is true).
func (s *Service) proveLogin(ctx context.Context, in AcceptInput) (id pulid.ID, takeover bool, err error) {
	sys := access.SystemContext(ctx, "accept invitation")
	inv, emailed, err := s.find(sys, s.client, in.Token)
	if err != nil {
		return "", false, err
	}
	u, err := s.client.User.Query().Where(user.Email(inv.Email)).Only(sys)
	if ent.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if emailed && u.EmailVerifiedAt == nil {
		return u.ID, true, nil
	}
	u, err = s.auth.CheckPassword(ctx, user.Email(inv.Email), in.Password)
	if errcode.Is(err, errcode.InvalidCredentials) {
		return "", false, errWrongPassword(inv.Email)
	}
	if err != nil {
		return "", false, err
	}
	return u.ID, false, nil
}

func errWrongPassword(email string) error {
	return errcode.New(errcode.InvalidCredentials, "you already have a login with %s: give its password, or sign in first", email)
}

// accepter returns the user who accepts: the signed-in one (whose email must be
// the invitation's), the existing login whose password proveLogin checked or
// that the email's token takes over, or a new one.
func (s *Service) accepter(ctx context.Context, tx *ent.Client, inv *ent.Invitation, emailed bool, v *access.Viewer, proven pulid.ID, takeover bool, in AcceptInput) (*ent.User, error) {
	if v != nil {
		u, err := tx.User.Get(ctx, v.UserID)
		if err != nil {
			return nil, err
		}
		if u.Email != inv.Email {
			return nil, errcode.New(errcode.InvitationInvalid,
				"this invitation is for %s, and you are signed in as %s: sign in with %s to accept it", inv.Email, u.Email, inv.Email)
		}
		if emailed && u.EmailVerifiedAt == nil {
			return s.takeOver(ctx, tx, inv, u, in, false)
		}
		return u, nil
	}
	u, err := tx.User.Query().Where(user.Email(inv.Email)).Only(ctx)
	if err == nil {
		// A login created since the check was never proved.
		if u.ID != proven {
			return nil, errWrongPassword(inv.Email)
		}
		if takeover {
			return s.takeOver(ctx, tx, inv, u, in, true)
		}
		return u, nil
	}
	if !ent.IsNotFound(err) {
		return nil, err
	}
	first, last, err := newPerson(inv, in)
	if err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	phone := in.Phone
	if phone == nil && inv.Phone != "" {
		phone = &inv.Phone
	}
	create := tx.User.Create().SetEmail(inv.Email).SetPasswordHash(hash).
		SetFirstName(first).SetLastName(last).SetNillablePhone(phone)
	if emailed {
		create.SetEmailVerifiedAt(s.now())
	}
	u, err = create.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, errInvalid
	}
	return u, err
}

// takeOver proves an unverified login's address with the invitation's email:
// the login passes to the person accepting, with the password they give
// (required when they are not signed in).
func (s *Service) takeOver(ctx context.Context, tx *ent.Client, inv *ent.Invitation, u *ent.User, in AcceptInput, needPassword bool) (*ent.User, error) {
	proof := auth.Proof{How: "invitation email"}
	if needPassword || in.Password != "" {
		first, last, err := newPerson(inv, in)
		if err != nil {
			return nil, err
		}
		proof.Password, proof.FirstName, proof.LastName = in.Password, first, last
		if in.Phone != nil {
			proof.Phone = *in.Phone
		}
	}
	proved, err := s.auth.ProveAddress(ctx, tx, u.ID, proof)
	if err != nil {
		return nil, err
	}
	if !proved && needPassword {
		// Proved another way meanwhile: the login is its owner's now.
		return nil, errWrongPassword(inv.Email)
	}
	return tx.User.Get(ctx, u.ID)
}

// newPerson checks the password of a person who joins without a login of
// theirs, and returns their name: as given, or as invited.
func newPerson(inv *ent.Invitation, in AcceptInput) (first, last string, err error) {
	if err := auth.CheckPasswordPolicy("password", in.Password); err != nil {
		return "", "", err
	}
	first, last = inv.FirstName, inv.LastName
	if in.FirstName != nil && strings.TrimSpace(*in.FirstName) != "" {
		first = strings.TrimSpace(*in.FirstName)
	}
	if in.LastName != nil {
		last = strings.TrimSpace(*in.LastName)
	}
	if first == "" {
		return "", "", errcode.Input("firstName", "first name is required")
	}
	return first, last, nil
}

// join creates the membership, or restores a removed one so that its history
// stays in one row. unverified marks a membership joined without proof of the
// address.
func (s *Service) join(ctx context.Context, tx *ent.Client, inv *ent.Invitation, u *ent.User, unverified bool) (*ent.Membership, error) {
	groups := make([]pulid.ID, len(inv.GroupIds))
	for i, id := range inv.GroupIds {
		groups[i] = pulid.ID(id)
	}
	liveGroups, err := tx.Group.Query().Where(group.OrganizationID(inv.OrganizationID), group.IDIn(groups...)).IDs(ctx)
	if err != nil {
		return nil, err
	}
	scope := membership.GroupScope(inv.Edges.Role.DefaultGroupScope)
	existing, err := tx.Membership.Query().Where(membership.OrganizationID(inv.OrganizationID), membership.UserID(u.ID)).Only(ctx)
	switch {
	case err == nil && existing.RemovedAt == nil:
		return nil, errcode.New(errcode.Conflict, "you are already a member of this organization")
	case err != nil && !ent.IsNotFound(err):
		return nil, err
	}
	// Under the organization's lock, parallel acceptances count each other's
	// seats, and namesakes, who would pick the same First.Last, take turns.
	// The invitation, claimed already, no longer counts: the member takes its seat.
	if err := staff.Lock(ctx, tx, inv.OrganizationID); err != nil {
		return nil, err
	}
	if err := staff.CheckSeats(ctx, tx, inv.OrganizationID, 1, s.now()); err != nil {
		return nil, err
	}
	if existing != nil {
		return tx.Membership.UpdateOne(existing).
			ClearRemovedAt().SetStatus(membership.StatusACTIVE).ClearDisabledUntil().SetRoleID(inv.RoleID).
			SetGrants(inv.Grants).ClearGrantExpiries().ClearNextGrantExpiry().SetRevokes([]string{}).SetGroupScope(scope).
			ClearGroups().AddGroupIDs(liveGroups...).SetLastUsedAt(s.now()).SetUnverifiedJoin(unverified).Save(ctx)
	}
	username, err := staff.UniqueUsername(ctx, tx, inv.OrganizationID, organization.Username(u.FirstName, u.LastName))
	if err != nil {
		return nil, err
	}
	return tx.Membership.Create().
		SetOrganizationID(inv.OrganizationID).SetUserID(u.ID).SetRoleID(inv.RoleID).
		SetUsername(username).SetUsernameKey(strings.ToLower(username)).
		SetGrants(inv.Grants).SetGroupScope(scope).AddGroupIDs(liveGroups...).
		SetLastUsedAt(s.now()).SetUnverifiedJoin(unverified).Save(ctx)
}

// SetDelivery records the outcome of an invitation email.
func SetDelivery(ctx context.Context, client *ent.Client, id string, sent bool) error {
	if !strings.HasPrefix(id, pulid.InvitationPrefix) {
		return nil
	}
	status := invitation.DeliveryStatusFAILED
	if sent {
		status = invitation.DeliveryStatusSENT
	}
	sys := access.SystemContext(ctx, "delivery status")
	err := client.Invitation.UpdateOneID(pulid.ID(id)).SetDeliveryStatus(status).Exec(sys)
	if ent.IsNotFound(err) {
		return nil
	}
	return err
}
