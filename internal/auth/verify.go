package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/ent/emailverification"
	"staffroom/ent/membership"
	"staffroom/ent/outboxemail"
	"staffroom/ent/predicate"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/session"
	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	staffmail "staffroom/internal/mail"
	"staffroom/internal/outbox"
	"staffroom/internal/store"
)

// VerificationTTL is how long a verification link stays valid.
const VerificationTTL = 24 * time.Hour

// Verification emails to one login are limited: one a minute and
// verificationsPerDay a day. Over the limit the request answers the same and
// sends nothing (a password reset also proves the address).
const verificationsPerDay = 10

// SignUpResult is sign-up's answer. It is the same whether the address is new,
// belongs to an unverified login or to a verified one, so that it reveals
// nothing about the address.
type SignUpResult struct {
	Email string
}

// SignUp starts a login. For a new address it creates the login, unverified,
// and emails a verification link; for an unverified login's address it emails a
// link that, once followed, gives the login to whoever follows it with the
// password chosen here; for a verified login's address it emails the owner a
// notice instead. Nobody is signed in: VerifyEmail does that.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (*SignUpResult, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if err := CheckPasswordPolicy("password", in.Password); err != nil {
		return nil, err
	}
	first, last := strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	if first == "" {
		return nil, errcode.Input("firstName", "first name is required")
	}
	// Every path hashes once, so that the answer takes as long whatever the address.
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	sys := access.SystemContext(ctx, "sign up")
	pending := pendingSignUp{passwordHash: hash, first: first, last: last, phone: in.Phone}
	err = store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
		return s.signUp(ctx, tx, email, pending)
	})
	if ent.IsConstraintError(err) {
		// A parallel sign-up created the login first: it is now an unverified one.
		err = store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
			return s.signUp(ctx, tx, email, pending)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("auth: sign up: %w", err)
	}
	return &SignUpResult{Email: email}, nil
}

type pendingSignUp struct {
	passwordHash, first, last string
	phone                     *string
}

func (s *Service) signUp(ctx context.Context, tx *ent.Client, email string, p pendingSignUp) error {
	// The login's row is held until the end, so that parallel sign-ups count
	// the links and notices sent before them one after the other.
	u, err := s.lockUser(tx.User.Query().Where(user.Email(email))).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		u, err = tx.User.Create().
			SetEmail(email).SetPasswordHash(p.passwordHash).
			SetFirstName(p.first).SetLastName(p.last).SetNillablePhone(p.phone).
			Save(ctx)
		if err != nil {
			return err
		}
		return s.sendVerification(ctx, tx, u, p)
	case err != nil:
		return err
	case u.EmailVerifiedAt == nil:
		return s.sendVerification(ctx, tx, u, p)
	}
	return s.noticeSignUp(ctx, tx, u)
}

// ResendVerification emails a new verification link to an unverified login's
// address. The link carries no password: following it asks for one. It does
// nothing for other addresses and answers the same.
func (s *Service) ResendVerification(ctx context.Context, rawEmail string) error {
	email := strings.ToLower(strings.TrimSpace(rawEmail))
	sys := access.SystemContext(ctx, "resend verification")
	return store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
		u, err := s.lockUser(tx.User.Query().Where(user.Email(email), user.EmailVerifiedAtIsNil())).Only(ctx)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("auth: resend verification: %w", err)
		}
		return s.sendVerification(ctx, tx, u, pendingSignUp{})
	})
}

// sendVerification stores a link and queues its email, unless the login had
// its limit of them.
func (s *Service) sendVerification(ctx context.Context, tx *ent.Client, u *ent.User, p pendingSignUp) error {
	now := s.now()
	if throttled, err := s.verificationThrottled(ctx, tx, u.ID, now); err != nil || throttled {
		return err
	}
	token, hash := NewOpaqueToken()
	create := tx.EmailVerification.Create().
		SetUserID(u.ID).SetTokenHash(hash).SetCreatedAt(now).SetExpiresAt(now.Add(VerificationTTL)).
		SetFirstName(p.first).SetLastName(p.last).SetNillablePhone(p.phone)
	if err := create.Exec(ctx); err != nil {
		return err
	}
	link := strings.TrimRight(s.settings.PublicURL, "/") + "/verify-email?token=" + token
	name := p.first
	if name == "" {
		name = u.FirstName
	}
	_, err := outbox.Enqueue(ctx, tx, staffmail.Message{
		To:      u.Email,
		Subject: "Confirm your email address for Staffroom",
		Text: fmt.Sprintf("Hello %s,\n\nSomeone, we hope you, signed up for Staffroom with this address. "+
			"Open this link within 24 hours to confirm it; you will be asked for your password:\n\n%s\n\n"+
			"If it was not you, do not open the link: ignore this email and nothing changes.\n", name, link),
	}, "", string(u.ID))
	return err
}

func (s *Service) verificationThrottled(ctx context.Context, tx *ent.Client, userID pulid.ID, now time.Time) (bool, error) {
	recent, err := tx.EmailVerification.Query().
		Where(emailverification.UserID(userID), emailverification.CreatedAtGT(now.Add(-24*time.Hour))).
		Order(ent.Desc(emailverification.FieldCreatedAt)).All(ctx)
	if err != nil {
		return false, err
	}
	return len(recent) >= verificationsPerDay || (len(recent) > 0 && now.Sub(recent[0].CreatedAt) < time.Minute), nil
}

const noticeSubject = "Someone tried to sign up with your Staffroom address"

// noticeSignUp tells a verified login's owner that someone signed up with
// their address, at most once an hour.
func (s *Service) noticeSignUp(ctx context.Context, tx *ent.Client, u *ent.User) error {
	recent, err := tx.OutboxEmail.Query().Where(outboxemail.SubjectID(string(u.ID)), outboxemail.Subject(noticeSubject),
		outboxemail.CreatedAtGT(s.now().Add(-time.Hour))).Exist(ctx)
	if err != nil || recent {
		return err
	}
	_, err = outbox.Enqueue(ctx, tx, staffmail.Message{
		To:      u.Email,
		Subject: noticeSubject,
		Text: fmt.Sprintf("Hello %s,\n\nSomeone tried to sign up for Staffroom with this address, which has a login already. "+
			"Nothing changed. If it was you, log in, or reset your password if you forgot it.\n", u.FirstName),
	}, "", string(u.ID))
	return err
}

// VerifyEmail follows a verification link: it proves the login's address,
// which hands the login to whoever followed it (see ProveAddress), and signs
// them in. The password is the one chosen at sign-up, or password when given;
// a resent link carries none, so then password is required.
func (s *Service) VerifyEmail(ctx context.Context, token, password string) (*Session, error) {
	sys := access.SystemContext(ctx, "verify email")
	invalid := errcode.Input("token", "the verification link is invalid, used or expired; sign up again or log in")
	ev, err := s.client.EmailVerification.Query().Where(emailverification.TokenHash(HashToken(token))).Only(sys)
	if ent.IsNotFound(err) {
		return nil, invalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: verify email: %w", err)
	}
	if ev.UsedAt != nil || !s.now().Before(ev.ExpiresAt) {
		return nil, invalid
	}
	// The link never carries a password: whoever signed up may not be who reads
	// the address, and a password chosen by someone else must not become the
	// address owner's by a click. Confirming asks for the password — the one
	// chosen at sign-up, or a new one.
	if password == "" {
		return nil, errcode.Input("password", "enter the password for this login to confirm your address: the one you chose when you signed up, or a new one")
	}
	if err := CheckPasswordPolicy("password", password); err != nil {
		return nil, err
	}
	proof := Proof{How: "verification link", Password: password, FirstName: ev.FirstName, LastName: ev.LastName, Phone: ev.Phone}
	err = store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
		// ProveAddress takes the login's row before anything else, as a reset
		// and an invitation do, so that parallel proofs queue there rather than
		// deadlock; it voids every link of the login, this one included, and
		// proves a login once: the link is used once.
		proved, err := s.ProveAddress(ctx, tx, ev.UserID, proof)
		if err != nil {
			return err
		}
		if !proved {
			// Proved already: its links went void then.
			return invalid
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	org, err := s.chooseOrganization(sys, ev.UserID, "")
	if err != nil {
		return nil, err
	}
	return s.startSession(sys, ev.UserID, org, "", time.Time{})
}

// Proof is how someone proved they read a login's address, and what they set.
type Proof struct {
	// How names the secret, for the audit log: "verification link",
	// "password reset" or "invitation email".
	How string
	// Password, when set, replaces the login's password; so do the names.
	Password            string
	FirstName, LastName string
	Phone               string
	// hash is a password hashed already: a sign-up's, kept with its link.
	hash string
}

// ProveAddress marks an unverified login's address as verified by whoever
// holds a secret sent to it, in tx, and reports whether it was unverified. The
// address's owner wins: their password replaces the one set by whoever created
// the login, every session of the login ends, outstanding verification links go
// void, and the memberships the login gained without proof (through a shareable
// link, or by creating an organization) grant nothing until the owner keeps
// them. Each of those memberships' organizations gets an audit event. The
// conditional update serializes parallel proofs: one of them wins.
func (s *Service) ProveAddress(ctx context.Context, tx *ent.Client, userID pulid.ID, p Proof) (bool, error) {
	now := s.now()
	n, err := tx.User.Update().Where(user.ID(userID), user.EmailVerifiedAtIsNil()).
		SetEmailVerifiedAt(now).SetEmailUnverifiedLegacy(false).Save(ctx)
	if err != nil || n == 0 {
		return false, err
	}
	if p.hash == "" && p.Password != "" {
		if p.hash, err = HashPassword(p.Password); err != nil {
			return false, err
		}
	}
	if p.hash != "" {
		up := tx.User.UpdateOneID(userID).SetPasswordHash(p.hash).SetPasswordChangedAt(now).
			SetPasswordTemporary(false).SetFailedLogins(0).ClearLockedAt()
		if p.FirstName != "" {
			up.SetFirstName(p.FirstName).SetLastName(p.LastName)
			if p.Phone != "" {
				up.SetPhone(p.Phone)
			}
		}
		if err := up.Exec(ctx); err != nil {
			return false, err
		}
	}
	if err := s.revokeSessions(ctx, tx, session.UserID(userID)); err != nil {
		return false, err
	}
	if err := tx.EmailVerification.Update().Where(emailverification.UserID(userID), emailverification.UsedAtIsNil()).
		SetUsedAt(now).Exec(ctx); err != nil {
		return false, err
	}
	review, err := tx.Membership.Query().Where(membership.UserID(userID), membership.UnverifiedJoin(true),
		membership.RemovedAtIsNil()).All(ctx)
	if err != nil {
		return false, err
	}
	for _, m := range review {
		if err := audit.Record(access.NewContext(ctx, nil), tx, m.OrganizationID, audit.Event{
			Action: "member.email_verified", TargetType: "Membership", TargetID: m.ID, Actor: m.ID,
			Data: map[string]any{"proof": p.How, "review": true},
		}); err != nil {
			return false, err
		}
	}
	s.log.InfoContext(ctx, "email address proved", "user", userID, "proof", p.How, "memberships_to_review", len(review))
	return true, nil
}

// underReview matches the memberships that a login gained without proof of its
// address, now that the address is proved: they wait for their owner's review.
func underReview() predicate.Membership {
	return membership.And(membership.UnverifiedJoin(true), membership.HasUserWith(user.EmailVerifiedAtNotNil()))
}

// grantsAccess matches memberships that may open an organization: active, not
// removed and not waiting for review.
func grantsAccess() predicate.Membership {
	return membership.And(access.ActiveAt(time.Now()), membership.RemovedAtIsNil(),
		membership.Not(underReview()))
}

// MembershipsToReview returns the memberships that a user's login gained
// before its address was proved, which grant nothing until the user keeps
// them, with their organization and role (cols narrows what is loaded).
func (s *Service) MembershipsToReview(ctx context.Context, userID pulid.ID, cols Columns) ([]*ent.Membership, error) {
	sys := access.SystemContext(ctx, "memberships to review")
	return s.listMemberships(sys, cols, []predicate.Membership{membership.UserID(userID), membership.RemovedAtIsNil(), underReview()},
		membership.OrderOption(ent.Asc(membership.FieldJoinedAt)))
}

// ReviewMembership keeps or leaves one of the viewer's memberships under
// review. Keeping makes it an ordinary membership; leaving removes it (the
// last-owner rule does not bind here: nobody who proved the address ever
// chose to own that organization). Either is audited in its organization.
func (s *Service) ReviewMembership(ctx context.Context, v *access.Viewer, id pulid.ID, keep bool) (*ent.Membership, error) {
	sys := access.SystemContext(ctx, "review membership")
	var out *ent.Membership
	err := store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
		m, err := tx.Membership.Query().Where(membership.ID(id), membership.UserID(v.UserID),
			membership.RemovedAtIsNil(), underReview()).Only(ctx)
		if ent.IsNotFound(err) {
			return errcode.New(errcode.NotFound, "no membership of yours waits for review with this id")
		}
		if err != nil {
			return err
		}
		up := tx.Membership.UpdateOne(m).SetUnverifiedJoin(false)
		action := "member.kept_after_review"
		if !keep {
			up.SetRemovedAt(s.now())
			action = "member.left_after_review"
		}
		if err := up.Exec(ctx); err != nil {
			return err
		}
		if err := audit.Record(access.NewContext(ctx, nil), tx, m.OrganizationID, audit.Event{
			Action: action, TargetType: "Membership", TargetID: m.ID, Actor: m.ID,
		}); err != nil {
			return err
		}
		out, err = tx.Membership.Query().Where(membership.ID(m.ID)).WithOrganization().WithRole().Only(ctx)
		return err
	})
	return out, err
}

// TrustExistingEmails marks as verified every login that existed, unverified,
// before addresses were verified, with the memberships they had: for
// installations that trust their data (STAFFROOM_TRUST_EXISTING_EMAILS). It
// returns how many logins it marked; logins created since are untouched.
func (s *Service) TrustExistingEmails(ctx context.Context) (int, error) {
	sys := access.SystemContext(ctx, "trust existing emails")
	var n int
	err := store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
		ids, err := tx.User.Query().Where(user.EmailUnverifiedLegacy(true), user.EmailVerifiedAtIsNil()).IDs(ctx)
		if err != nil || len(ids) == 0 {
			return err
		}
		n = len(ids)
		if err := tx.Membership.Update().Where(membership.UserIDIn(ids...)).SetUnverifiedJoin(false).Exec(ctx); err != nil {
			return err
		}
		return tx.User.Update().Where(user.IDIn(ids...)).
			SetEmailVerifiedAt(s.now()).SetEmailUnverifiedLegacy(false).Exec(ctx)
	})
	if err != nil {
		return 0, fmt.Errorf("auth: trust existing emails: %w", err)
	}
	return n, nil
}
